"""The rules registry: every rule a partnership must obey, and every limit across
partnerships, as one named object each.

* :mod:`.group` holds the **partnership rules** of SPEC §3 (tier, area, exclude, max_size,
  the geography rules, apart, commitment, host_min_commitment, seek (a ``match`` listing's
  seekers do not host), npv, robust). Each has the hooks the
  engine needs: which councils may be members and which pairs may be together (pruning
  during enumeration), whether whole member sets, hosts and depths pass (vectorised), and
  the sentence ``evaluate`` prints when a group breaks it.
* :mod:`.limits` holds the **limits across partnerships** (packing, locked, keep_existing,
  max_partnerships, max_hosted, budget; :mod:`.headroom` the headroom of SPEC §8): the rows
  each adds to the master problem (MIP and LP alike) and the sentence ``evaluate`` prints when
  a grouping breaks it. ``LIMITS`` lists them in the order the master problem states them.

A new rule is one new entry here, one check under the same name in ``optimiser/verify`` (which
states every rule again in its own code) and one brute-force case; a test fails when the two
sets of names differ.
"""

from .group import GROUP_RULES, feasible_sets, rule_breaks
from .headroom import HEADROOM
from .limits import BUDGET, KEEP_EXISTING, LOCKED, MAX_HOSTED, MAX_PARTNERSHIPS, PACKING

#: every limit across partnerships, in the order the master problem states its rows
LIMITS = (PACKING, LOCKED, KEEP_EXISTING, MAX_PARTNERSHIPS, MAX_HOSTED, BUDGET, HEADROOM)

#: every rule and limit by name
RULES = {rule.name: rule for rule in (*GROUP_RULES, *LIMITS)}

__all__ = ["GROUP_RULES", "LIMITS", "RULES", "feasible_sets", "rule_breaks"]
