"""Due times and reminders through the JSON API and the add and edit pages."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.models import Todo, User
from backend.schemas.todo_form import NEEDS_CUSTOM, NEEDS_DUE_DATE
from backend.services.todos import REMIND_IN_PAST
from backend.test.factories import Account, Pages

FUTURE = "2099-01-10"


def post(client: TestClient, user: Account, **body: Any) -> Any:
    return client.post("/todos/todos", json={"title": "Call mom", **body}, headers=user.headers)


def stored(session: Session, todo_id: int) -> Any:
    session.expire_all()
    row = session.execute(select(Todo).where(Todo.id == todo_id)).scalar_one()
    session.commit()
    return row


PAST = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def mark_sent_in_the_past(session: Session, todo_id: int) -> None:
    """A reminder that went off at PAST (the API refuses to set one in the past)."""
    session.execute(update(Todo).where(Todo.id == todo_id).values(remind_at=PAST, reminder_sent_at=PAST))
    session.commit()


def sent_reminder(client: TestClient, user: Account, session: Session) -> int:
    todo_id: int = post(client, user).json()["id"]
    mark_sent_in_the_past(session, todo_id)
    return todo_id


def messages(response: Any) -> list[tuple[Any, str]]:
    return [(error["loc"][-1], error["msg"]) for error in response.json()["detail"]]


class TestApi:
    def test_a_due_time_and_reminder_are_stored_and_read_back_in_utc(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        response = post(client, user, due_date=FUTURE, due_time="09:30", remind_at="2099-01-10T09:00:00+01:00")

        assert response.status_code == 201
        body = response.json()
        assert (body["due_time"], body["remind_at"]) == ("09:30", "2099-01-10T08:00:00.000000Z")
        read = client.get(f"/todos/{body['id']}", headers=user.headers).json()
        assert read == body
        assert stored(db_session, body["id"]).remind_at == datetime(2099, 1, 10, 8, 0, tzinfo=UTC)

    def test_both_are_optional(self, client: TestClient, user: Account) -> None:
        body = post(client, user).json()

        assert (body["due_time"], body["remind_at"]) == (None, None)

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"due_time": "09:30"}, "due_time"),  # no due date
            ({"due_date": FUTURE, "due_time": "9:30"}, "due_time"),
            ({"due_date": FUTURE, "due_time": "24:00"}, "due_time"),
            ({"due_date": FUTURE, "due_time": 930}, "due_time"),
            ({"remind_at": "2099-01-10T09:00:00"}, "remind_at"),  # no offset
            ({"remind_at": "2099-01-10"}, "remind_at"),
            ({"remind_at": 4_000_000_000}, "remind_at"),
            ({"remind_at": "soon"}, "remind_at"),
        ],
    )
    def test_malformed_values_are_422_on_their_field(
        self, client: TestClient, user: Account, fields: dict[str, Any], field: str
    ) -> None:
        response = post(client, user, **fields)

        assert response.status_code == 422
        assert field in [loc for loc, _ in messages(response)]

    def test_a_reminder_in_the_past_is_refused_and_nothing_is_stored(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

        response = post(client, user, remind_at=past)

        assert response.status_code == 422
        assert messages(response) == [("remind_at", REMIND_IN_PAST)]
        assert db_session.execute(select(Todo.id).where(Todo.owner_id == user.id)).first() is None

    def test_resending_a_passed_reminder_unchanged_keeps_it_and_its_delivery(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        todo_id = sent_reminder(client, user, db_session)
        body = client.get(f"/todos/{todo_id}", headers=user.headers).json()
        editable = {k: body[k] for k in ("title", "description", "priority", "complete", "due_date", "remind_at")}

        unchanged = client.put(f"/todos/todo/{todo_id}", json={**editable, "title": "Renamed"}, headers=user.headers)
        moved_back = client.put(
            f"/todos/todo/{todo_id}", json={**editable, "remind_at": "2025-01-01T09:00:00Z"}, headers=user.headers
        )

        assert unchanged.status_code == 200, unchanged.text
        assert moved_back.status_code == 422
        assert stored(db_session, todo_id).reminder_sent_at == PAST

    def test_a_new_reminder_time_is_delivered_afresh(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        todo_id = sent_reminder(client, user, db_session)

        response = client.put(
            f"/todos/todo/{todo_id}",
            json={"title": "Call mom", "remind_at": "2099-01-01T09:00:00Z"},
            headers=user.headers,
        )

        assert response.status_code == 200
        row = stored(db_session, todo_id)
        assert (row.remind_at, row.reminder_sent_at) == (datetime(2099, 1, 1, 9, 0, tzinfo=UTC), None)


class TestPages:
    @pytest.fixture(autouse=True)
    def berlin(self, db_session: Session, user: Account) -> None:
        db_session.execute(update(User).where(User.id == user.id).values(timezone="Europe/Berlin"))
        db_session.commit()

    def add(self, client: TestClient, csrf: str, **fields: str) -> Any:
        return client.post(
            "/add-todo-page", data={"csrf_token": csrf, "title": "Call mom", **fields}, follow_redirects=False
        )

    def only_todo(self, session: Session, user: Account) -> Any:
        session.expire_all()
        row = session.execute(select(Todo).where(Todo.owner_id == user.id)).scalar_one()
        session.commit()
        return row

    @pytest.mark.parametrize(
        ("choice", "expected"),
        [
            ("due", datetime(2099, 1, 10, 9, 0, tzinfo=UTC)),  # 10:00 in Berlin (UTC+1 in January)
            ("10m", datetime(2099, 1, 10, 8, 50, tzinfo=UTC)),
            ("1h", datetime(2099, 1, 10, 8, 0, tzinfo=UTC)),
            ("1d", datetime(2099, 1, 9, 9, 0, tzinfo=UTC)),
        ],
    )
    def test_a_preset_counts_back_from_the_due_time_in_the_user_s_zone(
        self, client: TestClient, csrf: str, user: Account, db_session: Session, choice: str, expected: datetime
    ) -> None:
        response = self.add(client, csrf, due_date=FUTURE, due_time="10:00", remind=choice)

        assert response.status_code == 303
        assert self.only_todo(db_session, user).remind_at == expected

    def test_a_date_without_a_time_is_reminded_from_nine_in_the_morning(
        self, client: TestClient, csrf: str, user: Account, db_session: Session
    ) -> None:
        self.add(client, csrf, due_date="2099-07-10", remind="1h")  # summer: UTC+2

        assert self.only_todo(db_session, user).remind_at == datetime(2099, 7, 10, 6, 0, tzinfo=UTC)

    def test_a_custom_time_is_read_in_the_user_s_zone(
        self, client: TestClient, csrf: str, user: Account, db_session: Session
    ) -> None:
        self.add(client, csrf, remind="custom", remind_custom="2099-01-10T07:15")

        assert self.only_todo(db_session, user).remind_at == datetime(2099, 1, 10, 6, 15, tzinfo=UTC)

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"remind": "1h"}, "remind", NEEDS_DUE_DATE),
            ({"remind": "custom", "remind_custom": ""}, "remind_custom", NEEDS_CUSTOM),
            ({"remind": "custom", "remind_custom": "2001-01-01T09:00"}, "remind_custom", REMIND_IN_PAST),
            ({"due_time": "10:00"}, "due_time", "A due time needs a due date"),
        ],
    )
    def test_problems_are_shown_beside_the_field_and_nothing_is_stored(
        self,
        client: TestClient,
        csrf: str,
        pages: Pages,
        user: Account,
        db_session: Session,
        fields: dict[str, str],
        field: str,
        message: str,
    ) -> None:
        response = self.add(client, csrf, **fields)

        name, context = pages.of(response)
        assert (response.status_code, name) == (422, "todo_form.html")
        assert context["errors"][field] == [message]
        assert context["values"]["remind"] == fields.get("remind", "")
        assert db_session.execute(select(Todo.id).where(Todo.owner_id == user.id)).first() is None

    def test_the_edit_page_keeps_a_passed_reminder_as_it_was(
        self, client: TestClient, csrf: str, pages: Pages, user: Account, db_session: Session
    ) -> None:
        self.add(client, csrf, due_date=FUTURE, due_time="10:00", remind="1h")
        todo = self.only_todo(db_session, user)
        mark_sent_in_the_past(db_session, todo.id)

        page = client.get(f"/edit-todo-page/{todo.id}")
        _, context = pages.of(page)
        assert (context["values"]["remind"], context["keep_label"]) == ("keep", "01 Jan 2026, 10:00")
        assert "As set: 01 Jan 2026, 10:00" in page.text
        form = {key: str(context["values"][key] or "") for key in ("title", "due_date", "due_time", "remind_keep")}
        response = client.post(
            f"/edit-todo-page/{todo.id}", data={"csrf_token": csrf, **form, "remind": "keep"}, follow_redirects=False
        )

        assert response.status_code == 303
        row = self.only_todo(db_session, user)
        assert (row.remind_at, row.reminder_sent_at, row.due_time.isoformat()) == (PAST, PAST, "10:00:00")
