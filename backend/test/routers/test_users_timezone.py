"""The caller's time zone: PUT /user/timezone/{timezone}, GET /user/, the account page's form."""

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.core.zones import ZONE_MESSAGE, today_in
from backend.test.factories import Account, Pages
from backend.test.routers.conftest import MakeTodo

# UTC+14 and UTC-12: at any moment at least one of them is on another date than UTC.
FAR_ZONES = ("Pacific/Kiritimati", "Etc/GMT+12")


def zone_of(client: TestClient, account: Account) -> str:
    zone: str = client.get("/user/", headers=account.headers).json()["timezone"]
    return zone


class TestSetTimezone:
    def test_new_accounts_are_in_utc(self, client: TestClient, user: Account) -> None:
        assert zone_of(client, user) == "UTC"

    def test_an_encoded_slash_sets_the_zone(self, client: TestClient, user: Account) -> None:
        response = client.put("/user/timezone/Europe%2FBerlin", headers=user.headers)

        assert response.request.url.raw_path == b"/user/timezone/Europe%2FBerlin"  # sent encoded, as typed
        assert response.status_code == 204
        assert response.content == b""
        assert zone_of(client, user) == "Europe/Berlin"

    @pytest.mark.parametrize("zone", ["America/Argentina/Buenos_Aires", "Asia/Tokyo", "UTC", "Etc/GMT+12"])
    def test_a_plain_slash_works_too(self, client: TestClient, user: Account, zone: str) -> None:
        assert client.put(f"/user/timezone/{zone}", headers=user.headers).status_code == 204

        assert zone_of(client, user) == zone

    def test_only_the_callers_zone_changes(self, client: TestClient, user: Account, other_user: Account) -> None:
        client.put("/user/timezone/Asia%2FTokyo", headers=user.headers)

        assert zone_of(client, other_user) == "UTC"

    @pytest.mark.parametrize(
        "zone", ["Mars%2FOlympus_Mons", "europe%2Fberlin", "localtime", "Europe%2FBerlin%2F", "x" * 65, "%20"]
    )
    def test_an_unknown_zone_is_a_plain_422(self, client: TestClient, user: Account, zone: str) -> None:
        response = client.put(f"/user/timezone/{zone}", headers=user.headers)

        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"] == ZONE_MESSAGE
        assert zone_of(client, user) == "UTC"

    def test_anonymous_is_401(self, client: TestClient) -> None:
        response = client.put("/user/timezone/Europe%2FBerlin")

        assert response.status_code == 401
        assert "WWW-Authenticate" in response.headers

    def test_a_cookie_caller_needs_the_csrf_header(self, client: TestClient, csrf: str, user: Account) -> None:
        refused = client.put("/user/timezone/Europe%2FBerlin")
        accepted = client.put("/user/timezone/Europe%2FBerlin", headers={"X-CSRF-Token": csrf})

        assert refused.status_code == 403
        assert accepted.status_code == 204
        assert zone_of(client, user) == "Europe/Berlin"


class TestTimezoneForm:
    def test_the_account_page_shows_the_zone_and_offers_names(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        client.put("/user/timezone/Asia%2FTokyo", headers=user.headers)

        name, context = pages.of(client.get("/account-page"))

        assert name == "account.html"
        assert context["user"].timezone == "Asia/Tokyo"
        assert {"UTC", "Europe/Berlin", "America/New_York"} <= set(context["zones"])

    def test_the_form_saves_the_zone(self, client: TestClient, pages: Pages, csrf: str, user: Account) -> None:
        response = client.post("/account-page/timezone", data={"csrf_token": csrf, "timezone": " Europe/Berlin "})

        assert response.status_code == 200
        assert pages.of(response)[1]["notice"] == "Time zone saved."
        assert zone_of(client, user) == "Europe/Berlin"

    @pytest.mark.parametrize("zone", ["Berlin", ""])
    def test_an_unknown_zone_is_shown_beside_the_field(
        self, client: TestClient, pages: Pages, csrf: str, user: Account, zone: str
    ) -> None:
        response = client.post("/account-page/timezone", data={"csrf_token": csrf, "timezone": zone})

        _, context = pages.of(response)
        assert response.status_code == 422
        assert context["errors"] == {"timezone": [ZONE_MESSAGE]}
        assert context["values"] == {"timezone": zone}
        assert zone_of(client, user) == "UTC"

    def test_the_form_needs_the_csrf_token(self, client: TestClient, csrf: str, user: Account) -> None:
        response = client.post("/account-page/timezone", data={"timezone": "Europe/Berlin"})

        assert response.status_code == 403
        assert zone_of(client, user) == "UTC"

    def test_anonymous_goes_to_the_login_page(self, client: TestClient) -> None:
        response = client.post("/account-page/timezone", data={"timezone": "Europe/Berlin"}, follow_redirects=False)

        assert response.status_code in (303, 307)
        assert response.headers["location"].startswith("/login-page")


def far_zone() -> tuple[str, date, date]:
    """A zone whose date differs from UTC's right now, its date, and UTC's."""
    utc = today_in("UTC")
    zone = next(name for name in FAR_ZONES if today_in(name) != utc)
    return zone, today_in(zone), utc


class TestListPageInTheUsersZone:
    def shown(self, client: TestClient, pages: Pages) -> tuple[dict[int, dict[str, Any]], date, date]:
        """The list page's todos by id, with UTC's date before and after the request
        (a test that straddles midnight in UTC sees them differ and tries again)."""
        before = today_in("UTC")
        _, context = pages.of(client.get("/todo-page"))
        return {todo["id"]: todo for todo in context["todos"]}, before, today_in("UTC")

    def test_today_and_overdue_follow_the_users_zone(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo, user: Account
    ) -> None:
        for _ in range(2):
            zone, zone_today, utc_today = far_zone()
            theirs = make(title="Due on their today", due_date=zone_today)["id"]
            utcs = make(title="Due on UTC's today", due_date=utc_today)["id"]
            assert client.put(f"/user/timezone/{zone}", headers=user.headers).status_code == 204

            todos, before, after = self.shown(client, pages)
            if before == after == utc_today:
                break
        assert todos[theirs]["due_label"] == "today"
        assert todos[theirs]["overdue"] is False
        assert todos[utcs]["due_label"] != "today"
        # UTC's date is yesterday where the user is ahead of UTC: overdue there.
        assert todos[utcs]["overdue"] is (utc_today < zone_today)

    def test_in_utc_the_same_todo_is_not_due_today(
        self, client: TestClient, pages: Pages, csrf: str, make: MakeTodo
    ) -> None:
        for _ in range(2):
            _, zone_today, utc_today = far_zone()
            theirs = make(title="Due on another zone's today", due_date=zone_today)["id"]

            todos, before, after = self.shown(client, pages)
            if before == after == utc_today:
                break
        assert todos[theirs]["due_label"] != "today"
        assert todos[theirs]["overdue"] is (zone_today < utc_today)

    def test_the_page_hands_the_users_date_to_its_script(
        self, client: TestClient, pages: Pages, csrf: str, user: Account
    ) -> None:
        zone, _, _ = far_zone()
        client.put(f"/user/timezone/{zone}", headers=user.headers)

        before = today_in(zone).isoformat()
        _, context = pages.of(client.get("/todo-page"))

        assert context["today"] in {before, today_in(zone).isoformat()}
