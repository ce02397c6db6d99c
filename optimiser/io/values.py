"""Numbers and choices as people write them, for run options given as text (the command line)
or as Python values (the library). Every problem is an :class:`~optimiser.errors.InputError`
naming the option, in one style: ``--OPTION: 'VALUE' is not ...`` or ``--OPTION: 'VALUE'
must be ...``.

>>> amount("£5m", "--budget")
5000000.0
>>> amount("750k", "--budget"), amount("5,000,000", "--budget"), amount("1.5bn", "--budget")
(750000.0, 5000000.0, 1500000000.0)
>>> duration("90s", "--time-limit"), duration("2m", "--time-limit"), duration("1h", "--time-limit")
(90.0, 120.0, 3600.0)
>>> whole("4", "--max-size", low=2)
4
"""

from __future__ import annotations

import math
import re

from ..errors import InputError

_SCALE = {"": 1.0, "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "million": 1e6, "bn": 1e9, "b": 1e9, "billion": 1e9}
_NUMBER = r"(?P<number>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]*)?(?:e[+-]?[0-9]+)?|\.[0-9]+)"
_AMOUNT = re.compile(rf"(?P<sign>[-+]?)\s*(?:£|gbp)?\s*(?P<sign2>[-+]?)\s*{_NUMBER}\s*(?P<scale>[a-z]*)\s*(?:pounds?|gbp)?")
_DURATION = re.compile(rf"{_NUMBER}\s*(?P<unit>s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?|)")
_UNIT = {"s": 1, "m": 60, "h": 3600}

AMOUNT_EXAMPLES = "write pounds such as 750k, 5m, £1.5bn or 5,000,000"
DURATION_EXAMPLES = "write seconds such as 60 or 90s, or 10m, 1h"


def _text(value) -> str:
    return " ".join(str(value).split())


def _finite(value, option: str, what: str, examples: str) -> float:
    if isinstance(value, bool):
        raise InputError(option, f"'{value}' is not {what} ({examples})")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        raise InputError(option, f"'{value}' is not {what} ({examples})")
    if not math.isfinite(number):
        raise InputError(option, f"'{value}' is not {what} ({examples})")
    return number


def amount(value, option: str = "--budget") -> float:
    """Pounds, as a number or as text: ``5000000``, ``5m``, ``£5m``, ``5,000,000``, ``750k``,
    ``1.5bn``, ``£2.5 million``; at least 0."""
    if isinstance(value, str):
        text = _text(value).lower()
        match = _AMOUNT.fullmatch(text)
        if not match or match["scale"] not in _SCALE or (match["sign"] and match["sign2"]):
            raise InputError(option, f"'{_text(value)}' is not an amount of money ({AMOUNT_EXAMPLES})")
        number = float(match["number"].replace(",", "")) * _SCALE[match["scale"]]
        if "-" in (match["sign"] + match["sign2"]) and number:
            raise InputError(option, f"'{_text(value)}' must be an amount of 0 or more")
        return number
    number = _finite(value, option, "an amount of money", AMOUNT_EXAMPLES)
    if number < 0:
        raise InputError(option, f"'{value:g}' must be an amount of 0 or more")
    return number


def duration(value, option: str = "--time-limit") -> float:
    """Seconds, as a number or as text: ``60``, ``90s``, ``10m``, ``1h``, ``1.5 hours``; more than 0."""
    if isinstance(value, str):
        text = _text(value).lower()
        match = _DURATION.fullmatch(text)
        if not match:
            if re.fullmatch(r"-\s*[0-9.]+.*", text):
                raise InputError(option, f"'{_text(value)}' must be more than 0 seconds")
            raise InputError(option, f"'{_text(value)}' is not a time ({DURATION_EXAMPLES})")
        number = float(match["number"].replace(",", "")) * _UNIT.get(match["unit"][:1], 1)
        shown = _text(value)
    else:
        number = _finite(value, option, "a time", DURATION_EXAMPLES)
        shown = f"{value:g}"
    if number <= 0:
        raise InputError(option, f"'{shown}' must be more than 0 seconds")
    return number


def whole(value, option: str, low: int = 0, what: str = "a whole number") -> int:
    """A whole number at least ``low``, as an int or as text (``"4"``)."""
    shown = _text(value)
    if isinstance(value, bool):
        raise InputError(option, f"'{shown}' is not {what}")
    if isinstance(value, str):
        if not re.fullmatch(r"[-+]?[0-9]+", shown.replace(",", "")):
            raise InputError(option, f"'{shown}' is not {what} (write e.g. {max(low, 4)})")
        number = int(shown.replace(",", ""))
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raise InputError(option, f"'{shown}' is not {what} (write e.g. {max(low, 4)})")
    if number < low:
        raise InputError(option, f"'{shown}' must be at least {low}")
    return number


def choice(value, option: str, choices: tuple[str, ...], what: str) -> str:
    """One of ``choices``, in any case."""
    text = _text(value).lower() if isinstance(value, str) else value
    if text not in choices:
        raise InputError(option, f"'{_text(value)}' is not {what} (choose {' or '.join(choices)})")
    return text


def flag(value, option: str) -> bool:
    """True or False, also as text (true/false, yes/no, 1/0)."""
    if isinstance(value, bool):
        return value
    text = _text(value).lower() if isinstance(value, str) else None
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off", ""):
        return False
    raise InputError(option, f"'{_text(value)}' is not true or false")
