"""Quick add's vocabulary: word patterns, names of days, months and units, and the word cursor."""

import re
from dataclasses import dataclass
from datetime import date, time
from typing import Final, Generic, TypeVar

from backend.services import repeats

MAX_TEXT: Final = 500
MAX_TAGS: Final = 10
MAX_TAG_LENGTH: Final = 30

# Each pattern is fullmatched against one word and repeats only a bounded count or a single class.
TAG = re.compile(r"#([A-Za-z0-9_-]+)")
PRIORITY = re.compile(r"!(\d{1,3})")
LIST = re.compile(r"@([\w-]+)")
DAY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?(,?)")
YEAR = re.compile(r"(\d{4})")
NUMBER = re.compile(r"(\d{1,3})")
ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
DAY_MONTH = re.compile(r"(\d{1,2})/(\d{1,2})(?:/(\d{4}))?")
CLOCK_12 = re.compile(r"(\d{1,2})(?::(\d{2}))?(am|pm)?")
CLOCK_24 = re.compile(r"(\d{1,2}):(\d{2})")

WEEKDAYS: Final = {
    name: index
    for index, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
MONTHS: Final = {
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
UNITS: Final = {
    "day": "day",
    "days": "day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
    "year": "year",
    "years": "year",
}
EVERY_NAMED: Final = {"day": "daily", "weekday": "weekdays", "week": "weekly", "month": "monthly", "year": "yearly"}
TIMES_NAMED: Final = {"noon": time(12), "midday": time(12), "midnight": time(0)}
REPEAT_UNITS: Final[dict[str, repeats.Unit]] = {"day": "day", "week": "week", "month": "month"}
NOT_DATES: Final = {"24/7"}  # "open 24/7" means always, not 24 July
MAX_YEARS: Final = 10  # every N years is stored as every 12·N months; see repeats.MAX_INTERVAL


class QuickAddError(ValueError):
    """Quick-add text that cannot be turned into a todo; the message is fit for a 422 `msg`."""


Value = TypeVar("Value")


@dataclass(frozen=True, slots=True)
class Match(Generic[Value]):
    """A recognised phrase: its value and how many words it spans."""

    value: Value
    length: int


class Words:
    """The words of the text (as typed and lower-cased) and the day they are read on."""

    def __init__(self, words: list[str], today: date) -> None:
        self.words = words
        self.lower = [word.lower() for word in words]
        self.today = today

    def at(self, i: int) -> str:
        return self.lower[i] if i < len(self.lower) else ""
