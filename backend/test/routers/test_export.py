"""GET /todos/export: the caller's todos, and only theirs, as CSV, JSON or iCalendar."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import User
from backend.services.export import owner_todos
from backend.services.export_formats import CSV_FIELDS
from backend.test.factories import Account, make_todo, state_of, use_session

EXPORT = "/todos/export"


@pytest.fixture
def todos(db_session: Session, user: Account, other_user: Account) -> list[dict[str, object]]:
    make_todo(db_session, other_user.id, title="not mine")
    return [
        dict(
            make_todo(
                db_session, user.id, title="Buy milk", description="2 litres", priority=5, due_date=date(2026, 12, 24)
            )
        ),
        dict(make_todo(db_session, user.id, title='Quote "this", then, a comma', complete=True, priority=1)),
        dict(make_todo(db_session, user.id, title="Plain")),
    ]


def test_json_is_the_list_of_the_callers_todos(
    client: TestClient, user: Account, todos: list[dict[str, object]]
) -> None:
    response = client.get(EXPORT, params={"format": "json"}, headers=user.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith('attachment; filename="todos-')
    assert response.headers["content-disposition"].endswith('.json"')
    assert response.json() == todos
    assert client.get(EXPORT, headers=user.headers).json() == todos  # json is the default


def test_csv_has_a_header_row_and_one_line_per_todo(
    client: TestClient, user: Account, todos: list[dict[str, object]]
) -> None:
    response = client.get(EXPORT, params={"format": "csv"}, headers=user.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    lines = list(csv.reader(io.StringIO(response.text)))
    assert tuple(lines[0]) == CSV_FIELDS
    assert [line[2] for line in lines[1:]] == [todo["title"] for todo in todos]
    assert lines[2][CSV_FIELDS.index("complete")] == "True"


def test_ics_has_one_vtodo_per_todo(client: TestClient, user: Account, todos: list[dict[str, object]]) -> None:
    response = client.get(EXPORT, params={"format": "ics"}, headers=user.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    items = Calendar.from_ical(response.text).walk("VTODO")
    assert [str(item["SUMMARY"]) for item in items] == [todo["title"] for todo in todos]
    milk, quoted, _plain = items
    assert milk.decoded("DUE") == date(2026, 12, 24)
    assert (milk.decoded("PRIORITY"), str(milk["STATUS"])) == (1, "NEEDS-ACTION")
    assert (quoted.decoded("PRIORITY"), str(quoted["STATUS"])) == (9, "COMPLETED")
    assert "DUE" not in quoted
    assert len({str(item["UID"]) for item in items}) == 3


def test_an_account_without_todos_exports_empty_files(client: TestClient, user: Account) -> None:
    assert client.get(EXPORT, headers=user.headers).json() == []
    assert client.get(EXPORT, params={"format": "csv"}, headers=user.headers).text.strip() == ",".join(CSV_FIELDS)
    assert (
        Calendar.from_ical(client.get(EXPORT, params={"format": "ics"}, headers=user.headers).text).walk("VTODO") == []
    )


def test_refusals(client: TestClient, user: Account) -> None:
    assert client.get(EXPORT).status_code == 401
    bad = client.get(EXPORT, params={"format": "xlsx"}, headers=user.headers)
    assert bad.status_code == 422 and "detail" in bad.json()


def test_rows_are_read_in_batches_in_id_order(
    app: FastAPI, client: TestClient, db_session: Session, user: Account
) -> None:
    del client  # started, so that the app's lifespan disposes of its database at the end
    made = [make_todo(db_session, user.id, title=f"t{n}")["id"] for n in range(5)]
    batches = list(owner_todos(state_of(app).db, user.id, batch=2))
    assert [len(batch) for batch in batches] == [2, 2, 1]
    assert [row["id"] for batch in batches for row in batch] == made


def test_the_list_page_links_to_each_format_for_the_browser_session(
    client: TestClient, settings: Settings, user: Account, todos: list[dict[str, object]]
) -> None:
    use_session(client, settings, user)
    page = client.get("/todo-page").text
    for name in ("csv", "json", "ics"):
        assert f'href="/todos/export?format={name}"' in page
    download = client.get("/todos/export?format=csv")  # the session cookie is enough for a GET
    assert download.status_code == 200
    assert len(download.text.strip().splitlines()) == 1 + len(todos)


def test_ics_gives_a_due_time_as_its_moment_in_utc_and_a_reminder_as_an_alarm(
    client: TestClient, user: Account, db_session: Session
) -> None:
    db_session.execute(update(User).where(User.id == user.id).values(timezone="Europe/Berlin"))
    db_session.commit()
    make_todo(
        db_session,
        user.id,
        title="Dentist",
        due_date=date(2099, 1, 10),
        due_time="10:30",
        remind_at="2099-01-10T08:30:00Z",
    )

    response = client.get(EXPORT, params={"format": "ics"}, headers=user.headers)

    (item,) = Calendar.from_ical(response.text).walk("VTODO")
    assert item.decoded("DUE") == datetime(2099, 1, 10, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
    (alarm,) = item.walk("VALARM")
    assert alarm.decoded("TRIGGER") == datetime(2099, 1, 10, 8, 30, tzinfo=UTC)
    assert str(alarm["ACTION"]) == "DISPLAY"
