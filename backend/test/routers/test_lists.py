"""Lists and sharing over the JSON API: every route for owner, editor, viewer, stranger and admin."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.test.factories import Account

Headers = dict[str, str]


def new_list(client: TestClient, user: Account, name: str = "Work", **extra: Any) -> dict[str, Any]:
    response = client.post("/lists/", json={"name": name, **extra}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def share(client: TestClient, owner: Account, list_id: int, member: Account, role: str) -> None:
    response = client.post(
        f"/lists/{list_id}/members", json={"username": member.username, "role": role}, headers=owner.headers
    )
    assert response.status_code == 201, response.text


def add(client: TestClient, user: Account, **todo: Any) -> dict[str, Any]:
    response = client.post("/todos/todos", json={"title": "T", **todo}, headers=user.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def people(account_factory: Callable[..., Account]) -> dict[str, Account]:
    return {name: account_factory() for name in ("owner", "editor", "viewer", "stranger")}


@pytest.fixture
def shared(client: TestClient, people: dict[str, Account]) -> dict[str, Any]:
    """A list of the owner's shared with an editor and a viewer, holding one todo."""
    work = new_list(client, people["owner"], "Work", color="#2563eb")
    share(client, people["owner"], work["id"], people["editor"], "editor")
    share(client, people["owner"], work["id"], people["viewer"], "viewer")
    todo = add(client, people["owner"], title="Plan", list_id=work["id"])
    return {"list": work, "todo": todo}


class TestInbox:
    def test_every_new_user_has_an_inbox_that_new_todos_go_to(self, client: TestClient, user: Account) -> None:
        lists = client.get("/lists/", headers=user.headers).json()
        assert [(row["name"], row["is_inbox"], row["role"], row["owner"]) for row in lists] == [
            ("Inbox", True, "owner", user.username)
        ]
        todo = add(client, user)
        assert todo["list_id"] == lists[0]["id"]
        assert client.get(f"/todos/{todo['id']}", headers=user.headers).json()["list_id"] == lists[0]["id"]

    def test_counts_follow_the_todos(self, client: TestClient, user: Account) -> None:
        inbox = client.get("/lists/", headers=user.headers).json()[0]
        done = add(client, user, complete=True)
        add(client, user)
        add(client, user)
        row = client.get(f"/lists/{inbox['id']}", headers=user.headers).json()
        assert (row["todo_count"], row["open_count"]) == (3, 2)
        client.delete(f"/todos/todo/{done['id']}", headers=user.headers)
        row = client.get(f"/lists/{inbox['id']}", headers=user.headers).json()
        assert (row["todo_count"], row["open_count"]) == (2, 2)


class TestOwnLists:
    def test_create_read_rename_and_list(self, client: TestClient, user: Account) -> None:
        work = new_list(client, user, "Work", color="#2563EB")
        assert (work["name"], work["color"], work["role"], work["todo_count"]) == ("Work", "#2563EB", "owner", 0)
        renamed = client.put(f"/lists/{work['id']}", json={"name": "Job"}, headers=user.headers)
        assert renamed.status_code == 200 and (renamed.json()["name"], renamed.json()["color"]) == ("Job", None)
        names = [row["name"] for row in client.get("/lists/", headers=user.headers).json()]
        assert names == ["Inbox", "Job"]

    def test_names_are_unique_ignoring_case(self, client: TestClient, user: Account) -> None:
        new_list(client, user, "Work")
        again = client.post("/lists/", json={"name": "WORK"}, headers=user.headers)
        assert again.status_code == 409 and "Work" in again.json()["detail"] or "WORK" in again.json()["detail"]
        other = new_list(client, user, "Home")
        clash = client.put(f"/lists/{other['id']}", json={"name": "work"}, headers=user.headers)
        assert clash.status_code == 409

    @pytest.mark.parametrize(
        "body", [{}, {"name": ""}, {"name": "x" * 51}, {"name": "A", "color": "blue"}, {"name": "A", "owner_id": 1}]
    )
    def test_bad_bodies_are_422(self, client: TestClient, user: Account, body: dict[str, Any]) -> None:
        response = client.post("/lists/", json=body, headers=user.headers)
        assert response.status_code == 422 and isinstance(response.json()["detail"], list)

    def test_todos_filter_by_list_and_default_to_position_order(self, client: TestClient, user: Account) -> None:
        work = new_list(client, user)
        first, second = (
            add(client, user, title="A", list_id=work["id"]),
            add(client, user, title="B", list_id=work["id"]),
        )
        add(client, user, title="In the inbox")
        listed = client.get("/todos/", params={"list_id": work["id"]}, headers=user.headers)
        assert [row["id"] for row in listed.json()] == [first["id"], second["id"]]
        assert listed.headers["X-Total-Count"] == "2"
        assert len(client.get("/todos/", headers=user.headers).json()) == 3

    def test_moving_a_todo_between_lists(self, client: TestClient, user: Account) -> None:
        work = new_list(client, user)
        todo = add(client, user)
        moved = client.patch(f"/todos/todo/{todo['id']}", json={"list_id": work["id"]}, headers=user.headers)
        assert moved.status_code == 200 and moved.json()["list_id"] == work["id"]
        put = client.put(f"/todos/todo/{todo['id']}", json={"title": "Kept where it is"}, headers=user.headers)
        assert put.json()["list_id"] == work["id"]

    def test_delete_sends_its_todos_to_the_trash_and_restore_lands_in_the_inbox(
        self, client: TestClient, user: Account
    ) -> None:
        inbox = client.get("/lists/", headers=user.headers).json()[0]
        work = new_list(client, user)
        todo = add(client, user, list_id=work["id"])
        assert client.delete(f"/lists/{work['id']}", headers=user.headers).status_code == 204
        assert client.get(f"/lists/{work['id']}", headers=user.headers).status_code == 404
        assert [row["id"] for row in client.get("/todos/trash", headers=user.headers).json()] == [todo["id"]]
        restored = client.post(f"/todos/todo/{todo['id']}/restore", headers=user.headers)
        assert restored.status_code == 200 and restored.json()["list_id"] == inbox["id"]
        assert client.get("/user/", headers=user.headers).json().get("todo_count", 1) == 1

    def test_the_last_list_cannot_be_deleted_and_the_inbox_passes_on(self, client: TestClient, user: Account) -> None:
        inbox = client.get("/lists/", headers=user.headers).json()[0]
        last = client.delete(f"/lists/{inbox['id']}", headers=user.headers)
        assert last.status_code == 409 and "only list" in last.json()["detail"]
        work = new_list(client, user)
        assert client.delete(f"/lists/{inbox['id']}", headers=user.headers).status_code == 204
        assert client.get(f"/lists/{work['id']}", headers=user.headers).json()["is_inbox"] is True
        assert add(client, user)["list_id"] == work["id"]


class TestSharingRoles:
    def test_everyone_who_may_sees_the_list_and_its_todo(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        list_id, todo_id = shared["list"]["id"], shared["todo"]["id"]
        for name, role in (("owner", "owner"), ("editor", "editor"), ("viewer", "viewer")):
            headers = people[name].headers
            assert client.get(f"/lists/{list_id}", headers=headers).json()["role"] == role
            assert client.get(f"/todos/{todo_id}", headers=headers).json()["created_by"] == people["owner"].username
            assert [
                row["id"] for row in client.get("/todos/", params={"list_id": list_id}, headers=headers).json()
            ] == [todo_id]
            assert list_id in [row["id"] for row in client.get("/lists/", headers=headers).json()]
        stranger = people["stranger"].headers
        assert client.get(f"/lists/{list_id}", headers=stranger).status_code == 404
        assert client.get(f"/todos/{todo_id}", headers=stranger).status_code == 404
        assert client.get("/todos/", params={"list_id": list_id}, headers=stranger).status_code == 404
        assert client.get(f"/lists/{list_id}/members", headers=stranger).status_code == 404
        assert list_id not in [row["id"] for row in client.get("/lists/", headers=stranger).json()]

    def test_editor_creates_edits_completes_and_deletes(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        editor, list_id = people["editor"], shared["list"]["id"]
        todo = add(client, editor, title="Mine", list_id=list_id)
        assert (todo["owner_id"], todo["created_by"]) == (people["owner"].id, editor.username)
        changed = client.patch(f"/todos/todo/{shared['todo']['id']}", json={"complete": True}, headers=editor.headers)
        assert changed.status_code == 200 and changed.json()["updated_by"] == editor.username
        assert (
            client.put(f"/todos/todo/{todo['id']}", json={"title": "Renamed"}, headers=editor.headers).status_code
            == 200
        )
        assert client.delete(f"/todos/todo/{todo['id']}", headers=editor.headers).status_code == 204
        owner_view = client.get(f"/lists/{list_id}", headers=people["owner"].headers).json()
        assert (owner_view["todo_count"], owner_view["open_count"]) == (1, 0)

    def test_viewer_reads_but_may_not_write(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        viewer, list_id, todo_id = people["viewer"], shared["list"]["id"], shared["todo"]["id"]
        refused = [
            client.post("/todos/todos", json={"title": "No", "list_id": list_id}, headers=viewer.headers),
            client.patch(f"/todos/todo/{todo_id}", json={"complete": True}, headers=viewer.headers),
            client.put(f"/todos/todo/{todo_id}", json={"title": "No"}, headers=viewer.headers),
            client.delete(f"/todos/todo/{todo_id}", headers=viewer.headers),
        ]
        assert [response.status_code for response in refused] == [403] * 4
        assert all(response.json()["detail"] == "You can only view this list" for response in refused)
        assert client.get(f"/todos/{todo_id}", headers=viewer.headers).json()["complete"] is False

    def test_stranger_writes_are_404(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        stranger, list_id, todo_id = people["stranger"], shared["list"]["id"], shared["todo"]["id"]
        refused = [
            client.post("/todos/todos", json={"title": "No", "list_id": list_id}, headers=stranger.headers),
            client.patch(f"/todos/todo/{todo_id}", json={"complete": True}, headers=stranger.headers),
            client.put(f"/todos/todo/{todo_id}", json={"title": "No"}, headers=stranger.headers),
            client.delete(f"/todos/todo/{todo_id}", headers=stranger.headers),
            client.put(f"/lists/{list_id}", json={"name": "Mine"}, headers=stranger.headers),
            client.delete(f"/lists/{list_id}", headers=stranger.headers),
            client.post(
                f"/lists/{list_id}/members",
                json={"username": stranger.username, "role": "editor"},
                headers=stranger.headers,
            ),
            client.delete(f"/lists/{list_id}/members/{people['viewer'].username}", headers=stranger.headers),
        ]
        assert [response.status_code for response in refused] == [404] * len(refused)

    @pytest.mark.parametrize("member", ["editor", "viewer"])
    def test_only_the_owner_renames_deletes_or_shares(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any], member: str
    ) -> None:
        headers, list_id = people[member].headers, shared["list"]["id"]
        refused = [
            client.put(f"/lists/{list_id}", json={"name": "Mine"}, headers=headers),
            client.delete(f"/lists/{list_id}", headers=headers),
            client.post(
                f"/lists/{list_id}/members",
                json={"username": people["stranger"].username, "role": "viewer"},
                headers=headers,
            ),
        ]
        assert [response.status_code for response in refused] == [403, 403, 403]
        assert client.get(f"/lists/{list_id}", headers=people["owner"].headers).json()["name"] == "Work"

    def test_moving_into_a_list_needs_write_access(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        list_id = shared["list"]["id"]
        for name, status in (("editor", 200), ("viewer", 403), ("stranger", 404)):
            todo = add(client, people[name])
            moved = client.patch(f"/todos/todo/{todo['id']}", json={"list_id": list_id}, headers=people[name].headers)
            assert moved.status_code == status, name

    def test_admin_has_no_access_to_others_lists_through_the_user_api(
        self, client: TestClient, admin: Account, shared: dict[str, Any]
    ) -> None:
        assert client.get(f"/lists/{shared['list']['id']}", headers=admin.headers).status_code == 404
        assert client.get(f"/todos/{shared['todo']['id']}", headers=admin.headers).status_code == 404
        assert shared["todo"]["id"] in [row["id"] for row in client.get("/admin/todo", headers=admin.headers).json()]


class TestMembers:
    def test_members_are_listed_for_everyone_on_the_list(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        expected = sorted(
            [(people["editor"].username, "editor"), (people["viewer"].username, "viewer")], key=lambda p: p[0].lower()
        )
        for name in ("owner", "editor", "viewer"):
            rows = client.get(f"/lists/{shared['list']['id']}/members", headers=people[name].headers).json()
            assert [(row["username"], row["role"]) for row in rows] == expected

    def test_sharing_again_changes_the_role(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        list_id = shared["list"]["id"]
        again = client.post(
            f"/lists/{list_id}/members",
            json={"username": people["viewer"].username.upper(), "role": "editor"},
            headers=people["owner"].headers,
        )
        assert again.status_code == 200 and again.json()["role"] == "editor"
        patched = client.patch(
            f"/todos/todo/{shared['todo']['id']}", json={"complete": True}, headers=people["viewer"].headers
        )
        assert patched.status_code == 200

    def test_unknown_user_self_and_bad_role(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        owner, list_id = people["owner"], shared["list"]["id"]
        members = f"/lists/{list_id}/members"
        assert (
            client.post(members, json={"username": "nobody-here", "role": "viewer"}, headers=owner.headers).status_code
            == 404
        )
        assert (
            client.post(members, json={"username": owner.username, "role": "viewer"}, headers=owner.headers).status_code
            == 409
        )
        assert client.post(members, json={"username": "x", "role": "owner"}, headers=owner.headers).status_code == 422

    def test_owner_removes_anyone_and_a_member_removes_themselves(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        list_id, todo_id = shared["list"]["id"], shared["todo"]["id"]
        editor, viewer = people["editor"], people["viewer"]
        other = client.delete(f"/lists/{list_id}/members/{viewer.username}", headers=editor.headers)
        assert other.status_code == 403
        assert client.delete(f"/lists/{list_id}/members/{viewer.username}", headers=viewer.headers).status_code == 204
        assert client.get(f"/todos/{todo_id}", headers=viewer.headers).status_code == 404
        assert (
            client.delete(f"/lists/{list_id}/members/{editor.username}", headers=people["owner"].headers).status_code
            == 204
        )
        assert client.get(f"/lists/{list_id}", headers=editor.headers).status_code == 404
        assert (
            client.delete(f"/lists/{list_id}/members/{editor.username}", headers=people["owner"].headers).status_code
            == 404
        )

    def test_deleting_a_shared_list_ends_access(
        self, client: TestClient, people: dict[str, Account], shared: dict[str, Any]
    ) -> None:
        assert client.delete(f"/lists/{shared['list']['id']}", headers=people["owner"].headers).status_code == 204
        assert client.get(f"/todos/{shared['todo']['id']}", headers=people["editor"].headers).status_code == 404
        assert client.get("/lists/", headers=people["editor"].headers).json()[0]["is_inbox"] is True


class TestWithoutAuth:
    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", "/lists/"), ("POST", "/lists/"), ("GET", "/lists/1"), ("PUT", "/lists/1"), ("DELETE", "/lists/1")]
        + [("GET", "/lists/1/members"), ("POST", "/lists/1/members"), ("DELETE", "/lists/1/members/bob")]
        + [("GET", "/tags/"), ("POST", "/todos/quick")],
    )
    def test_every_route_needs_a_token(self, client: TestClient, method: str, path: str) -> None:
        assert client.request(method, path).status_code == 401


class TestEndedSessions:
    def test_list_writes_after_logout_are_401_and_change_nothing(self, client: TestClient, user: Account) -> None:
        work = new_list(client, user)
        assert client.post("/auth/logout", headers=user.headers).status_code == 204
        writes = [
            client.put(f"/lists/{work['id']}", json={"name": "Changed"}, headers=user.headers),
            client.delete(f"/lists/{work['id']}", headers=user.headers),
            client.post("/lists/", json={"name": "New"}, headers=user.headers),
        ]
        assert [response.status_code for response in writes] == [401, 401, 401]
