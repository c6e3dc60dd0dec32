"""The benchmark's export-memory row: its peak, its target, its table, and the todos it inserts."""

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from backend.scripts.bench import export_memory
from backend.scripts.bench.database import FreshDatabase
from backend.scripts.bench.export_memory import ExportRow, insert_todos, peak_kb, todo_rows
from backend.scripts.bench.report import Outcome, export_heading, export_table
from backend.scripts.bench.targets import export_targets
from backend.test.factories import Account


def _row(fmt: str = "json", *, before: float = 128.0, peak: float = 130.0, status: int = 200) -> ExportRow:
    return ExportRow(fmt, 100_000, status, 23_400_000, 1_100_000, 2.04, before, peak, 41)


def test_a_risen_high_water_mark_is_the_peak_the_samples_may_have_missed() -> None:
    assert peak_kb(sampled_max=130_000, hwm_before=131_000, hwm_after=140_000) == 140_000


def test_under_an_older_high_water_mark_the_samples_are_the_peak() -> None:
    assert peak_kb(sampled_max=130_000, hwm_before=150_000, hwm_after=150_000) == 130_000


def test_growth_under_30_mb_with_http_200_passes_and_anything_else_fails() -> None:
    rows = [_row(peak=157.9), _row("csv", peak=158.0), _row("ics", status=500)]
    assert [t.passed for t in export_targets(rows)] == [True, False, False]
    assert export_targets(rows)[2].value == "+2.0 MB (HTTP 500)"


def test_the_table_shows_megabytes_seconds_and_signed_growth() -> None:
    header, body, _right = export_table([_row()])
    shown = dict(zip(header, body[0], strict=True))
    assert shown["todos"] == "100,000"
    assert shown["MB"] == "23.4"
    assert shown["MB on the wire"] == "1.1"
    assert shown["seconds"] == "2.0"
    assert (shown["RSS before MB"], shown["peak MB"], shown["growth MB"]) == ("128.0", "130.0", "+2.0")


@pytest.mark.parametrize(
    ("todos", "says"),
    [(100_000, "of 100,000 todos, each"), (10_000, "(--quick; the issue's figure is 100,000)"), (0, "skipped")],
)
def test_the_heading_says_how_many_todos_and_whether_it_was_quick(todos: int, says: str) -> None:
    outcome = Outcome(FreshDatabase("sqlite://", "sqlite", "SQLite"), "", 1, datetime.now(UTC), 1, [])
    outcome.export_todos = todos
    assert says in export_heading(outcome)


def test_seeded_rows_carry_due_times_and_reminders_on_every_fourth_dated_todo() -> None:
    rows = todo_rows(7, 3, 0, 24, datetime.now(UTC))
    timed = [n for n, r in enumerate(rows) if r["due_time"] is not None]
    assert timed == [n for n in range(24) if n % 4 == 0 and n % 3]
    assert all(rows[n]["remind_at"] is not None and rows[n]["due_date"] is not None for n in timed)
    assert {r["owner_id"] for r in rows} == {7}


def test_inserted_todos_are_the_users_own_in_the_api_and_the_export(
    monkeypatch: pytest.MonkeyPatch, database_url: str, client: TestClient, user: Account
) -> None:
    monkeypatch.setattr(export_memory, "INSERT_BATCH", 100)  # several batches, the last one short
    insert_todos(database_url, user.username, 250)
    listed = client.get("/todos/?limit=1", headers=user.headers)
    assert listed.headers["X-Total-Count"] == "250"  # the user's todo count kept in step
    exported = client.get("/todos/export?format=json", headers=user.headers).json()
    assert len(exported) == 250
    assert exported[0]["title"] == "E todo number 0"
    ics = Calendar.from_ical(client.get("/todos/export?format=ics", headers=user.headers).content)
    assert len(ics.walk("VALARM")) == sum(1 for n in range(250) if n % 4 == 0 and n % 3)
