"""Browser sessions: renewed while in use, never past SESSION_MAX_HOURS; private answers.

Also the form drafts (routers/drafts.py): a form posted on an ended session comes back,
as typed, after signing in.
"""

import time
from http.cookies import SimpleCookie

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.tokens import issue_token, read_token
from backend.models import FormDraft
from backend.test.factories import DEFAULT_PASSWORD, Account, Pages, make_todo, use_session


def session_token(settings: Settings, account: Account, *, minutes: int, started: int | None = None) -> str:
    """A session token for `account` with `minutes` left, started at `started` (epoch s)."""
    claims = read_token(account.token, secret=settings.secret_key)
    return issue_token(
        user_id=account.id,
        version=0,
        account_key=account.auth_key,
        secret=settings.secret_key,
        minutes=minutes,
        jti=claims.jti,
        session_start=started,
    ).token


def renewed_cookie(response: object) -> str | None:
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        cookie: SimpleCookie = SimpleCookie(header)
        if "session" in cookie and cookie["session"].value:
            return cookie["session"].value
    return None


class TestSlidingSession:
    def test_a_fresh_session_is_not_renewed(self, client: TestClient, settings: Settings, user: Account) -> None:
        use_session(client, settings, user)

        assert renewed_cookie(client.get("/todo-page")) is None

    def test_a_request_in_the_second_half_gets_a_fresh_cookie(
        self, client: TestClient, settings: Settings, user: Account
    ) -> None:
        old = session_token(settings, user, minutes=10)  # 10 of 30 minutes left
        client.cookies.set("session", old)

        new = renewed_cookie(client.get("/todo-page"))

        assert new is not None and new != old
        old_claims, new_claims = (read_token(t, secret=settings.secret_key) for t in (old, new))
        assert new_claims.jti == old_claims.jti  # same session: CSRF tokens and logout still apply
        assert new_claims.session_start == old_claims.session_start
        assert new_claims.expires_at > old_claims.expires_at

    def test_api_calls_with_the_cookie_renew_it_too(
        self, client: TestClient, settings: Settings, user: Account
    ) -> None:
        client.cookies.set("session", session_token(settings, user, minutes=5))

        assert renewed_cookie(client.get("/todos/")) is not None

    def test_renewal_never_passes_the_absolute_limit(
        self, client: TestClient, settings: Settings, user: Account
    ) -> None:
        end = int(time.time()) + 300  # the session may last 5 more minutes
        started = end - settings.SESSION_MAX_HOURS * 3600
        client.cookies.set("session", session_token(settings, user, minutes=2, started=started))

        new = renewed_cookie(client.get("/todo-page"))

        assert new is not None
        assert read_token(new, secret=settings.secret_key).expires_at.timestamp() <= end

    def test_a_session_at_its_absolute_limit_is_not_renewed(
        self, client: TestClient, settings: Settings, user: Account
    ) -> None:
        started = int(time.time()) - settings.SESSION_MAX_HOURS * 3600
        client.cookies.set("session", session_token(settings, user, minutes=2, started=started))

        assert renewed_cookie(client.get("/todo-page")) is None

    def test_logout_is_not_undone_by_a_renewal(self, client: TestClient, settings: Settings, user: Account) -> None:
        old = session_token(settings, user, minutes=5)
        client.cookies.set("session", old)
        csrf = use_session(client, settings, user)
        client.cookies.set("session", old)

        response = client.post("/auth/logout", headers={"X-CSRF-Token": csrf})

        assert response.status_code == 204
        assert renewed_cookie(response) is None


class TestPrivateResponses:
    @pytest.mark.parametrize("path", ["/todo-page", "/account-page", "/todos/", "/user/"])
    def test_answers_for_a_signed_in_user_are_no_store(
        self, client: TestClient, settings: Settings, user: Account, path: str
    ) -> None:
        use_session(client, settings, user)

        assert client.get(path).headers["cache-control"] == "no-store"

    def test_bearer_answers_are_no_store_and_still_304(self, client: TestClient, user: Account) -> None:
        first = client.get("/todos/", headers=user.headers)
        again = client.get("/todos/", headers={**user.headers, "If-None-Match": first.headers["etag"]})

        assert first.headers["cache-control"] == "no-store"
        assert again.status_code == 304

    def test_public_pages_stay_cacheable_by_the_browser(self, client: TestClient) -> None:
        assert "no-store" not in client.get("/login-page").headers.get("cache-control", "")


class TestExpiredSessionForms:
    def expired_session(self, client: TestClient, settings: Settings, user: Account) -> str:
        csrf = use_session(client, settings, user)
        client.cookies.set("session", session_token(settings, user, minutes=-1))
        return csrf

    def test_the_form_comes_back_after_signing_in(
        self, client: TestClient, settings: Settings, user: Account, pages: Pages, db_session: Session
    ) -> None:
        csrf = self.expired_session(client, settings, user)
        typed = {"title": "Typed before the session ended", "description": "every word", "priority": "5"}

        posted = client.post("/add-todo-page", data={**typed, "csrf_token": csrf}, follow_redirects=False)

        assert posted.status_code == 303
        assert posted.headers["location"].startswith("/login-page?")
        assert "Typed" not in posted.headers["location"]  # never in a URL
        login_page = client.get(posted.headers["location"])
        assert pages.of(login_page)[1]["notice"] == "Your session expired. Sign in to continue."
        signed_in = client.post(
            "/login-page",
            data={"username": user.username, "password": DEFAULT_PASSWORD, "next": "/add-todo-page"},
            follow_redirects=False,
        )
        assert signed_in.headers["location"] == "/add-todo-page"
        form = client.get("/add-todo-page")
        values = pages.of(form)[1]["values"]
        assert (values["title"], values["description"], values["priority"]) == (typed["title"], "every word", 5)
        assert db_session.execute(select(func.count()).select_from(FormDraft)).scalar_one() == 0

    def test_the_edit_form_comes_back_on_its_own_page(
        self, client: TestClient, settings: Settings, user: Account, pages: Pages, db_session: Session
    ) -> None:
        todo = make_todo(db_session, user.id, title="Original")
        csrf = self.expired_session(client, settings, user)

        posted = client.post(
            f"/edit-todo-page/{todo['id']}", data={"title": "Edited", "csrf_token": csrf}, follow_redirects=False
        )
        use_session(client, settings, user)

        assert f"next=%2Fedit-todo-page%2F{todo['id']}" in posted.headers["location"]
        assert pages.of(client.get("/add-todo-page"))[1]["values"].get("title") != "Edited"  # other form: not here
        assert pages.of(client.get(f"/edit-todo-page/{todo['id']}"))[1]["values"]["title"] == "Edited"

    def test_a_kept_edit_form_still_names_the_version_it_was_opened_with(
        self, client: TestClient, settings: Settings, user: Account, pages: Pages, db_session: Session
    ) -> None:
        todo = make_todo(db_session, user.id, title="Original")
        use_session(client, settings, user)
        opened = pages.of(client.get(f"/edit-todo-page/{todo['id']}"))[1]["values"]["version"]
        csrf = self.expired_session(client, settings, user)
        client.post(f"/edit-todo-page/{todo['id']}", data={"title": "Edited", "version": opened, "csrf_token": csrf})
        client.patch(f"/todos/todo/{todo['id']}", json={"title": "Meanwhile"}, headers=user.headers)
        csrf = use_session(client, settings, user)

        restored = pages.of(client.get(f"/edit-todo-page/{todo['id']}"))[1]["values"]
        saved = client.post(f"/edit-todo-page/{todo['id']}", data={**restored, "csrf_token": csrf})

        assert (restored["title"], restored["version"]) == ("Edited", opened)
        assert saved.status_code == 409  # the change made meanwhile is shown, not overwritten

    def test_passwords_are_never_kept(
        self, client: TestClient, settings: Settings, user: Account, db_session: Session
    ) -> None:
        csrf = self.expired_session(client, settings, user)

        client.post(
            "/account-page/password",
            data={"password": "old-Secret-words-1", "new_password": "new-Secret-words-2", "csrf_token": csrf},
        )

        stored = db_session.execute(select(FormDraft.fields)).scalars().all()
        assert not any("Secret" in fields for fields in stored)

    def test_json_calls_on_an_ended_session_get_a_plain_401(
        self, client: TestClient, settings: Settings, user: Account
    ) -> None:
        csrf = self.expired_session(client, settings, user)

        response = client.post("/todos/todos", json={"title": "x"}, headers={"X-CSRF-Token": csrf})

        assert response.status_code == 401
        assert response.json() == {"detail": "Could not validate credentials"}
