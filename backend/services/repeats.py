"""Repeat rules: validate a todo's `repeat` value and compute the next due date from it.

Accepted input (case-insensitive, any spacing): `daily`, `weekdays`, `weekly`, `monthly`,
`yearly`, or `every N days|weeks|months` (singular or plural unit). The stored, canonical
form is lower-case with single spaces; N = 1 is stored as the short name (`every 1 week`
→ `weekly`) and any other N keeps its unit in the plural (`every 2 weeks`). Equivalent
rules that are spelled differently (`every 7 days` and `weekly`) are not merged: the user
sees back the rule they chose.

Bounds for N: days 1–365, weeks 1–52, months 1–120. Each covers the longest interval that
is natural in that unit; longer ones are written in the next unit (`every 2 years` is
`every 24 months`, which is how quick add stores it).
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

Unit = Literal["day", "weekday", "week", "month"]

MAX_INTERVAL: Final[dict[str, int]] = {"day": 365, "week": 52, "month": 120}
_NAMED: Final[dict[str, tuple[Unit, int]]] = {
    "daily": ("day", 1),
    "weekdays": ("weekday", 1),
    "weekly": ("week", 1),
    "monthly": ("month", 1),
    "yearly": ("month", 12),
}
_UNITS: Final[dict[str, Unit]] = {"day": "day", "week": "week", "month": "month"}
_SHORT_NAME: Final[dict[Unit, str]] = {"day": "daily", "week": "weekly", "month": "monthly"}
# Bounded digits, no nested quantifiers: linear on any input; length is also capped first.
_EVERY = re.compile(r"every (\d{1,4}) (day|week|month)s?")
_MAX_TEXT = 40
_ALLOWED = "null, daily, weekdays, weekly, monthly, yearly or 'every N days|weeks|months'"


@dataclass(frozen=True, slots=True)
class Repeat:
    """A parsed rule: step `interval` units at a time (`weekday` always steps one working day)."""

    unit: Unit
    interval: int
    canonical: str

    def __str__(self) -> str:
        return self.canonical


def parse_repeat(value: str) -> Repeat:
    """Parse a repeat rule; raise ValueError with a message fit for a 422 `msg` if invalid."""
    text = " ".join(value.lower().split()) if len(value) <= _MAX_TEXT else ""
    if text in _NAMED:
        unit, interval = _NAMED[text]
        return Repeat(unit, interval, text)
    match = _EVERY.fullmatch(text)
    if match is None:
        raise ValueError(f"Repeat must be {_ALLOWED}")
    return make_repeat(_UNITS[match[2]], int(match[1]))


def make_repeat(unit: Unit, interval: int) -> Repeat:
    """Build a rule from its parts, checking the bounds for N (quick add builds rules this way)."""
    if unit == "weekday":
        if interval != 1:
            raise ValueError("Repeat 'weekdays' takes no interval")
        return Repeat("weekday", 1, "weekdays")
    limit = MAX_INTERVAL[unit]
    if not 1 <= interval <= limit:
        raise ValueError(f"Repeat every N {unit}s needs N from 1 to {limit}")
    if interval == 1:
        return Repeat(unit, 1, _SHORT_NAME[unit])
    return Repeat(unit, interval, f"every {interval} {unit}s")


def normalize_repeat(value: str | None) -> str | None:
    """The canonical stored form of a repeat value (None stays None); for a pydantic validator."""
    return None if value is None else parse_repeat(value).canonical


def next_due(due: date, repeat: str | Repeat, *, anchor_day: int | None = None) -> date:
    """The due date of the occurrence after one due on `due`.

    Month and year steps land on the same day of the month, or on the month's last day
    when it is shorter (31 Jan → 28/29 Feb; yearly from 29 Feb → 28 Feb). Without
    `anchor_day` the rule is memoryless: it sees only `due`, so once clamped the series
    stays on the shorter day (31 Jan → 28 Feb → 28 Mar). A caller that wants the series to
    return to its original day passes that day (e.g. the first occurrence's day, stored
    with the series) as `anchor_day`: 31 Jan → 28 Feb → 31 Mar → 30 Apr, and yearly
    29 Feb 2028 → 28 Feb 2029 → … → 29 Feb 2032. The argument is optional because today's
    todo row has no column for it; memoryless is the safe default that never needs one.
    It is ignored by day, weekday and week rules. `weekdays` goes to the next Monday to
    Friday strictly after `due`. Raises ValueError for an invalid rule or anchor day, or
    when the next date would fall after 9999-12-31.
    """
    rule = parse_repeat(repeat) if isinstance(repeat, str) else repeat
    if anchor_day is not None and not 1 <= anchor_day <= 31:
        raise ValueError("Anchor day must be from 1 to 31")
    try:
        if rule.unit == "day":
            return due + timedelta(days=rule.interval)
        if rule.unit == "week":
            return due + timedelta(weeks=rule.interval)
        if rule.unit == "weekday":
            # Friday (4) → +3, Saturday (5) → +2, otherwise the next day.
            return due + timedelta(days={4: 3, 5: 2}.get(due.weekday(), 1))
        return add_months(due, rule.interval, day=anchor_day or due.day)
    except OverflowError:
        raise ValueError("The next due date would be after 9999-12-31") from None


def add_months(start: date, months: int, *, day: int | None = None) -> date:
    """`start` moved by `months`, on `day` (default: start's day) or the month's last day."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("date out of range")
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day or start.day, last))
