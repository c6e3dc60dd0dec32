"""services.repeats: the accepted rules, their canonical form, and the next due date table."""

from datetime import date

import pytest

from backend.services import repeats
from backend.services.repeats import Repeat


class TestParseRepeat:
    @pytest.mark.parametrize(
        ("value", "canonical"),
        [
            ("daily", "daily"),
            ("weekdays", "weekdays"),
            ("weekly", "weekly"),
            ("monthly", "monthly"),
            ("yearly", "yearly"),
            ("  Weekly ", "weekly"),
            ("DAILY", "daily"),
            ("every 2 days", "every 2 days"),
            ("every 3 weeks", "every 3 weeks"),
            ("every 6 months", "every 6 months"),
            ("Every  2\tWeeks", "every 2 weeks"),
            ("every 2 week", "every 2 weeks"),
            ("every 1 day", "daily"),
            ("every 1 weeks", "weekly"),
            ("every 1 month", "monthly"),
            ("every 7 days", "every 7 days"),
            ("every 12 months", "every 12 months"),
            ("every 365 days", "every 365 days"),
            ("every 52 weeks", "every 52 weeks"),
            ("every 120 months", "every 120 months"),
            ("every 007 days", "every 7 days"),
        ],
    )
    def test_accepts_and_canonicalises(self, value: str, canonical: str) -> None:
        assert repeats.normalize_repeat(value) == canonical
        assert str(repeats.parse_repeat(value)) == canonical

    def test_none_stays_none(self) -> None:
        assert repeats.normalize_repeat(None) is None

    def test_canonical_form_round_trips(self) -> None:
        for value in ("daily", "weekdays", "weekly", "monthly", "yearly", "every 5 days", "every 3 months"):
            assert repeats.normalize_repeat(repeats.normalize_repeat(value)) == value

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "Repeat must be null, daily, weekdays, weekly, monthly, yearly or 'every N days|weeks|months'"),
            ("fortnightly", "Repeat must be"),
            ("every day", "Repeat must be"),
            ("every 2 years", "Repeat must be"),
            ("every -1 days", "Repeat must be"),
            ("every two weeks", "Repeat must be"),
            ("every 2.5 days", "Repeat must be"),
            ("every 2 dayss", "Repeat must be"),
            ("every 12345 days", "Repeat must be"),
            ("weekly\n" + "x" * 100, "Repeat must be"),
            ("every 0 days", "Repeat every N days needs N from 1 to 365"),
            ("every 366 days", "Repeat every N days needs N from 1 to 365"),
            ("every 53 weeks", "Repeat every N weeks needs N from 1 to 52"),
            ("every 121 months", "Repeat every N months needs N from 1 to 120"),
        ],
    )
    def test_rejects_with_a_plain_message(self, value: str, message: str) -> None:
        with pytest.raises(ValueError, match="^" + message):
            repeats.parse_repeat(value)

    def test_make_repeat_checks_weekday_interval(self) -> None:
        assert repeats.make_repeat("weekday", 1) == Repeat("weekday", 1, "weekdays")
        with pytest.raises(ValueError, match="takes no interval"):
            repeats.make_repeat("weekday", 2)


# (due, rule, anchor_day, next due). 2026-12-04 is a Friday; 2028 is a leap year.
NEXT_DUE = [
    (date(2026, 12, 1), "daily", None, date(2026, 12, 2)),
    (date(2026, 12, 31), "daily", None, date(2027, 1, 1)),
    (date(2028, 2, 28), "daily", None, date(2028, 2, 29)),
    (date(2026, 12, 1), "every 3 days", None, date(2026, 12, 4)),
    (date(2026, 12, 30), "every 10 days", None, date(2027, 1, 9)),
    (date(2026, 12, 1), "weekly", None, date(2026, 12, 8)),
    (date(2026, 12, 29), "every 2 weeks", None, date(2027, 1, 12)),
    # weekdays: the next Monday to Friday, strictly after the due date
    (date(2026, 11, 30), "weekdays", None, date(2026, 12, 1)),  # Mon → Tue
    (date(2026, 12, 3), "weekdays", None, date(2026, 12, 4)),  # Thu → Fri
    (date(2026, 12, 4), "weekdays", None, date(2026, 12, 7)),  # Fri → Mon
    (date(2026, 12, 5), "weekdays", None, date(2026, 12, 7)),  # Sat → Mon
    (date(2026, 12, 6), "weekdays", None, date(2026, 12, 7)),  # Sun → Mon
    # monthly: same day, or the month's last day when shorter
    (date(2026, 12, 15), "monthly", None, date(2027, 1, 15)),
    (date(2027, 1, 31), "monthly", None, date(2027, 2, 28)),
    (date(2028, 1, 31), "monthly", None, date(2028, 2, 29)),
    (date(2027, 3, 31), "monthly", None, date(2027, 4, 30)),
    (date(2027, 1, 30), "monthly", None, date(2027, 2, 28)),
    # drift: memoryless by default, back to the anchor day when the caller passes it
    (date(2027, 2, 28), "monthly", None, date(2027, 3, 28)),
    (date(2027, 2, 28), "monthly", 31, date(2027, 3, 31)),
    (date(2027, 3, 31), "monthly", 31, date(2027, 4, 30)),
    (date(2027, 4, 30), "monthly", 31, date(2027, 5, 31)),
    (date(2027, 2, 28), "monthly", 30, date(2027, 3, 30)),
    (date(2027, 1, 31), "every 3 months", None, date(2027, 4, 30)),
    (date(2027, 4, 30), "every 3 months", 31, date(2027, 7, 31)),
    (date(2026, 11, 30), "every 2 months", None, date(2027, 1, 30)),
    (date(2026, 12, 31), "every 14 months", None, date(2028, 2, 29)),
    # yearly, including 29 February
    (date(2026, 12, 24), "yearly", None, date(2027, 12, 24)),
    (date(2028, 2, 29), "yearly", None, date(2029, 2, 28)),
    (date(2029, 2, 28), "yearly", None, date(2030, 2, 28)),
    (date(2031, 2, 28), "yearly", 29, date(2032, 2, 29)),
    (date(2029, 2, 28), "yearly", 29, date(2030, 2, 28)),
    (date(2028, 2, 29), "every 12 months", None, date(2029, 2, 28)),
    # the anchor day is ignored by day and week rules
    (date(2026, 12, 1), "weekly", 31, date(2026, 12, 8)),
    (date(2026, 12, 4), "weekdays", 31, date(2026, 12, 7)),
]


class TestNextDue:
    @pytest.mark.parametrize(("due", "rule", "anchor_day", "expected"), NEXT_DUE)
    def test_table(self, due: date, rule: str, anchor_day: int | None, expected: date) -> None:
        assert repeats.next_due(due, rule, anchor_day=anchor_day) == expected

    def test_takes_a_parsed_rule(self) -> None:
        rule = repeats.parse_repeat("every 2 weeks")
        assert repeats.next_due(date(2026, 12, 1), rule) == date(2026, 12, 15)

    def test_a_series_with_its_anchor_keeps_the_31st(self) -> None:
        due, seen = date(2027, 1, 31), []
        for _ in range(6):
            due = repeats.next_due(due, "monthly", anchor_day=31)
            seen.append(due.day)
        assert seen == [28, 31, 30, 31, 30, 31]

    @pytest.mark.parametrize("anchor_day", [0, 32, -1])
    def test_rejects_an_impossible_anchor_day(self, anchor_day: int) -> None:
        with pytest.raises(ValueError, match="^Anchor day must be from 1 to 31$"):
            repeats.next_due(date(2026, 12, 1), "monthly", anchor_day=anchor_day)

    def test_rejects_an_invalid_rule(self) -> None:
        with pytest.raises(ValueError, match="^Repeat must be"):
            repeats.next_due(date(2026, 12, 1), "hourly")

    @pytest.mark.parametrize("rule", ["daily", "weekdays", "weekly", "monthly", "yearly"])
    def test_past_the_last_date_is_a_value_error(self, rule: str) -> None:
        with pytest.raises(ValueError, match="after 9999-12-31"):
            repeats.next_due(date(9999, 12, 31), rule)


def test_add_months_goes_backwards_too() -> None:
    assert repeats.add_months(date(2027, 3, 31), -1) == date(2027, 2, 28)
    assert repeats.add_months(date(2027, 1, 15), -13) == date(2025, 12, 15)
