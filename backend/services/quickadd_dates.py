"""Quick add's date and time phrases: "tomorrow", "next friday", "dec 24", "at 9:30", "5pm"."""

import re
from datetime import date, time, timedelta

from backend.services import repeats
from backend.services.quickadd_words import (
    CLOCK_12,
    CLOCK_24,
    DAY,
    DAY_MONTH,
    ISO,
    MONTHS,
    NOT_DATES,
    NUMBER,
    TIMES_NAMED,
    UNITS,
    WEEKDAYS,
    YEAR,
    Match,
    QuickAddError,
    Words,
)


class DateTimePhrases(Words):
    """Matchers for a date or a time starting at word i; None when there is none."""

    def _date(self, i: int) -> Match[date] | None:
        """A date phrase at word i, optionally after "on"."""
        if self.at(i) == "on" and (match := self._bare_date(i + 1)):
            return Match(match.value, match.length + 1)
        return self._bare_date(i)

    def _bare_date(self, i: int) -> Match[date] | None:
        word = self.at(i)
        today = self.today
        if word == "today":
            return Match(today, 1)
        if word == "tomorrow":
            return Match(today + timedelta(days=1), 1)
        if word in WEEKDAYS:
            # The coming one, 1–7 days ahead: on a Friday, "friday" means a week from today.
            return Match(today + timedelta(days=(WEEKDAYS[word] - today.weekday() - 1) % 7 + 1), 1)
        if word in ("this", "next"):
            return self._this_or_next(i)
        if word == "in":
            return self._in(i)
        if word in MONTHS:
            return self._month_day(i)
        if iso := ISO.fullmatch(word):
            return Match(self._exact(int(iso[1]), int(iso[2]), int(iso[3]), word), 1)
        if (numeric := DAY_MONTH.fullmatch(word)) and word not in NOT_DATES:
            return self._day_slash_month(numeric)
        if DAY.fullmatch(word):
            return self._day_month(i)
        return None

    def _this_or_next(self, i: int) -> Match[date] | None:
        word, following = self.at(i), self.at(i + 1)
        today = self.today
        if following in WEEKDAYS:
            if word == "this":
                return Match(today + timedelta(days=(WEEKDAYS[following] - today.weekday() - 1) % 7 + 1), 2)
            # "next friday": the Friday of next week (weeks start on Monday).
            return Match(today + timedelta(days=7 - today.weekday() + WEEKDAYS[following]), 2)
        if word == "this":
            return None
        if following == "week":
            return Match(today + timedelta(days=7 - today.weekday()), 2)
        if following == "month":
            return Match(repeats.add_months(today, 1, day=1), 2)
        if following == "year":
            return Match(date(today.year + 1, 1, 1), 2)
        return None

    def _in(self, i: int) -> Match[date] | None:
        """in 3 days, in 2 weeks, in a month, in 1 year."""
        amount, unit = self.at(i + 1), UNITS.get(self.at(i + 2))
        number = NUMBER.fullmatch(amount)
        if unit is None or not (number or amount in ("a", "an", "one")):
            return None
        count = int(number[1]) if number else 1
        if count == 0:
            return None
        if unit == "day":
            return Match(self.today + timedelta(days=count), 3)
        if unit == "week":
            return Match(self.today + timedelta(weeks=count), 3)
        return Match(repeats.add_months(self.today, count * (12 if unit == "year" else 1)), 3)

    def _month_day(self, i: int) -> Match[date] | None:
        """dec 24, december 24th, dec 24 2027, dec 24, 2027."""
        day = DAY.fullmatch(self.at(i + 1))
        if day is None:
            return None
        return self._day_of_month(i, int(day[1]), MONTHS[self.at(i)], comma=bool(day[2]))

    def _day_month(self, i: int) -> Match[date] | None:
        """24 dec, 24th december, 24 dec 2027."""
        day, month = DAY.fullmatch(self.at(i)), MONTHS.get(self.at(i + 1))
        if day is None or day[2] or month is None:
            return None
        return self._day_of_month(i, int(day[1]), month, comma=False)

    def _day_of_month(self, i: int, day: int, month: int, *, comma: bool) -> Match[date] | None:
        """Words i and i+1 name a day and a month; an optional year follows."""
        if not 1 <= day <= 31:
            return None  # "dec 32": a number, not a date
        text = " ".join(self.words[i : i + 2])
        if year := YEAR.fullmatch(self.at(i + 2)):
            return Match(self._exact(int(year[1]), month, day, f"{text} {year[1]}"), 3)
        if comma:
            return None  # "dec 24," with no year after it: left as written
        return Match(self._next_on_or_after(month, day, text), 2)

    def _day_slash_month(self, match: re.Match[str]) -> Match[date] | None:
        """24/12 or 24/12/2026 (day first). Impossible ones ("50/50", "31/2") stay in the title."""
        day, month = int(match[1]), int(match[2])
        if match[3]:
            try:
                return Match(date(int(match[3]), month, day), 1)
            except ValueError:
                return None
        if not 1 <= month <= 12 or not 1 <= day <= 31:
            return None
        try:
            return Match(self._next_on_or_after(month, day, match[0]), 1)
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

    def _time(self, i: int) -> Match[time] | None:
        """A time at word i, optionally after "at"; a bare "H:MM" needs the "at"."""
        if self.at(i) == "at" and (match := self._bare_time(i + 1, after_at=True)):
            return Match(match.value, match.length + 1)
        return self._bare_time(i, after_at=False)

    def _bare_time(self, i: int, *, after_at: bool) -> Match[time] | None:
        word = self.at(i)
        if word in TIMES_NAMED:
            return Match(TIMES_NAMED[word], 1)
        clock = CLOCK_12.fullmatch(word)
        if clock is None:
            return self._clock_24(word, after_at)
        hour, minute, meridiem = int(clock[1]), int(clock[2] or 0), clock[3]
        length = 1
        if meridiem is None and self.at(i + 1) in ("am", "pm"):
            meridiem, length = self.at(i + 1), 2
        if meridiem is None:
            return self._clock_24(word, after_at)
        if not 1 <= hour <= 12 or minute > 59:
            raise QuickAddError(f"No such time: {' '.join(self.words[i : i + length])}")
        return Match(time(hour % 12 + (12 if meridiem == "pm" else 0), minute), length)

    def _clock_24(self, word: str, after_at: bool) -> Match[time] | None:
        """17:30 or 09:30; 9:30 only as "at 9:30", since "John 3:16" is no time."""
        clock = CLOCK_24.fullmatch(word)
        if clock is None or (len(clock[1]) < 2 and not after_at):
            return None
        hour, minute = int(clock[1]), int(clock[2])
        if hour > 23 or minute > 59:
            return None
        return Match(time(hour, minute), 1)
