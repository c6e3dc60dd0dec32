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

from dataclasses import dataclass
from datetime import date, time, timedelta

from backend.services import repeats
from backend.services.quickadd_dates import DateTimePhrases
from backend.services.quickadd_words import (
    EVERY_NAMED,
    LIST,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TEXT,
    MAX_YEARS,
    NUMBER,
    PRIORITY,
    REPEAT_UNITS,
    TAG,
    UNITS,
    WEEKDAYS,
    Match,
    QuickAddError,
)

__all__ = ["QuickAdd", "QuickAddError", "parse_quick_add"]


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


class _Scanner(DateTimePhrases):
    def __init__(self, words: list[str], today: date) -> None:
        super().__init__(words, today)
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
        if tag := TAG.fullmatch(word):
            name = tag[1].lower()
            if not any(char.isalpha() for char in name):
                return False  # "#1 priority", "bug #123": a number, not a tag
            if len(name) > MAX_TAG_LENGTH:
                raise QuickAddError(f"Tag {word} is longer than {MAX_TAG_LENGTH} characters")
            self.tags.add(name)
            return True
        if priority := PRIORITY.fullmatch(word):
            value = int(priority[1])
            if not 1 <= value <= 5:
                raise QuickAddError(f"Priority must be !1 to !5, not {word}")
            if self.priority not in (None, value):
                raise QuickAddError(f"Give one priority, not !{self.priority} and {word}")
            self.priority = value
            return True
        if listed := LIST.fullmatch(word):
            name = listed[1]
            if self.list_name is not None and self.list_name.casefold() != name.casefold():
                raise QuickAddError(f"Give one list, not @{self.list_name} and {word}")
            self.list_name = self.list_name or name
            return True
        return False

    # --- repeats --------------------------------------------------------------------------

    def _repeat(self, i: int) -> Match[tuple[str, int | None]] | None:
        """every day|weekday|week|month|year, every other <unit>, every N <units>, every <weekday>."""
        if self.at(i) != "every":
            return None
        word = self.at(i + 1)
        if word in EVERY_NAMED or word == "weekdays":
            return Match((EVERY_NAMED.get(word, "weekdays"), None), 2)
        if word in WEEKDAYS:
            return Match(("weekly", WEEKDAYS[word]), 2)
        if word == "other":
            count, unit = 2, UNITS.get(self.at(i + 2))
        elif number := NUMBER.fullmatch(word):
            count, unit = int(number[1]), UNITS.get(self.at(i + 2))
        else:
            return None
        if unit is None:
            return None
        if unit == "year":
            if not 1 <= count <= MAX_YEARS:
                raise QuickAddError(f"Repeat every N years needs N from 1 to {MAX_YEARS}")
            if count == 1:
                return Match(("yearly", None), 3)
            unit, count = "month", 12 * count
        try:
            rule = repeats.make_repeat(REPEAT_UNITS[unit], count)
        except ValueError as error:
            raise QuickAddError(str(error)) from None
        return Match((rule.canonical, None), 3)

    def _first_occurrence(self) -> date:
        """A repeat without a date starts today, or on the first day the rule allows."""
        if self.repeat_weekday is not None:
            return self.today + timedelta(days=(self.repeat_weekday - self.today.weekday()) % 7)
        if self.repeat == "weekdays" and self.today.weekday() >= 5:
            return self.today + timedelta(days=7 - self.today.weekday())
        return self.today
