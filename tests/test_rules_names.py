"""The verifier states every rule of the engine again, under the same name, in its own code.

* the names of ``optimiser.verify.RULE_CHECKS`` are exactly those of the engine's rules
  registry ``optimiser.rules.RULES``: a rule added to one and not the other fails here;
* ``optimiser/verify/`` imports nothing of the package but errors, highs (a silent HiGHS), io and problem, so it
  cannot share code with candidates, rules, solve or plan (held by walking its ``ast``);
* the structure the report rests on: checks are named, ordered and return findings that
  carry their name; the context and the report are frozen.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import importlib
import tomllib
from pathlib import Path

import pytest

import test_verify as tiny
from optimiser.errors import Finding
from optimiser.io.instance import load_instance
from optimiser.io.model import parse_model

verify_package = importlib.import_module("optimiser.verify")  # the package (optimiser.verify is also the function)
from optimiser.verify import checks as verify_checks  # noqa: E402
from optimiser.verify.context import build_context  # noqa: E402

VERIFY_DIR = Path(verify_package.__file__).parent
ALLOWED = {"errors", "highs", "io", "problem"}  # the modules of optimiser that verify may import


def test_rule_checks_carry_the_names_of_the_engines_rules():
    from optimiser.rules import RULES  # the engine's registry; must import, not skip

    assert set(verify_package.RULE_CHECKS) == set(RULES), (
        f"only in optimiser.rules.RULES: {sorted(set(RULES) - set(verify_package.RULE_CHECKS))}; "
        f"only in optimiser.verify.RULE_CHECKS: {sorted(set(verify_package.RULE_CHECKS) - set(RULES))}"
    )


def _package_imports(path: Path) -> list[tuple[int, str]]:
    """(line, first part of the optimiser module) of every import of the package in ``path``;
    'verify' for imports within optimiser.verify."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level == 1:  # from .x import ...: within verify
                found.append((node.lineno, "verify"))
            elif node.level == 2:  # from ..x import ... or from .. import x
                names = [module] if module else [a.name for a in node.names]
                found += [(node.lineno, n.split(".")[0]) for n in names]
            elif node.level > 2:
                found.append((node.lineno, f"{'.' * node.level}{module}"))
            elif module == "optimiser":
                found += [(node.lineno, a.name) for a in node.names]
            elif module.startswith("optimiser."):
                found.append((node.lineno, module.split(".")[1]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "optimiser":
                    found.append((node.lineno, "optimiser"))
                elif alias.name.startswith("optimiser."):
                    found.append((node.lineno, alias.name.split(".")[1]))
    return found


def test_verify_imports_only_errors_io_and_problem():
    files = sorted(VERIFY_DIR.glob("*.py"))
    assert {f.name for f in files} >= {"__init__.py", "context.py", "figures.py", "checks.py"}
    wrong = [
        f"{path.name}:{line} imports optimiser.{name}"
        for path in files
        for line, name in _package_imports(path)
        if name not in ALLOWED | {"verify"}
    ]
    assert not wrong, "optimiser.verify must stay independent of the engine: " + "; ".join(wrong)


def test_the_import_walk_sees_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from ..rules import RULES\nfrom optimiser.solve import x\nimport optimiser.plan\nfrom .. import candidates\n")
    assert [name for _, name in _package_imports(bad)] == ["rules", "solve", "plan", "candidates"]


# ---------------------------------------------------------------- the structure of the checks


def test_checks_are_named_and_ordered():
    checks = verify_package.CHECKS
    assert list(checks)[:3] == ["plan", "options", "declared_tiers"]
    assert list(checks)[-3:] == ["councils", "totals", "solver"]
    assert set(verify_package.RULE_CHECKS) <= set(checks)
    assert all(verify_package.RULE_CHECKS[name] is checks[name] for name in verify_package.RULE_CHECKS)
    assert set(verify_checks.PARTNERSHIP_CHECKS) <= set(checks)
    assert all(callable(check) for check in checks.values())


def test_partnership_steps_cover_every_partnership_check_once():
    expanded = []
    for step in verify_checks.PARTNERSHIP_ORDER:
        if step == "eligibility":
            expanded += ["tier", "area", "exclude"]
        elif step == "geography":
            expanded += list(verify_checks.GEOGRAPHY_RULES)
        else:
            expanded.append(step)
    assert sorted(expanded) == sorted(verify_checks.PARTNERSHIP_CHECKS)
    assert len(expanded) == len(set(expanded))


@pytest.fixture
def tiny_run(tmp_path):
    """The tiny instance and model of test_verify, and a plan that breaks many rules at once."""
    (tmp_path / "tiny.toml").write_text(tiny.MODEL_TOML)
    folder = tmp_path / "tiny-instance"
    folder.mkdir()
    for name, text in (
        ("instance.toml", tiny.INSTANCE_TOML),
        ("councils.csv", tiny.COUNCILS_CSV),
        ("adjacency.csv", tiny.ADJACENCY_CSV),
        ("spend.csv", tiny.SPEND_CSV),
        ("platforms.csv", tiny.PLATFORMS_CSV),
        ("partnerships.csv", tiny.PARTNERSHIPS_CSV),
    ):
        (folder / name).write_text(text)
    instance = load_instance(folder)
    model = parse_model(tomllib.loads(tiny.MODEL_TOML), "tiny.toml", tmp_path / "tiny.toml")
    parts = tiny.good_partnerships() + [
        tiny.partnership("P3", "rb", ["C", "D"], "C", "standardised", "vendor-a"),  # commitment, km, host
        {**tiny.partnership("P4", "ict", ["B", "D"], "B", "shared-management"), "npv": 1.0},  # region, money
    ]
    plan = tiny.build_plan(parts, {"area": ["R1", "R2"], "exclude": ["B:ict"], "apart": ["A:B"], "budget": 1.0})
    plan["partnerships"].append("not an object")
    plan["partnerships"][0]["members"].append("E")  # tier (E is a county), max_size 3 kept
    return instance, model, plan


def test_every_finding_is_named_after_the_check_that_found_it(tiny_run):
    instance, model, plan = tiny_run
    report = verify_package.verify(instance, plan, model)
    assert not report.ok
    assert report.problems == [str(f) for f in report.findings]
    assert all(isinstance(f, Finding) and f.rule in verify_package.CHECKS for f in report.findings)
    rules = {f.rule for f in report.findings}
    assert {"tier", "exclude", "commitment", "apart", "budget", "same_region", "money", "partnership"} <= rules
    ctx = build_context(instance, plan, model, 1e-6)
    for name, check in verify_package.CHECKS.items():
        found = []
        if name in verify_checks.PARTNERSHIP_CHECKS:
            for part in ctx.parts:
                found += check(ctx, part)
        else:
            found = check(ctx)
        assert isinstance(found, list)
        assert all(isinstance(f, Finding) and f.rule == name for f in found), name
        assert set(found) <= set(report.findings), name


def test_the_eligibility_step_is_tier_area_and_exclude_member_by_member(tiny_run):
    instance, model, plan = tiny_run
    ctx = build_context(instance, plan, model, 1e-6)
    for part in ctx.parts:
        together = verify_checks.cp.eligibility(ctx, part)
        apart = [f for name in ("tier", "area", "exclude") for f in verify_package.RULE_CHECKS[name](ctx, part)]
        assert sorted(together, key=str) == sorted(apart, key=str)


def test_context_and_report_are_frozen(tiny_run):
    instance, model, plan = tiny_run
    before = copy.deepcopy(plan)
    ctx = build_context(instance, plan, model, 1e-6)
    report = verify_package.verify(instance, plan, model)
    assert plan == before  # the plan is read, not changed
    for obj, attribute in ((ctx, "options"), (ctx.parts[0], "members"), (report, "problems")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, attribute, None)
    with pytest.raises(TypeError):
        ctx.eligible["rb"] = ()  # read-only mappings
    assert report.summary().startswith(f"plan has {len(report.problems)} problem(s)")
