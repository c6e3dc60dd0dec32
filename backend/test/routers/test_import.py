"""POST /todos/import and the list page's import form: the export's files read back, all or nothing."""

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.test.factories import Account, count_todos, make_todo, use_session

IMPORT, EXPORT = "/todos/import", "/todos/export"
WITHOUT_IDS = {"id", "owner_id", "list_id", "position", "created_by", "updated_by"}  # the importer's own


def exported(client: TestClient, account: Account, fmt: str) -> str:
    response = client.get(EXPORT, params={"format": fmt}, headers=account.headers)
    assert response.status_code == 200
    return response.text


def without_ids(todos: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in todo.items() if k not in WITHOUT_IDS} for todo in todos]


@pytest.fixture
def source(db_session: Session, user: Account) -> Account:
    make_todo(db_session, user.id, title="Buy milk", description="2 l", priority=5, due_date=date(2026, 12, 24))
    make_todo(db_session, user.id, title='Quote "this", then, a comma\nand a new line', complete=True, priority=1)
    make_todo(
        db_session, user.id, title="Plain", tags=["home", "work_1"], repeat="every 2 weeks", due_date=date(2027, 1, 4)
    )
    return user


@pytest.mark.parametrize(("fmt", "media_type"), [("json", "application/json"), ("csv", "text/csv")])
def test_export_then_import_into_an_empty_account_reproduces_the_todos(
    client: TestClient, source: Account, other_user: Account, fmt: str, media_type: str
) -> None:
    body = exported(client, source, fmt)
    response = client.post(IMPORT, content=body, headers={**other_user.headers, "Content-Type": media_type})
    assert (response.status_code, response.json()) == (201, {"created": 3})
    again = json.loads(exported(client, other_user, "json"))
    assert without_ids(again) == without_ids(json.loads(exported(client, source, "json")))
    assert {todo["owner_id"] for todo in again} == {other_user.id}


def test_one_bad_row_refuses_the_file_and_names_every_bad_row(
    client: TestClient, db_session: Session, user: Account
) -> None:
    rows = [{"title": "fine"}, {"title": ""}, {"title": "ok", "priority": 9}, {"title": "x", "due_date": "24/12"}]
    response = client.post(IMPORT, json=rows, headers=user.headers)
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert [(p["row"], p["loc"][2]) for p in problems] == [(2, "title"), (3, "priority"), (4, "due_date")]
    assert all(isinstance(p["msg"], str) and p["msg"] for p in problems)
    assert count_todos(db_session, user.id) == 0


def test_at_most_50_problems_are_listed(client: TestClient, user: Account) -> None:
    response = client.post(IMPORT, json=[{"title": ""}] * 80, headers=user.headers)
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 50


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 422),
        ("application/json", b'{"title": "an object, not a list"}', 422),
        ("text/csv", b"name,priority\r\nx,3\r\n", 422),
        ("text/csv", b"\xff\xfe not utf-8", 422),
        ("application/xml", b"<todos/>", 415),
    ],
)
def test_files_that_are_not_ours(
    client: TestClient, db_session: Session, user: Account, content_type: str, body: bytes, status: int
) -> None:
    response = client.post(IMPORT, content=body, headers={**user.headers, "Content-Type": content_type})
    assert response.status_code == status
    assert "detail" in response.json()
    assert count_todos(db_session, user.id) == 0


def test_more_than_10000_todos_is_refused_whole(client: TestClient, db_session: Session, user: Account) -> None:
    body = "title\r\n" + "t\r\n" * 10_001
    response = client.post(IMPORT, content=body, headers={**user.headers, "Content-Type": "text/csv"})
    assert response.status_code == 422
    assert "10,000" in response.json()["detail"][0]["msg"]
    assert count_todos(db_session, user.id) == 0


def test_bodies_up_to_5_mib_are_taken_and_larger_ones_413(client: TestClient, user: Account) -> None:
    description = "d" * 1500
    rows = [{"title": f"t{n}", "description": description} for n in range(2000)]  # about 3 MiB
    assert client.post(IMPORT, json=rows, headers=user.headers).json() == {"created": 2000}
    too_big = b"[" + b" " * (5 * 1024 * 1024) + b"]"
    response = client.post(IMPORT, content=too_big, headers={**user.headers, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert client.post("/todos/todos", content=b" " * (2 * 1024 * 1024), headers=user.headers).status_code == 413


def test_the_list_page_imports_a_file_without_javascript(
    client: TestClient, settings: Settings, source: Account, other_user: Account
) -> None:
    csv_file = exported(client, source, "csv")
    csrf = use_session(client, settings, other_user)
    page = client.get("/todo-page").text
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    done = client.post(
        "/todo-page/import",
        data={"csrf_token": csrf},
        files={"file": ("todos.csv", csv_file, "text/csv")},
        follow_redirects=False,
    )
    assert (done.status_code, done.headers["location"]) == (303, "/todo-page?imported=3")
    assert "Imported 3 todos." in client.get("/todo-page?imported=3").text
    assert "Imported" not in client.get("/todo-page?imported=%3Cb%3E").text


def test_the_page_lists_the_problems_and_imports_nothing(
    client: TestClient, settings: Settings, db_session: Session, user: Account
) -> None:
    csrf = use_session(client, settings, user)
    bad = client.post(
        "/todo-page/import",
        data={"csrf_token": csrf},
        files={"file": ("todos.json", json.dumps([{"title": "ok"}, {"title": ""}]), "application/json")},
    )
    assert bad.status_code == 422
    assert "Nothing was imported" in bad.text and "Row 2, title:" in bad.text
    assert count_todos(db_session, user.id) == 0
    unknown = client.post(
        "/todo-page/import", data={"csrf_token": csrf}, files={"file": ("todos.xlsx", b"PK", "application/zip")}
    )
    assert unknown.status_code == 415 and "text/csv or application/json" in unknown.text


def test_a_cookie_import_needs_the_csrf_token(
    client: TestClient, settings: Settings, db_session: Session, user: Account
) -> None:
    use_session(client, settings, user)
    response = client.post("/todo-page/import", files={"file": ("todos.json", b'[{"title": "x"}]', "application/json")})
    assert response.status_code == 403
    assert count_todos(db_session, user.id) == 0


def test_the_list_and_its_total_include_the_imported_todos(client: TestClient, user: Account) -> None:
    assert client.post(IMPORT, json=[{"title": "a"}, {"title": "b"}], headers=user.headers).status_code == 201
    listed = client.get("/todos/", headers=user.headers)
    assert (listed.headers["X-Total-Count"], len(listed.json())) == ("2", 2)
