"""`POST /todos/quick`: one line in, a todo out, read in the caller's own today."""

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from backend.test.factories import Account

TEXT = "Call mom tomorrow 9am #family !4 @Home every week"


def quick(client: TestClient, user: Account, text: str, **params: Any) -> Any:
    return client.post("/todos/quick", json={"text": text}, params=params, headers=user.headers)


def make_list(client: TestClient, user: Account, name: str) -> int:
    response = client.post("/lists/", json={"name": name}, headers=user.headers)
    assert response.status_code == 201
    list_id: int = response.json()["id"]
    return list_id


class TestQuickAdd:
    def test_the_example_is_stored_with_everything_it_names(self, client: TestClient, user: Account) -> None:
        home = make_list(client, user, "home")
        response = quick(client, user, TEXT)
        assert response.status_code == 201, response.text
        todo = response.json()
        tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        assert (todo["title"], todo["tags"], todo["priority"], todo["list_id"]) == ("Call mom", ["family"], 4, home)
        assert (todo["due_date"], todo["due_time"], todo["repeat"]) == (tomorrow, "09:00", "weekly")
        assert response.headers["Location"] == f"/todos/{todo['id']}"
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json() == todo

    def test_preview_stores_nothing(self, client: TestClient, user: Account) -> None:
        make_list(client, user, "Home")
        response = quick(client, user, TEXT, preview="true")
        assert response.status_code == 200
        assert response.json()["title"] == "Call mom" and response.json()["list_name"] == "Home"
        assert client.get("/todos/", headers=user.headers).json() == []

    def test_plain_text_goes_to_the_inbox_with_defaults(self, client: TestClient, user: Account) -> None:
        todo = quick(client, user, "  Buy milk  ").json()
        inbox = client.get("/lists/", headers=user.headers).json()[0]["id"]
        assert (todo["title"], todo["priority"], todo["due_date"], todo["list_id"]) == ("Buy milk", 3, None, inbox)

    def test_an_unknown_list_is_named_in_the_422(self, client: TestClient, user: Account) -> None:
        response = quick(client, user, "Thing @Nowhere")
        assert response.status_code == 422
        assert "Nowhere" in response.json()["detail"][0]["msg"]
        assert response.json()["detail"][0]["loc"] == ["body", "text"]

    def test_shared_lists_count_only_when_writable(
        self, client: TestClient, user: Account, other_user: Account
    ) -> None:
        garden = make_list(client, other_user, "Garden")
        members = f"/lists/{garden}/members"
        client.post(members, json={"username": user.username, "role": "viewer"}, headers=other_user.headers)
        assert quick(client, user, "Weed @garden").status_code == 422
        client.post(members, json={"username": user.username, "role": "editor"}, headers=other_user.headers)
        created = quick(client, user, "Weed @garden")
        assert created.status_code == 201 and created.json()["list_id"] == garden
        assert created.json()["owner_id"] == other_user.id

    def test_dates_are_the_users_own(self, client: TestClient, user: Account) -> None:
        zone = "Pacific/Kiritimati"  # UTC+14: its date is ahead of UTC's for most of the day
        assert client.put("/user/timezone/Pacific%2FKiritimati", headers=user.headers).status_code == 204
        today = datetime.now(ZoneInfo(zone)).date().isoformat()
        assert quick(client, user, "Now today").json()["due_date"] == today

    def test_malformed_input_is_422_in_plain_words(self, client: TestClient, user: Account) -> None:
        for text in ("!7 thing", "feb 30 party", "#only"):
            response = quick(client, user, text)
            assert response.status_code == 422, text
            assert isinstance(response.json()["detail"][0]["msg"], str)
        for body in ({}, {"text": ""}, {"text": "x" * 501}, {"text": "a", "list_id": 1}):
            assert client.post("/todos/quick", json=body, headers=user.headers).status_code == 422
