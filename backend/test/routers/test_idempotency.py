"""Idempotency-Key on POST /todos/todos and POST /todos/import: replays, refusals, expiry."""

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from backend.models import IdempotencyKey
from backend.models.base import utcnow
from backend.schemas.idempotency import KEY_RULE
from backend.services import idempotency
from backend.test.conftest import ClientFactory
from backend.test.factories import Account, count_todos, todo_payload

CREATE = "/todos/todos"
IMPORT = "/todos/import"
REPLAYED = "Idempotent-Replayed"


def keyed(account: Account, key: str | bytes, **more: str) -> dict[str, Any]:
    return {**account.headers, "Idempotency-Key": key, **more}


def key_rows(session: Session) -> list[Any]:
    session.expire_all()
    rows = session.execute(select(IdempotencyKey.user_id, IdempotencyKey.key, IdempotencyKey.status_code)).all()
    session.commit()
    return list(rows)


def in_flight(session: Session, user_id: int, key: str, body: bytes, *, age: timedelta = timedelta(0)) -> None:
    """A key row as a request still running (or one that died `age` ago) leaves it."""
    started = utcnow() - age
    digest = idempotency.request_hash("POST", CREATE, body)
    values = {"user_id": user_id, "key": key, "request_hash": digest, "created_at": started}
    session.execute(insert(IdempotencyKey).values(**values, expires_at=started + timedelta(hours=24)))
    session.commit()


class TestCreateTodo:
    def test_a_repeat_gets_the_stored_answer_and_creates_nothing(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        payload = todo_payload(title="Buy milk")

        first = client.post(CREATE, json=payload, headers=keyed(user, "order-1"))
        again = client.post(CREATE, json=payload, headers=keyed(user, "order-1"))

        assert first.status_code == again.status_code == 201
        assert again.content == first.content
        assert again.headers["Location"] == first.headers["Location"] == f"/todos/{first.json()['id']}"
        assert REPLAYED not in first.headers
        assert again.headers[REPLAYED] == "true"
        assert again.headers["Content-Type"] == "application/json"
        assert count_todos(db_session, user.id) == 1
        assert key_rows(db_session) == [(user.id, "order-1", 201)]

    def test_the_replayed_todo_is_the_stored_one(self, client: TestClient, user: Account) -> None:
        first = client.post(CREATE, json=todo_payload(), headers=keyed(user, "k"))

        shown = client.get(first.headers["Location"], headers=user.headers)

        assert shown.json() == first.json()

    def test_the_same_key_with_another_body_is_422(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        client.post(CREATE, json=todo_payload(title="One"), headers=keyed(user, "k"))

        other = client.post(CREATE, json=todo_payload(title="Two"), headers=keyed(user, "k"))

        assert other.status_code == 422
        (problem,) = other.json()["detail"]
        assert problem["type"] == "idempotency_key_reused"
        assert problem["loc"] == ["header", "Idempotency-Key"]
        assert problem["msg"] == idempotency.KEY_REUSED
        assert count_todos(db_session, user.id) == 1

    def test_the_exact_bytes_count(self, client: TestClient, user: Account, db_session: Session) -> None:
        body = {"title": "Same todo"}
        client.post(CREATE, content=json.dumps(body), headers=keyed(user, "k", **{"Content-Type": "application/json"}))

        spaced = client.post(
            CREATE, content=json.dumps(body, indent=2), headers=keyed(user, "k", **{"Content-Type": "application/json"})
        )

        assert spaced.status_code == 422
        assert count_todos(db_session, user.id) == 1

    def test_a_request_while_the_first_is_in_flight_is_409(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        body = json.dumps(todo_payload()).encode()
        in_flight(db_session, user.id, "k", body)

        response = client.post(CREATE, content=body, headers=keyed(user, "k", **{"Content-Type": "application/json"}))

        assert response.status_code == 409
        assert response.json() == {"detail": "A request with this Idempotency-Key is still in progress"}
        assert count_todos(db_session, user.id) == 0

    def test_a_request_that_died_in_flight_is_taken_over(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        body = json.dumps(todo_payload()).encode()
        in_flight(db_session, user.id, "k", body, age=timedelta(seconds=idempotency.STALE_SECONDS + 1))

        response = client.post(CREATE, content=body, headers=keyed(user, "k", **{"Content-Type": "application/json"}))

        assert response.status_code == 201
        assert REPLAYED not in response.headers
        assert count_todos(db_session, user.id) == 1
        assert key_rows(db_session) == [(user.id, "k", 201)]

    def test_keys_are_per_user(
        self, client: TestClient, user: Account, other_user: Account, db_session: Session
    ) -> None:
        payload = todo_payload()

        mine = client.post(CREATE, json=payload, headers=keyed(user, "shared"))
        theirs = client.post(CREATE, json=payload, headers=keyed(other_user, "shared"))

        assert mine.status_code == theirs.status_code == 201
        assert REPLAYED not in theirs.headers
        assert theirs.json()["owner_id"] == other_user.id
        assert (count_todos(db_session, user.id), count_todos(db_session, other_user.id)) == (1, 1)

    def test_the_same_key_on_the_other_endpoint_is_another_request(
        self, client: TestClient, user: Account, db_session: Session
    ) -> None:
        client.post(CREATE, json=todo_payload(), headers=keyed(user, "k"))

        imported = client.post(IMPORT, json=[todo_payload()], headers=keyed(user, "k"))

        assert imported.status_code == 422
        assert count_todos(db_session, user.id) == 1

    @pytest.mark.parametrize("key", ["", " ", "with space", "tab\tin", "x" * 256, b"caf\xe9", "new\x7fline"], ids=repr)
    def test_a_malformed_key_is_400(
        self, client: TestClient, user: Account, db_session: Session, key: str | bytes
    ) -> None:
        response = client.post(CREATE, json=todo_payload(), headers=keyed(user, key))

        assert response.status_code == 400
        assert response.json() == {"detail": KEY_RULE}
        assert count_todos(db_session, user.id) == 0
        assert key_rows(db_session) == []

    @pytest.mark.parametrize("key", ["a", "!~" * 10, "x" * 255, "550e8400-e29b-41d4-a716-446655440000"])
    def test_well_formed_keys_are_taken(self, client: TestClient, user: Account, key: str) -> None:
        assert client.post(CREATE, json=todo_payload(), headers=keyed(user, key)).status_code == 201

    def test_an_expired_key_is_new(self, client: TestClient, user: Account, db_session: Session) -> None:
        payload = todo_payload()
        client.post(CREATE, json=payload, headers=keyed(user, "k"))
        db_session.execute(update(IdempotencyKey).values(expires_at=utcnow() - timedelta(seconds=1)))
        db_session.commit()

        again = client.post(CREATE, json=payload, headers=keyed(user, "k"))
        other = client.post(CREATE, json=todo_payload(title="Other"), headers=keyed(user, "k"))

        assert again.status_code == 201
        assert REPLAYED not in again.headers
        assert other.status_code == 422  # the key is live again, for the second request
        assert count_todos(db_session, user.id) == 2

    def test_the_key_is_kept_idempotency_hours(
        self, client_factory: ClientFactory, user: Account, db_session: Session
    ) -> None:
        client = client_factory(IDEMPOTENCY_HOURS=3)
        before = utcnow()

        client.post(CREATE, json=todo_payload(), headers=keyed(user, "k"))

        db_session.expire_all()
        expires_at = db_session.execute(select(IdempotencyKey.expires_at)).scalar_one()
        assert before + timedelta(hours=3) <= expires_at <= utcnow() + timedelta(hours=3)

    def test_an_invalid_body_does_not_use_the_key(self, client: TestClient, user: Account, db_session: Session) -> None:
        refused = client.post(CREATE, json={"title": ""}, headers=keyed(user, "k"))
        created = client.post(CREATE, json=todo_payload(), headers=keyed(user, "k"))

        assert refused.status_code == 422
        assert created.status_code == 201
        assert REPLAYED not in created.headers

    def test_a_throttled_request_does_not_use_the_key(
        self, client_factory: ClientFactory, user: Account, db_session: Session
    ) -> None:
        client = client_factory(RATE_LIMIT_WRITE="1/minute")
        client.post(CREATE, json=todo_payload(), headers=user.headers)

        throttled = client.post(CREATE, json=todo_payload(), headers=keyed(user, "k"))

        assert throttled.status_code == 429
        assert key_rows(db_session) == []

    def test_without_a_key_nothing_is_kept(self, client: TestClient, user: Account, db_session: Session) -> None:
        payload = todo_payload()

        statuses = [client.post(CREATE, json=payload, headers=user.headers).status_code for _ in range(2)]

        assert statuses == [201, 201]
        assert count_todos(db_session, user.id) == 2
        assert key_rows(db_session) == []


class TestImport:
    FILE = json.dumps([todo_payload(title="One"), todo_payload(title="Two")])

    def post(self, client: TestClient, account: Account, body: str, media_type: str = "application/json") -> Any:
        return client.post(IMPORT, content=body, headers=keyed(account, "imp", **{"Content-Type": media_type}))

    def test_a_repeated_import_is_replayed(self, client: TestClient, user: Account, db_session: Session) -> None:
        first = self.post(client, user, self.FILE)
        again = self.post(client, user, self.FILE)

        assert (first.status_code, first.json()) == (201, {"created": 2})
        assert (again.status_code, again.json()) == (201, {"created": 2})
        assert again.headers[REPLAYED] == "true"
        assert "Location" not in again.headers
        assert count_todos(db_session, user.id) == 2

    def test_another_file_under_the_key_is_422(self, client: TestClient, user: Account, db_session: Session) -> None:
        self.post(client, user, self.FILE)

        other = self.post(client, user, json.dumps([todo_payload()]))

        assert other.status_code == 422
        assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
        assert count_todos(db_session, user.id) == 2

    def test_the_content_type_is_part_of_the_request(self, client: TestClient, user: Account) -> None:
        csv_file = "title\nOne\n"
        assert self.post(client, user, csv_file, "text/csv").status_code == 201

        as_json = self.post(client, user, csv_file, "application/json")

        assert as_json.status_code == 422
        assert as_json.json()["detail"][0]["type"] == "idempotency_key_reused"

    def test_a_refused_file_frees_the_key(self, client: TestClient, user: Account, db_session: Session) -> None:
        refused = self.post(client, user, json.dumps([{"title": ""}]))

        assert refused.status_code == 422
        assert refused.json()["detail"][0]["row"] == 1
        assert key_rows(db_session) == []
        fixed = self.post(client, user, self.FILE)
        assert fixed.status_code == 201
        assert REPLAYED not in fixed.headers
        assert count_todos(db_session, user.id) == 2

    def test_an_unsupported_type_frees_the_key(self, client: TestClient, user: Account, db_session: Session) -> None:
        assert self.post(client, user, self.FILE, "text/plain").status_code == 415

        assert key_rows(db_session) == []


class TestOpenAPI:
    @pytest.fixture
    def document(self, client: TestClient) -> dict[str, Any]:
        body: dict[str, Any] = client.get("/openapi.json").json()
        return body

    @pytest.mark.parametrize("path", [CREATE, IMPORT])
    def test_both_routes_document_the_key_and_its_answers(self, document: dict[str, Any], path: str) -> None:
        operation = document["paths"][path]["post"]

        (header,) = (p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header"
        assert not header.get("required", False)
        assert set(operation["responses"]) >= {"201", "400", "409", "422"}
        assert "Idempotent-Replayed" in operation["responses"]["201"]["headers"]
        assert "Idempotency-Key" in operation["responses"]["422"]["description"]
