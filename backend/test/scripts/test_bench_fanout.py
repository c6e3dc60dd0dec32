"""The benchmark's fan-out row: its percentiles, its loss accounting, its event parsing, targets and table."""

import math
from datetime import UTC, datetime

import pytest

from backend.database.dates import utc_text
from backend.scripts.bench.database import FreshDatabase
from backend.scripts.bench.fanout import at_seconds, change_number
from backend.scripts.bench.fanout_stats import FanoutResult, Tally, percentile, tally
from backend.scripts.bench.report import Outcome, fanout_heading, fanout_table
from backend.scripts.bench.targets import fanout_targets


def _result(*, p99: float = 40.0, opened: float = 160.0, t: Tally | None = None, changes: int = 1000) -> FanoutResult:
    counted = t or Tally(10_000, 10_000, 0, 0, 0)
    return FanoutResult(50, 500, changes, 0.9, 3.2, 130.0, opened, 165.0, 9.5, p99, 80.0, counted, 0)


def test_percentiles_are_nearest_rank_values_that_occurred() -> None:
    values = [float(n) for n in range(100, 0, -1)]  # 1..100, unsorted
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0


def test_the_percentile_of_nothing_is_not_a_number() -> None:
    assert math.isnan(percentile([], 99))


def test_every_socket_of_the_owner_getting_each_change_once_is_a_clean_tally() -> None:
    owners = {0: 1, 1: 2, 2: 1}
    sockets = [(1, [2, 0]), (1, [0, 2]), (2, [1])]
    assert tally(owners, sockets) == Tally(expected=5, delivered=5, lost=0, duplicated=0, misdelivered=0)


def test_a_missing_event_is_lost_and_a_repeated_one_duplicated() -> None:
    owners = {0: 1, 1: 1}
    sockets = [(1, [0, 0, 0]), (1, [0, 1])]
    assert tally(owners, sockets) == Tally(expected=4, delivered=3, lost=1, duplicated=2, misdelivered=0)


def test_another_users_event_or_an_unknown_one_is_misdelivered_and_does_not_fill_a_gap() -> None:
    owners = {0: 1, 1: 2}
    sockets = [(1, [1, -1]), (2, [1])]  # user 1's socket got user 2's change and something unknown
    assert tally(owners, sockets) == Tally(expected=2, delivered=1, lost=1, duplicated=0, misdelivered=2)


def test_a_user_without_changes_expects_nothing() -> None:
    assert tally({0: 1}, [(3, [])]) == Tally(0, 0, 0, 0, 0)


@pytest.mark.parametrize(
    ("message", "number"),
    [
        ({"type": "todo.created", "todo": {"title": "fanout change 17"}}, 17),
        ({"type": "todo.updated", "todo": {"title": "fanout change 0"}}, 0),
        ({"type": "todo.updated", "todo": {"title": "someone else's todo"}}, -1),
        ({"type": "todo.updated", "todo": {"title": "fanout change 3b"}}, -1),
        ({"type": "todo.deleted", "id": 4, "version": None}, -1),
    ],
)
def test_an_event_names_its_change_through_its_todos_title(message: dict[str, object], number: int) -> None:
    assert change_number(message) == number


def test_an_events_at_reads_back_as_the_instant_the_server_stamped() -> None:
    stamped = datetime(2026, 12, 5, 20, 1, 2, 345678, tzinfo=UTC)
    assert at_seconds(utc_text(stamped)) == stamped.timestamp()


def test_targets_pass_for_a_clean_fast_run_within_the_memory_budget() -> None:
    found = fanout_targets(_result(), "sqlite")
    assert [t.passed for t in found] == [True, True, True, True]
    assert found[3].value == "+30.0 MB"


def test_each_target_fails_on_its_own_miss() -> None:
    slow, fat = fanout_targets(_result(p99=250.1), "sqlite"), fanout_targets(_result(opened=170.5), "sqlite")
    assert [t.passed for t in slow] == [False, True, True, True]
    assert [t.passed for t in fat] == [True, True, True, False]
    leaky = fanout_targets(_result(t=Tally(10_000, 9_999, 1, 0, 0)), "sqlite")
    doubled = fanout_targets(_result(t=Tally(10_000, 10_000, 0, 3, 0)), "sqlite")
    astray = fanout_targets(_result(t=Tally(10_000, 10_000, 0, 0, 2)), "sqlite")
    assert [t.passed for t in leaky] == [True, False, True, True]
    assert [t.passed for t in doubled] == [True, False, True, True]
    assert [t.passed for t in astray] == [True, True, False, True]


def test_a_skipped_row_has_no_targets_and_says_so() -> None:
    outcome = Outcome(FreshDatabase("sqlite://", "sqlite", "SQLite"), "", 1, datetime.now(UTC), 1, [])
    assert fanout_targets(None, "sqlite") == []
    assert "skipped (--no-fanout)" in fanout_heading(outcome)


def test_the_heading_says_when_the_run_made_fewer_changes_than_the_issue() -> None:
    outcome = Outcome(FreshDatabase("sqlite://", "sqlite", "SQLite"), "", 1, datetime.now(UTC), 1, [])
    outcome.fanout = _result(changes=200)
    assert "(--quick; the issue's figure is 1,000)" in fanout_heading(outcome)
    outcome.fanout = _result()
    assert "--quick" not in fanout_heading(outcome)


def test_the_table_shows_latencies_losses_and_memory_per_socket() -> None:
    _header, body, _right = fanout_table(_result())
    shown = {row[0]: row[1:] for row in body}
    assert shown["delivery latency p50 / p99 / max"][0] == "9.5 / 40.0 / 80.0 ms"
    assert shown["lost / duplicated / misdelivered"][0] == "0 / 0 / 0"
    assert shown["RSS growth for the open sockets"] == ["+30.0 MB", "61 kB a socket"]
