"""Password reset by email: the request, the mailed link, the new password, the pages."""

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.core.config import Settings
from backend.core.reset_tokens import issue_reset_token
from backend.main import create_app
from backend.services.mail import Email, Outbox
from backend.services.password_reset import INVALID, REQUESTED
from backend.test.factories import Account, bearer, login, state_of
from backend.test.live import HOST
from backend.test.mail_sink import Sink

NEW_PASSWORD = "a brand new passphrase"
REQUEST, CONFIRM = "/auth/password-reset", "/auth/password-reset/confirm"


def sent_mail(app: FastAPI) -> list[Email]:
    """Every mail the app's outbox holds, once the jobs sent so far have run."""
    background = state_of(app).background
    background.queue.join()
    assert isinstance(background.mailer, Outbox)
    return list(background.mailer.messages)


def token_in(text: str) -> str:
    link = re.search(r"https?://\S+/reset-password-page\?\S+", text)
    assert link is not None, text
    return parse_qs(urlsplit(link.group(0)).query)["token"][0]


def request_link(client: TestClient, app: FastAPI, account: Account) -> str:
    assert client.post(REQUEST, json={"email": account.email}).status_code == 202
    (mail,) = [m for m in sent_mail(app) if m.to == account.email]
    return token_in(mail.text)


class TestRequest:
    def test_an_account_gets_one_mail_with_a_link(self, client: TestClient, app: FastAPI, user: Account) -> None:
        response = client.post(REQUEST, json={"email": user.email.upper()})
        assert response.status_code == 202
        assert response.json() == {"detail": REQUESTED}
        (mail,) = sent_mail(app)
        assert mail.to == user.email  # as registered, whatever case was typed
        assert mail.subject == "Reset your password"
        assert token_in(mail.text)

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, client: TestClient, app: FastAPI) -> None:
        response = client.post(REQUEST, json={"email": "nobody@example.com"})
        assert (response.status_code, response.json()) == (202, {"detail": REQUESTED})
        assert sent_mail(app) == []

    @pytest.mark.parametrize(
        "body", [{}, {"email": "not-an-address"}, {"email": "a@b c"}, {"email": "a@b.c", "role": "admin"}]
    )
    def test_bad_bodies_are_422(self, client: TestClient, body: dict[str, str]) -> None:
        response = client.post(REQUEST, json=body)
        assert response.status_code == 422
        assert "detail" in response.json()

    def test_throttled_per_address_across_addresses_and_per_ip(
        self, client_factory: Callable[..., TestClient], user: Account
    ) -> None:
        client = client_factory(RATE_LIMIT_PASSWORD_RESET="2/hour")
        for _ in range(2):
            assert client.post(REQUEST, json={"email": user.email}).status_code == 202
        refused = client.post(REQUEST, json={"email": user.email})
        assert refused.status_code == 429
        assert "Retry-After" in refused.headers
        other_ip = client_factory(client.app, client=("203.0.113.9", 5000))
        assert other_ip.post(REQUEST, json={"email": user.email}).status_code == 429  # the address's budget
        assert client.post(REQUEST, json={"email": "other@example.com"}).status_code == 429  # the IP's budget


class TestConfirm:
    def test_the_link_sets_the_password_once_and_ends_every_session(
        self, client: TestClient, app: FastAPI, user: Account
    ) -> None:
        token = request_link(client, app, user)
        assert client.get("/user/", headers=user.headers).status_code == 200
        response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
        assert response.status_code == 204
        assert client.get("/user/", headers=user.headers).status_code == 401
        assert login(client, user.username, NEW_PASSWORD)
        again = client.post(CONFIRM, json={"token": token, "new_password": "yet another passphrase"})
        assert (again.status_code, again.json()) == (400, {"detail": INVALID})

    def test_a_password_changed_by_another_route_ends_the_link(
        self, client: TestClient, app: FastAPI, user: Account
    ) -> None:
        token = request_link(client, app, user)
        changed = client.put(
            "/user/password", json={"password": user.password, "new_password": NEW_PASSWORD}, headers=user.headers
        )
        assert changed.status_code == 204
        response = client.post(CONFIRM, json={"token": token, "new_password": "yet another passphrase"})
        assert (response.status_code, response.json()) == (400, {"detail": INVALID})

    def test_an_expired_link_is_refused(self, client: TestClient, settings: Settings, user: Account) -> None:
        token = issue_reset_token(
            user_id=user.id, version=0, account_key=user.auth_key, secret=settings.secret_key, minutes=-1
        )
        response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
        assert (response.status_code, response.json()) == (400, {"detail": INVALID})

    def test_tokens_of_one_kind_never_serve_the_other(
        self, client: TestClient, app: FastAPI, settings: Settings, user: Account
    ) -> None:
        as_reset = client.post(CONFIRM, json={"token": user.token, "new_password": NEW_PASSWORD})
        assert (as_reset.status_code, as_reset.json()) == (400, {"detail": INVALID})
        reset = issue_reset_token(
            user_id=user.id, version=0, account_key=user.auth_key, secret=settings.secret_key, minutes=30
        )
        assert client.get("/user/", headers=bearer(reset)).status_code == 401

    @pytest.mark.parametrize("token", ["", "x" * 1001, "not.a.jwt"])
    def test_malformed_tokens(self, client: TestClient, token: str) -> None:
        response = client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD})
        assert response.status_code in (400, 422)
        assert "detail" in response.json()

    def test_the_password_policy_applies(self, client: TestClient, app: FastAPI, user: Account) -> None:
        token = request_link(client, app, user)
        response = client.post(CONFIRM, json={"token": token, "new_password": "password"})
        assert response.status_code == 422
        assert {tuple(e["loc"]) for e in response.json()["detail"]} == {("body", "new_password")}
        assert client.post(CONFIRM, json={"token": token, "new_password": NEW_PASSWORD}).status_code == 204


class TestPages:
    def test_the_login_page_links_to_the_request_page(self, client: TestClient) -> None:
        assert 'href="/forgot-password-page"' in client.get("/login-page").text

    def test_request_and_reset_without_javascript(self, client: TestClient, app: FastAPI, user: Account) -> None:
        form = client.get("/forgot-password-page")
        assert form.status_code == 200 and 'action="/forgot-password-page"' in form.text
        sent = client.post("/forgot-password-page", data={"email": user.email})
        assert sent.status_code == 200 and REQUESTED in sent.text
        (mail,) = sent_mail(app)
        link = re.search(r"https?://\S+", mail.text)
        assert link is not None
        page = client.get(link.group(0))
        assert page.status_code == 200 and 'name="token"' in page.text
        weak = client.post("/reset-password-page", data={"token": token_in(mail.text), "new_password": "password"})
        assert weak.status_code == 422 and 'aria-invalid="true"' in weak.text
        done = client.post(
            "/reset-password-page",
            data={"token": token_in(mail.text), "new_password": NEW_PASSWORD},
            follow_redirects=False,
        )
        assert (done.status_code, done.headers["location"]) == (303, "/login-page?reset=1")
        assert "Your new password is set" in client.get("/login-page?reset=1").text
        used = client.post("/reset-password-page", data={"token": token_in(mail.text), "new_password": NEW_PASSWORD})
        assert used.status_code == 400 and INVALID in used.text

    def test_a_bad_address_is_said_plainly(self, client: TestClient) -> None:
        response = client.post("/forgot-password-page", data={"email": "nope"})
        assert response.status_code == 422 and "Enter the email address of your account." in response.text

    def test_cross_site_posts_are_refused(self, client: TestClient) -> None:
        headers = {"Origin": "https://evil.example"}
        assert client.post("/forgot-password-page", data={"email": "a@b.co"}, headers=headers).status_code == 403
        assert client.post("/reset-password-page", data={"token": "t"}, headers=headers).status_code == 403


def test_the_mail_reaches_a_real_smtp_server(
    client_factory: Callable[..., TestClient],
    settings_factory: Callable[..., Settings],
    sink: tuple[Sink, int],
    user: Account,
) -> None:
    handler, port = sink
    over = {"SMTP_HOST": HOST, "SMTP_PORT": port, "SMTP_STARTTLS": False, "PUBLIC_URL": "https://todo.example"}
    app = create_app(settings_factory(**over))
    client = client_factory(app)
    assert client.post(REQUEST, json={"email": user.email}).status_code == 202
    state_of(app).background.queue.join()
    (message,) = handler.messages
    assert message["To"] == user.email
    body = message.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert "https://todo.example/reset-password-page?token=" in body.decode()


def test_production_without_public_url_sends_nothing(
    client_factory: Callable[..., TestClient], user: Account, caplog: pytest.LogCaptureFixture
) -> None:
    client = client_factory(ENVIRONMENT="production", SECRET_KEY="k" * 64)
    response = client.post(REQUEST, json={"email": user.email})
    assert response.status_code == 202
    assert "PUBLIC_URL is not set" in caplog.text
