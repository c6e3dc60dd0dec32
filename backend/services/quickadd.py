"""Quick add: turn one line of text into the fields of a new todo.

`parse_quick_add("Call mom tomorrow 9am #family !4 @Home every week", today=...)` finds
tags, a priority, a list name, a due date and time and a repeat rule, removes them, and
keeps the rest as the title. The grammar, its guards against false positives and the
choice of a small hand-written parser over a date-parsing library (with the figures) are
in docs/quickadd.md.

The text is split on whitespace and scanned left to right; at each word a few matchers look
at most three words ahead, each word tested by fullmatch against a pattern with bounded or
single-class repetition only. So the parse is linear in the input whatever it holds (no
regex can backtrack catastrophically), and the input is capped at 500 characters anyway.

Two kinds of thing are recognised, and they fail differently:
- Marked ones (`#tag`, `!n`, `@list`) are unambiguous, so a malformed or conflicting one
  (`!7`, `!1 … !3`, a 31-character tag, 11 tags) is an error.
- English phrases (dates, times, repeats) may be ordinary words of a title, so only the
  first of each kind is taken and a later one stays in the title; a phrase that is not
  quite a date ("dec 32", "24/7", "3:16") is left in the title too. Only a phrase that
  can only be meant as a date or time and names none that exists is an error
  ("feb 30", "2026-02-30", "13pm").
"""

import re
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Final, Generic, TypeVar

from backend.services import repeats

MAX_TEXT: Final = 500
MAX_TAGS: Final = 10
MAX_TAG_LENGTH: Final = 30

# Each pattern is fullmatched against one word and repeats only a bounded count or a single class.
_TAG = re.compile(r"#([A-Za-z0-9_-]+)")
_PRIORITY = re.compile(r"!(\d{1,3})")
_LIST = re.compile(r"@([\w-]+)")
_DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?(,?)")
_YEAR = re.compile(r"(\d{4})")
_NUMBER = re.compile(r"(\d{1,3})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_DAY_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
_CLOCK_12 = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?")
_CLOCK_24 = re.compile(r"(\d{1,2}):(\d{2})")

_WEEKDAYS: Final = {
    name: index
    for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
_MONTHS: Final = {
    name: index + 1
    for index, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for name in names
}
_UNITS: Final = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
}
_EVERY_NAMED: Final = {"day": "daily", "weekday": "weekdays", "week": "weekly", "month": "monthly", "year": "yearly"}
_TIMES_NAMED: Final = {"noon": time(12), "midday": time(12), "midnight": time(0)}
_REPEAT_UNITS: Final[dict[str, repeats.Unit]] = {"day": "day", "week": "week", "month": "month"}
_NOT_DATES: Final = {"24/7"}  # "open 24/7" means always, not 24 July
_MAX_YEARS: Final = 10  # every N years is stored as every 12·N months; see repeats.MAX_INTERVAL


class QuickAddError(ValueError):
    """Quick-add text that cannot be turned into a todo; the message is fit for a 422 `msg`."""


@dataclass(frozen=True, slots=True)
class QuickAdd:
    """What quick add found. `priority` and `list_name` are None when not given;
    `due_date` is set whenever `due_time` or `repeat` is."""

    title: str
    tags: tuple[str, ...] = ()
    priority: int | None = None
    list_name: str | None = None
    due_date: date | None = None
    due_time: time | None = None
    repeat: str | None = None


def parse_quick_add(text: str, *, today: date) -> QuickAdd:
    """Parse quick-add text relative to `today` (the user's own date); raise QuickAddError."""
    if len(text) > MAX_TEXT:
        raise QuickAddError(f"Text is longer than {MAX_TEXT} characters")
    return _Scanner(text.split(), today).run()


_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Match(Generic[_T]):
    """A recognised phrase: its value and how many words it spans."""

    value: _T
    length: int


class _Scanner:
    def __init__(self, words: list[str], today: date) -> None:
        self.words = words
        self.lower = [word.lower() for word in words]
        self.today = today
        self.title: list[str] = []
        self.tags: set[str] = set()
        self.priority: int | None = None
        self.list_name: str | None = None
        self.due_date: date | None = None
        self.due_time: time | None = None
        self.repeat: str | None = None
        self.repeat_weekday: int | None = None

    def run(self) -> QuickAdd:
        i = 0
        while i < len(self.words):
            i += self._step(i)
        if len(self.tags) > MAX_TAGS:
            raise QuickAddError(f"More than {MAX_TAGS} tags")
        if not self.title:
            raise QuickAddError("Title is empty: add words besides the tags, list, priority, date and repeat")
        due_date = self.due_date
        if due_date is None and self.repeat is not None:
            due_date = self._first_occurrence()
        if due_date is None and self.due_time is not None:
            due_date = self.today
        return QuickAdd(
            title=" ".join(self.title),
            tags=tuple(sorted(self.tags)),
            priority=self.priority,
            list_name=self.list_name,
            due_date=due_date,
            due_time=self.due_time,
            repeat=self.repeat,
        )

    def _step(self, i: int) -> int:
        """Consume what starts at word i; return how many words were used (always ≥ 1)."""
        word = self.words[i]
        if word[0] in "#!@" and self._marked(word):
            return 1
        if self.repeat is None and (repeat := self._repeat(i)):
            self.repeat, self.repeat_weekday = repeat.value
            return repeat.length
        if self.due_date is None and (day := self._date(i)):
            self.due_date = day.value
            return day.length
        if self.due_time is None and (clock := self._time(i)):
            self.due_time = clock.value
            return clock.length
        self.title.append(word)
        return 1

    # --- marked words: #tag, !priority, @list ---------------------------------------------

    def _marked(self, word: str) -> bool:
        if tag := _TAG.fullmatch(word):
            name = tag[1].lower()
            if not any(char.isalpha() for char in name):
                return False  # "#1 priority", "bug #123": a number, not a tag
            if len(name) > MAX_TAG_LENGTH:
                raise QuickAddError(f"Tag {word} is longer than {MAX_TAG_LENGTH} characters")
            self.tags.add(name)
            return True
        if priority := _PRIORITY.fullmatch(word):
            value = int(priority[1])
            if not 1 <= value <= 5:
                raise QuickAddError(f"Priority must be !1 to !5, not {word}")
            if self.priority not in (None, value):
                raise QuickAddError(f"Give one priority, not !{self.priority} and {word}")
            self.priority = value
            return True
        if listed := _LIST.fullmatch(word):
            name = listed[1]
            if self.list_name is not None and self.list_name.casefold() != name.casefold():
                raise QuickAddError(f"Give one list, not @{self.list_name} and {word}")
            self.list_name = self.list_name or name
            return True
        return False

    # --- repeats --------------------------------------------------------------------------

    def _repeat(self, i: int) -> _Match[tuple[str, int | None]] | None:
        """every day|weekday|week|month|year, every other <unit>, every N <units>, every <weekday>."""
        if self._at(i) != "every":
            return None
        word = self._at(i + 1)
        if word in _EVERY_NAMED or word == "weekdays":
            return _Match((_EVERY_NAMED.get(word, "weekdays"), None), 2)
        if word in _WEEKDAYS:
            return _Match(("weekly", _WEEKDAYS[word]), 2)
        if word == "other":
            count, unit = 2, _UNITS.get(self._at(i + 2))
        elif number := _NUMBER.fullmatch(word):
            count, unit = int(number[1]), _UNITS.get(self._at(i + 2))
        else:
            return None
        if unit is None:
            return None
        if unit == "year":
            if not 1 <= count <= _MAX_YEARS:
                raise QuickAddError(f"Repeat every N years needs N from 1 to {_MAX_YEARS}")
            if count == 1:
                return _Match(("yearly", None), 3)
            unit, count = "month", 12 * count
        try:
            rule = repeats.make_repeat(_REPEAT_UNITS[unit], count)
        except ValueError as error:
            raise QuickAddError(str(error)) from None
        return _Match((rule.canonical, None), 3)

    def _first_occurrence(self) -> date:
        """A repeat without a date starts today, or on the first day the rule allows."""
        if self.repeat_weekday is not None:
            return self.today + timedelta(days=(self.repeat_weekday - self.today.weekday()) % 7)
        if self.repeat == "weekdays" and self.today.weekday() >= 5:
            return self.today + timedelta(days=7 - self.today.weekday())
        return self.today

    # --- dates ----------------------------------------------------------------------------

    def _date(self, i: int) -> _Match[date] | None:
        """A date phrase at word i, optionally after "on"."""
        if self._at(i) == "on" and (match := self._bare_date(i + 1)):
            return _Match(match.value, match.length + 1)
        return self._bare_date(i)

    def _bare_date(self, i: int) -> _Match[date] | None:
        word = self._at(i)
        today = self.today
        if word == "today":
            return _Match(today, 1)
        if word == "tomorrow":
            return _Match(today + timedelta(days=1), 1)
        if word in _WEEKDAYS:
            # The coming one, 1–7 days ahead: on a Friday, "friday" means a week from today.
            return _Match(today + timedelta(days=(_WEEKDAYS[word] - today.weekday() - 1) % 7 + 1), 1)
        if word in ("this", "next"):
            return self._this_or_next(i)
        if word == "in":
            return self._in(i)
        if word in _MONTHS:
            return self._month_day(i)
        if iso := _ISO.fullmatch(word):
            return _Match(self._exact(int(iso[1]), int(iso[2]), int(iso[3]), word), 1)
        if (numeric := _DAY_MONTH.fullmatch(word)) and word not in _NOT_DATES:
            return self._day_slash_month(numeric)
        if _DAY.fullmatch(word):
            return self._day_month(i)
        return None

    def _this_or_next(self, i: int) -> _Match[date] | None:
        word, following = self._at(i), self._at(i + 1)
        today = self.today
        if following in _WEEKDAYS:
            if word == "this":
                return _Match(today + timedelta(days=(_WEEKDAYS[following] - today.weekday() - 1) % 7 + 1), 2)
            # "next friday": the Friday of next week (weeks start on Monday).
            return _Match(today + timedelta(days=7 - today.weekday() + _WEEKDAYS[following]), 2)
        if word == "this":
            return None
        if following == "week":
            return _Match(today + timedelta(days=7 - today.weekday()), 2)
        if following == "month":
            return _Match(repeats.add_months(today, 1, day=1), 2)
        if following == "year":
            return _Match(date(today.year + 1, 1, 1), 2)
        return None

    def _in(self, i: int) -> _Match[date] | None:
        """in 3 days, in 2 weeks, in a month, in 1 year."""
        amount, unit = self._at(i + 1), _UNITS.get(self._at(i + 2))
        number = _NUMBER.fullmatch(amount)
        if unit is None or not (number or amount in ("a", "an", "one")):
            return None
        count = int(number[1]) if number else 1
        if count == 0:
            return None
        if unit == "day":
            return _Match(self.today + timedelta(days=count), 3)
        if unit == "week":
            return _Match(self.today + timedelta(weeks=count), 3)
        return _Match(repeats.add_months(self.today, count * (12 if unit == "year" else 1)), 3)

    def _month_day(self, i: int) -> _Match[date] | None:
        """dec 24, december 24th, dec 24 2027, dec 24, 2027."""
        day = _DAY.fullmatch(self._at(i + 1))
        if day is None:
            return None
        return self._day_of_month(i, int(day[1]), _MONTHS[self._at(i)], comma=bool(day[2]))

    def _day_month(self, i: int) -> _Match[date] | None:
        """24 dec, 24th december, 24 dec 2027."""
        day, month = _DAY.fullmatch(self._at(i)), _MONTHS.get(self._at(i + 1))
        if day is None or day[2] or month is None:
            return None
        return self._day_of_month(i, int(day[1]), month, comma=False)

    def _day_of_month(self, i: int, day: int, month: int, *, comma: bool) -> _Match[date] | None:
        """Words i and i+1 name a day and a month; an optional year follows."""
        if not 1 <= day <= 31:
            return None  # "dec 32": a number, not a date
        text = " ".join(self.words[i : i + 2])
        if year := _YEAR.fullmatch(self._at(i + 2)):
            return _Match(self._exact(int(year[1]), month, day, f"{text} {year[1]}"), 3)
        if comma:
            return None  # "dec 24," with no year after it: left as written
        return _Match(self._next_on_or_after(month, day, text), 2)

    def _day_slash_month(self, match: re.Match[str]) -> _Match[date] | None:
        """24/12 or 24/12/2026 (day first). Impossible ones ("50/50", "31/2") stay in the title."""
        day, month = int(match[1]), int(match[2])
        if match[3]:
            try:
                return _Match(date(int(match[3]), month, day), 1)
            except ValueError:
                return None
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            return None
        try:
            return _Match(self._next_on_or_after(month, day, match[0]), 1)
        except QuickAddError:
            return None

    def _exact(self, year: int, month: int, day: int, text: str) -> date:
        try:
            return date(year, month, day)
        except ValueError:
            raise QuickAddError(f"No such date: {text}") from None

    def _next_on_or_after(self, month: int, day: int, text: str) -> date:
        """The first such day on or after today; 29 Feb may be up to eight years away."""
        for year in range(self.today.year, self.today.year + 9):
            try:
                candidate = date(year, month, day)
            except ValueError:
                continue
            if candidate >= self.today:
                return candidate
        raise QuickAddError(f"No such date: {text}")

    # --- times ----------------------------------------------------------------------------

    def _time(self, i: int) -> _Match[time] | None:
        """A time at word i, optionally after "at"; a bare "H:MM" needs the "at"."""
        if self._at(i) == "at" and (match := self._bare_time(i + 1, after_at=True)):
            return _Match(match.value, match.length + 1)
        return self._bare_time(i, after_at=False)

    def _bare_time(self, i: int, *, after_at: bool) -> _Match[time] | None:
        word = self._at(i)
        if word in _TIMES_NAMED:
            return _Match(_TIMES_NAMED[word], 1)
        clock = _CLOCK_12.fullmatch(word)
        if clock is None:
            return self._clock_24(word, after_at)
        hour, minute, meridiem = int(clock[1]), int(clock[2] or 0), clock[3]
        length = 1
        if meridiem is None and self._at(i + 1) in ("am", "pm"):
            meridiem, length = self._at(i + 1), 2
        if meridiem is None:
            return self._clock_24(word, after_at)
        if not 1 <= hour <= 12 or minute > 59:
            raise QuickAddError(f"No such time: {' '.join(self.words[i : i + length])}")
        return _Match(time(hour % 12 + (12 if meridiem == "pm" else 0), minute), length)

    def _clock_24(self, word: str, after_at: bool) -> _Match[time] | None:
        """17:30 or 09:30; 9:30 only as "at 9:30", since "John 3:16" is no time."""
        clock = _CLOCK_24.fullmatch(word)
        if clock is None or (len(clock[1]) < 2 and not after_at):
            return None
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23 or minute > 59:
            return None
        return _Match(time(hour, minute), 1)

    def _at(self, i: int) -> str:
        return self.lower[i] if i < len(self.lower) else ""
