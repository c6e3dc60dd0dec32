"""The calendar feed: GET /calendar/{feed_token}.ics, its address (GET /user/calendar,
POST /user/calendar/rotate, the account page), and the secret kept out of logs and traces."""

from collections.abc import Iterator
from datetime import date, datetime, time
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.models import Todo, User
from backend.test.conftest import ClientFactory
from backend.test.core.conftest import LogCapture, logs  # noqa: F401 (a fixture)
from backend.test.core.test_tracing import Traced, make_traced
from backend.test.factories import Account, Pages, make_todo, set_active

CHRISTMAS = date(2026, 12, 24)


def feed_path(client: TestClient, account: Account) -> str:
    """The path of the account's feed, as `GET /user/calendar` tells it."""
    response = client.get("/user/calendar", headers=account.headers)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return urlsplit(url).path


def read_feed(client: TestClient, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return Calendar.from_ical(response.content)


def by_title(calendar: Calendar) -> dict[str, object]:
    return {str(todo["summary"]): todo for todo in calendar.walk("VTODO")}


def set_due_time(session: Session, todo_id: int, at: time) -> None:
    session.execute(update(Todo).where(Todo.id == todo_id).values(due_time=at))
    session.commit()


def set_zone(session: Session, user_id: int, zone: str) -> None:
    session.execute(update(User).where(User.id == user_id).values(timezone=zone))
    session.commit()


def token_of(path: str) -> str:
    return path.removeprefix("/calendar/").removesuffix(".ics")


class TestFeed:
    def test_only_the_users_open_dated_todos(
        self, client: TestClient, db_session: Session, user: Account, other_user: Account
    ) -> None:
        make_todo(db_session, user.id, title="All day", due_date=CHRISTMAS, priority=5)
        make_todo(db_session, user.id, title="Done", due_date=CHRISTMAS, complete=True)
        make_todo(db_session, user.id, title="Someday")
        make_todo(db_session, other_user.id, title="Not mine", due_date=CHRISTMAS)

        response = client.get(feed_path(client, user))

        assert response.status_code == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        assert response.headers["cache-control"] == "private, max-age=300"
        assert response.headers["x-robots-tag"] == "noindex"
        calendar = Calendar.from_ical(response.content)
        assert str(calendar["x-wr-calname"]) == f"Todos of {user.username}"
        assert set(by_title(calendar)) == {"All day"}

    def test_due_is_a_date_without_a_time_and_a_zoned_time_with_one(
        self, client: TestClient, db_session: Session, user: Account
    ) -> None:
        set_zone(db_session, user.id, "Europe/Berlin")
        all_day = make_todo(db_session, user.id, title="All day", due_date=CHRISTMAS)
        timed = make_todo(db_session, user.id, title="Timed", due_date=CHRISTMAS)
        set_due_time(db_session, timed["id"], time(9, 30))

        calendar = read_feed(client, feed_path(client, user))

        todos = by_title(calendar)
        assert todos["All day"]["due"].dt == CHRISTMAS  # type: ignore[index]
        due = todos["Timed"]["due"].dt  # type: ignore[index]
        assert due == datetime(2026, 12, 24, 9, 30, tzinfo=ZoneInfo("Europe/Berlin"))
        assert todos["Timed"]["due"].params["TZID"] == "Europe/Berlin"  # type: ignore[index]
        assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
        # The same UIDs as the export's, so an imported export and the feed are one todo each.
        assert str(todos["All day"]["uid"]) == f"todo-{all_day['id']}@testserver"  # type: ignore[index]

    def test_a_utc_users_due_times_are_utc(self, client: TestClient, db_session: Session, user: Account) -> None:
        timed = make_todo(db_session, user.id, title="Timed", due_date=CHRISTMAS)
        set_due_time(db_session, timed["id"], time(9, 30))

        response = client.get(feed_path(client, user))

        assert b"DUE:20261224T093000Z" in response.content
        assert Calendar.from_ical(response.content).walk("VTIMEZONE") == []

    def test_a_user_without_dated_todos_gets_an_empty_calendar(self, client: TestClient, user: Account) -> None:
        calendar = read_feed(client, feed_path(client, user))

        assert calendar.walk("VTODO") == []
        assert str(calendar["version"]) == "2.0"

    @pytest.mark.parametrize("token", ["nope", "x" * 43, "x" * 500])
    def test_an_unknown_address_is_404(self, client: TestClient, user: Account, token: str) -> None:
        response = client.get(f"/calendar/{token}.ics")

        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}

    def test_an_inactive_users_feed_is_404(self, client: TestClient, db_session: Session, user: Account) -> None:
        path = feed_path(client, user)
        set_active(db_session, user.id, active=False)

        assert client.get(path).status_code == 404

    def test_a_deleted_users_feed_is_404(self, client: TestClient, db_session: Session, user: Account) -> None:
        path = feed_path(client, user)
        db_session.execute(delete(User).where(User.id == user.id))
        db_session.commit()

        assert client.get(path).status_code == 404


class TestAddress:
    def test_anonymous_is_401(self, client: TestClient) -> None:
        assert client.get("/user/calendar").status_code == 401
        assert client.post("/user/calendar/rotate").status_code == 401

    def test_the_address_is_stable_and_per_user(self, client: TestClient, user: Account, other_user: Account) -> None:
        mine = feed_path(client, user)

        assert feed_path(client, user) == mine
        assert feed_path(client, other_user) != mine
        assert len(token_of(mine)) >= 43  # 256 random bits

    def test_the_address_starts_with_public_url_when_set(self, client_factory: ClientFactory, user: Account) -> None:
        client = client_factory(PUBLIC_URL="https://todo.example.com")

        url = client.get("/user/calendar", headers=user.headers).json()["url"]

        assert url.startswith("https://todo.example.com/calendar/")
        assert url.endswith(".ics")

    def test_without_public_url_it_is_the_requests_address(self, client: TestClient, user: Account) -> None:
        url = client.get("/user/calendar", headers=user.headers).json()["url"]

        assert url.startswith("http://testserver/calendar/")

    def test_rotating_retires_the_old_address(self, client: TestClient, user: Account) -> None:
        old = feed_path(client, user)

        response = client.post("/user/calendar/rotate", headers=user.headers)

        assert response.status_code == 200
        new = urlsplit(response.json()["url"]).path
        assert new != old
        assert feed_path(client, user) == new
        assert client.get(old).status_code == 404
        assert client.get(new).status_code == 200

    def test_a_cookie_caller_needs_the_csrf_header(self, client: TestClient, csrf: str, user: Account) -> None:
        old = feed_path(client, user)

        assert client.post("/user/calendar/rotate").status_code == 403
        assert feed_path(client, user) == old
        assert client.post("/user/calendar/rotate", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert feed_path(client, user) != old


class TestAccountPage:
    def test_shows_the_full_address(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        _, context = pages.of(client.get("/account-page"))

        assert context["calendar_url"] == client.get("/user/calendar", headers=user.headers).json()["url"]

    def test_the_form_rotates_and_says_so(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        old = feed_path(client, user)

        response = client.post("/account-page/calendar", data={"csrf_token": csrf}, follow_redirects=False)

        assert (response.status_code, response.headers["location"]) == (303, "/account-page?changed=calendar")
        _, context = pages.of(client.get(response.headers["location"]))
        assert context["notice"] == "Your calendar address was changed. The old one no longer works."
        assert urlsplit(context["calendar_url"]).path != old
        assert client.get(old).status_code == 404

    def test_the_form_needs_the_csrf_token(self, client: TestClient, csrf: str, user: Account) -> None:
        old = feed_path(client, user)

        assert client.post("/account-page/calendar", data={}).status_code == 403
        assert feed_path(client, user) == old


class TestSecretKeptOut:
    def test_the_token_never_reaches_the_logs(
        self,
        client: TestClient,
        logs: LogCapture,  # noqa: F811 (the imported fixture)
        user: Account,
        db_session: Session,
    ) -> None:
        make_todo(db_session, user.id, title="Dated", due_date=CHRISTMAS)
        path = feed_path(client, user)
        client.get(path)
        client.get(path.removesuffix(".ics"))  # no such route: still a secret in the path
        client.post("/user/calendar/rotate", headers=user.headers)
        client.get(path)  # now unknown

        assert token_of(path) not in logs.text
        feed_lines = [line for line in logs.access() if line["path"].startswith("/calendar/")]
        assert [(line["path"], line["status"]) for line in feed_lines] == [
            ("/calendar/***.ics", 200),
            ("/calendar/***", 404),
            ("/calendar/***.ics", 404),
        ]
        assert feed_lines[0]["route"] == "/calendar/{feed_token}.ics"


@pytest.fixture
def traced(settings: Settings) -> Iterator[Traced]:
    yield from make_traced(settings)


class TestSecretKeptOutOfTraces:
    def test_the_request_span_shows_the_path_redacted(self, traced: Traced, user: Account) -> None:
        with TestClient(traced.app) as client:
            path = feed_path(client, user)
            assert client.get(path).status_code == 200

        server = traced.named("GET /calendar/{feed_token}.ics")
        assert server.attributes is not None
        assert server.attributes["url.path"] == "/calendar/***.ics"
        assert all(token_of(path) not in str(span.attributes) for span in traced.spans())
