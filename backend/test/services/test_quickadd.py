"""services.quickadd: the phrase table against a fixed today, the guards, the errors, bounded time."""

import re
import threading
from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services.quickadd import QuickAdd, QuickAddError, parse_quick_add

TODAY = date(2026, 12, 1)  # a Tuesday
TOMORROW = date(2026, 12, 2)

# (text, expected). Every relative date below is worked out from TODAY by hand.
PHRASES = [
    # the example, and each part on its own
    (
        "Call mom tomorrow 9am #family !4 @Home every week",
        QuickAdd("Call mom", ("family",), 4, "Home", TOMORROW, time(9), "weekly"),
    ),
    ("Buy milk", QuickAdd("Buy milk")),
    ("  Buy   milk\t\n ", QuickAdd("Buy milk")),
    ("Buy milk #Shop #errands #shop", QuickAdd("Buy milk", tags=("errands", "shop"))),
    ("Plan #work-2027 #big_rock trip", QuickAdd("Plan trip", tags=("big_rock", "work-2027"))),
    ("Pay rent !5", QuickAdd("Pay rent", priority=5)),
    ("!1 Pay rent !1", QuickAdd("Pay rent", priority=1)),
    ("Pay rent @Bills", QuickAdd("Pay rent", list_name="Bills")),
    ("Pay rent @side-projects @SIDE-PROJECTS", QuickAdd("Pay rent", list_name="side-projects")),
    # dates
    ("Call mom today", QuickAdd("Call mom", due_date=TODAY)),
    ("Call mom TOMORROW", QuickAdd("Call mom", due_date=TOMORROW)),
    ("Call mom friday", QuickAdd("Call mom", due_date=date(2026, 12, 4))),
    ("Call mom on Friday", QuickAdd("Call mom", due_date=date(2026, 12, 4))),
    ("Call mom tuesday", QuickAdd("Call mom", due_date=date(2026, 12, 8))),  # today's weekday: a week on
    ("Call mom monday", QuickAdd("Call mom", due_date=date(2026, 12, 7))),
    ("Call mom this friday", QuickAdd("Call mom", due_date=date(2026, 12, 4))),
    ("Call mom next friday", QuickAdd("Call mom", due_date=date(2026, 12, 11))),
    ("Call mom next monday", QuickAdd("Call mom", due_date=date(2026, 12, 7))),
    ("Call mom next week", QuickAdd("Call mom", due_date=date(2026, 12, 7))),
    ("Call mom next month", QuickAdd("Call mom", due_date=date(2027, 1, 1))),
    ("Call mom next year", QuickAdd("Call mom", due_date=date(2027, 1, 1))),
    ("Call mom in 3 days", QuickAdd("Call mom", due_date=date(2026, 12, 4))),
    ("Call mom in 1 day", QuickAdd("Call mom", due_date=TOMORROW)),
    ("Call mom in 2 weeks", QuickAdd("Call mom", due_date=date(2026, 12, 15))),
    ("Call mom in a month", QuickAdd("Call mom", due_date=date(2027, 1, 1))),
    ("Call mom in 3 months", QuickAdd("Call mom", due_date=date(2027, 3, 1))),
    ("Call mom in one year", QuickAdd("Call mom", due_date=date(2027, 12, 1))),
    ("Buy gift dec 24", QuickAdd("Buy gift", due_date=date(2026, 12, 24))),
    ("Buy gift December 24th", QuickAdd("Buy gift", due_date=date(2026, 12, 24))),
    ("Buy gift 24 dec", QuickAdd("Buy gift", due_date=date(2026, 12, 24))),
    ("Buy gift 24th of", QuickAdd("Buy gift 24th of")),
    ("Buy gift on 1st jan", QuickAdd("Buy gift", due_date=date(2027, 1, 1))),
    ("Buy gift dec 1", QuickAdd("Buy gift", due_date=TODAY)),  # today counts as on or after
    ("Buy gift nov 30", QuickAdd("Buy gift", due_date=date(2027, 11, 30))),  # rolls to next year
    ("Buy gift dec 24 2027", QuickAdd("Buy gift", due_date=date(2027, 12, 24))),
    ("Buy gift Dec 24, 2027", QuickAdd("Buy gift", due_date=date(2027, 12, 24))),
    ("Buy gift 24 dec 2025", QuickAdd("Buy gift", due_date=date(2025, 12, 24))),  # an explicit year may be past
    ("Buy gift 24/12", QuickAdd("Buy gift", due_date=date(2026, 12, 24))),
    ("Buy gift 5/1", QuickAdd("Buy gift", due_date=date(2027, 1, 5))),  # day first
    ("Buy gift 24/12/2027", QuickAdd("Buy gift", due_date=date(2027, 12, 24))),
    ("Buy gift 2026-12-24", QuickAdd("Buy gift", due_date=date(2026, 12, 24))),
    ("Leap day feb 29", QuickAdd("Leap day", due_date=date(2028, 2, 29))),
    ("Leap day 29/2", QuickAdd("Leap day", due_date=date(2028, 2, 29))),
    # times (a time alone is today)
    ("Call mom 9am", QuickAdd("Call mom", due_date=TODAY, due_time=time(9))),
    ("Call mom at 9 AM", QuickAdd("Call mom", due_date=TODAY, due_time=time(9))),
    ("Call mom tomorrow 9:30pm", QuickAdd("Call mom", due_date=TOMORROW, due_time=time(21, 30))),
    ("Call mom 12am", QuickAdd("Call mom", due_date=TODAY, due_time=time(0))),
    ("Call mom 12pm", QuickAdd("Call mom", due_date=TODAY, due_time=time(12))),
    ("Call mom 17:30 friday", QuickAdd("Call mom", due_date=date(2026, 12, 4), due_time=time(17, 30))),
    ("Call mom 09:05", QuickAdd("Call mom", due_date=TODAY, due_time=time(9, 5))),
    ("Call mom at 9:30", QuickAdd("Call mom", due_date=TODAY, due_time=time(9, 30))),
    ("Lunch at noon tomorrow", QuickAdd("Lunch", due_date=TOMORROW, due_time=time(12))),
    ("Backup midnight", QuickAdd("Backup", due_date=TODAY, due_time=time(0))),
    # repeats (a repeat alone starts on its first day on or after today)
    ("Water plants every day", QuickAdd("Water plants", due_date=TODAY, repeat="daily")),
    ("Stand-up every weekday 9:15am", QuickAdd("Stand-up", due_date=TODAY, due_time=time(9, 15), repeat="weekdays")),
    ("Review every week", QuickAdd("Review", due_date=TODAY, repeat="weekly")),
    ("Rent every month 1/1", QuickAdd("Rent", due_date=date(2027, 1, 1), repeat="monthly")),
    ("Taxes every year", QuickAdd("Taxes", due_date=TODAY, repeat="yearly")),
    ("Sprint every 2 weeks", QuickAdd("Sprint", due_date=TODAY, repeat="every 2 weeks")),
    ("Pills every 3 days", QuickAdd("Pills", due_date=TODAY, repeat="every 3 days")),
    ("Dentist every 6 months in 2 weeks", QuickAdd("Dentist", due_date=date(2026, 12, 15), repeat="every 6 months")),
    ("Bins every other week", QuickAdd("Bins", due_date=TODAY, repeat="every 2 weeks")),
    ("Car every 2 years", QuickAdd("Car", due_date=TODAY, repeat="every 24 months")),
    ("Car every 1 year", QuickAdd("Car", due_date=TODAY, repeat="yearly")),
    ("Check every 1 week", QuickAdd("Check", due_date=TODAY, repeat="weekly")),
    ("Yoga every Monday", QuickAdd("Yoga", due_date=date(2026, 12, 7), repeat="weekly")),
    ("Yoga every tuesday", QuickAdd("Yoga", due_date=TODAY, repeat="weekly")),
    ("Yoga every monday dec 24", QuickAdd("Yoga", due_date=date(2026, 12, 24), repeat="weekly")),
    # false positives kept in the title
    ("Read 1984", QuickAdd("Read 1984")),
    ("email bob@example.com", QuickAdd("email bob@example.com")),
    ("#1 priority", QuickAdd("#1 priority")),
    ("Fix bug #123 !2", QuickAdd("Fix bug #123", priority=2)),
    ("Learn C# #dev", QuickAdd("Learn C#", tags=("dev",))),
    ("Wow! Really!! !!", QuickAdd("Wow! Really!! !!")),
    ("Read John 3:16", QuickAdd("Read John 3:16")),
    ("Support 24/7", QuickAdd("Support 24/7")),
    ("Split 50/50", QuickAdd("Split 50/50")),
    ("Weekly report", QuickAdd("Weekly report")),
    ("Do it every time", QuickAdd("Do it every time")),
    ("Meet at 5", QuickAdd("Meet at 5")),
    ("Next steps", QuickAdd("Next steps")),
    ("May the force", QuickAdd("May the force")),
    ("Buy dec 32 stuff", QuickAdd("Buy dec 32 stuff")),
    ("Sign on the line", QuickAdd("Sign on the line")),
    ("#work, @home, and friday,", QuickAdd("#work, @home, and friday,")),
    ("Cook 31/2 and 31/2/2027", QuickAdd("Cook 31/2 and 31/2/2027")),
    ("Plan this week", QuickAdd("Plan this week")),
    ("Plan in 0 days", QuickAdd("Plan in 0 days")),
    ("Gift dec 24, wrapped", QuickAdd("Gift dec 24, wrapped")),
    ("Run at 25:00", QuickAdd("Run at 25:00")),
    # only the first of each phrase kind is taken; later ones stay in the title
    ("Move friday meeting to monday", QuickAdd("Move meeting to monday", due_date=date(2026, 12, 4))),
    ("Call 9am not 10am", QuickAdd("Call not 10am", due_date=TODAY, due_time=time(9))),
    ("Gym every day every week", QuickAdd("Gym every week", due_date=TODAY, repeat="daily")),
    ("Plan on monday on friday", QuickAdd("Plan on friday", due_date=date(2026, 12, 7))),
]


class TestPhrases:
    @pytest.mark.parametrize(("text", "expected"), PHRASES, ids=[text for text, _ in PHRASES])
    def test_table(self, text: str, expected: QuickAdd) -> None:
        assert parse_quick_add(text, today=TODAY) == expected

    def test_the_table_is_big_enough(self) -> None:
        assert len(PHRASES) >= 40

    def test_a_sunday_weekday_repeat_starts_on_monday(self) -> None:
        result = parse_quick_add("Stand-up every weekday", today=date(2026, 12, 6))
        assert result.due_date == date(2026, 12, 7)

    def test_next_weekday_on_a_sunday_is_the_coming_week(self) -> None:
        sunday = date(2026, 12, 6)
        assert parse_quick_add("Call next monday", today=sunday).due_date == date(2026, 12, 7)
        assert parse_quick_add("Call monday", today=sunday).due_date == date(2026, 12, 7)

    def test_in_a_month_from_the_31st_lands_on_the_last_day(self) -> None:
        assert parse_quick_add("Call in a month", today=date(2027, 1, 31)).due_date == date(2027, 2, 28)

    def test_result_is_frozen(self) -> None:
        result = parse_quick_add("Buy milk", today=TODAY)
        with pytest.raises(AttributeError):
            result.title = "x"  # type: ignore[misc]


class TestErrors:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", "Title is empty"),
            ("   ", "Title is empty"),
            ("#work !3 @Home tomorrow 9am every day", "Title is empty"),
            ("x" * 501, "Text is longer than 500 characters"),
            ("Plan " + " ".join(f"#t{n}" for n in range(11)), "More than 10 tags"),
            ("Plan #" + "a" * 31, "Tag #" + "a" * 31 + " is longer than 30 characters"),
            ("Plan !0", "Priority must be !1 to !5, not !0"),
            ("Plan !6", "Priority must be !1 to !5, not !6"),
            ("Plan !1 !3", "Give one priority, not !1 and !3"),
            ("Plan @Home @Work", "Give one list, not @Home and @Work"),
            ("Party feb 30", "No such date: feb 30"),
            ("Party 31 april", "No such date: 31 april"),
            ("Party feb 29 2027", "No such date: feb 29 2027"),
            ("Party 2026-02-30", "No such date: 2026-02-30"),
            ("Party 2026-13-01", "No such date: 2026-13-01"),
            ("Call 13pm", "No such time: 13pm"),
            ("Call 0am", "No such time: 0am"),
            ("Call 9:75 pm", "No such time: 9:75 pm"),
            ("Gym every 0 days", "Repeat every N days needs N from 1 to 365"),
            ("Gym every 400 days", "Repeat every N days needs N from 1 to 365"),
            ("Gym every 60 weeks", "Repeat every N weeks needs N from 1 to 52"),
            ("Gym every 11 years", "Repeat every N years needs N from 1 to 10"),
        ],
    )
    def test_message(self, text: str, message: str) -> None:
        with pytest.raises(QuickAddError, match="^" + re.escape(message)):
            parse_quick_add(text, today=TODAY)

    def test_is_a_value_error(self) -> None:
        assert issubclass(QuickAddError, ValueError)

    def test_exactly_500_characters_is_accepted(self) -> None:
        assert parse_quick_add("x" * 500, today=TODAY).title == "x" * 500

    def test_ten_tags_are_accepted(self) -> None:
        text = "Plan " + " ".join(f"#t{n}" for n in range(10)) + " #T0"
        assert len(parse_quick_add(text, today=TODAY).tags) == 10


ADVERSARIAL = [
    "9" * 500,
    "#" * 500,
    "@" * 500,
    "!" * 500,
    "#" + "a" * 499,
    "1/" * 250,
    ":" * 250 + "9" * 250,
    "9:" * 250,
    "every " * 83,
    "in 1 " * 100,
    "on " * 166,
    "at " * 166,
    "next " * 100,
    "dec 24 " * 71,
    "every 2 " * 62,
    "9 " * 250,
    "2026-" * 100,
    "a" * 499 + "!",
    " " * 499 + "x",
]


class TestBoundedTime:
    @pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
    def test_adversarial_input_cannot_make_the_parser_backtrack(self, text: str) -> None:
        # Not a speed test (bench.sh measures speed): a watchdog. Linear work on 500
        # characters takes under a millisecond; a backtracking pattern takes minutes, so
        # a parse still running after 2 s can only be one.
        done = threading.Event()

        def parse() -> None:
            try:
                parse_quick_add(text, today=TODAY)
            except QuickAddError:
                pass
            done.set()

        threading.Thread(target=parse, daemon=True).start()
        assert done.wait(timeout=2.0), "the parser is still working on 500 characters"

    @settings(max_examples=100, deadline=None)
    @given(st.text(alphabet=st.sampled_from(list("09:/#!@- \tadeimnoprstwy")), max_size=500))
    def test_any_text_parses_or_raises_quick_add_error(self, text: str) -> None:
        try:
            result = parse_quick_add(text, today=TODAY)
        except QuickAddError:
            return
        words = text.split()
        kept = result.title.split()
        # The title is the input's words in order, minus the recognised ones.
        position = 0
        for word in kept:
            position = words.index(word, position) + 1
        assert result.due_date is not None or (result.due_time is None and result.repeat is None)
