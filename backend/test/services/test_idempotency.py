"""services.idempotency: the claim, the stored answer in the create's transaction, release and take-over."""

from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from functools import partial

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from backend.core.config import Settings
from backend.core.errors import Conflict, InvalidInput, NotAuthenticated
from backend.database.session import Database
from backend.models import IdempotencyKey, User
from backend.models.base import utcnow
from backend.schemas.todos import TodoCreate
from backend.services import idempotency
from backend.services import todos as todo_service
from backend.services.idempotency import Answer, Keep
from backend.services.principal import Principal
from backend.test.factories import count_todos, make_user, on_new_loop, principal_of

Work = Callable[[Keep], Awaitable[Answer]]
HASH = "a" * 64
ANSWER = Answer(201, b'{"id":1}', "/todos/1")


@pytest.fixture
def db(engine: Engine, settings: Settings) -> Iterator[Database]:
    database = Database(engine, settings)
    yield database
    database.dispose()


@pytest.fixture
def principal(db_session: Session) -> Principal:
    return principal_of(db_session, make_user(db_session).id)


def claim(session: Session, user_id: int, key: str = "k", *, started: timedelta = timedelta(0)) -> int | None:
    now = utcnow() - started
    return idempotency.claim(session, user_id=user_id, key=key, request_hash=HASH, now=now, hours=24)


def statuses(session: Session) -> list[int | None]:
    session.expire_all()
    found = list(session.scalars(select(IdempotencyKey.status_code).order_by(IdempotencyKey.id)))
    session.commit()
    return found


class TestRequestHash:
    def test_every_part_of_the_request_counts(self) -> None:
        base = idempotency.request_hash("POST", "/todos/todos", b"{}")
        variants = {
            idempotency.request_hash("PUT", "/todos/todos", b"{}"),
            idempotency.request_hash("POST", "/todos/import", b"{}"),
            idempotency.request_hash("POST", "/todos/todos", b"{ }"),
            idempotency.request_hash("POST", "/todos/todos", b"{}", "text/csv"),
        }

        assert base == idempotency.request_hash("POST", "/todos/todos", b"{}")
        assert len(base) == 64
        assert base not in variants
        assert len(variants) == 4


class TestClaim:
    def test_a_key_is_claimed_once_per_user(self, db_session: Session) -> None:
        first, second = make_user(db_session).id, make_user(db_session).id

        assert isinstance(claim(db_session, first), int)
        assert claim(db_session, first) is None
        assert isinstance(claim(db_session, second), int)
        assert statuses(db_session) == [None, None]

    def test_a_claim_for_a_user_that_is_gone_is_refused(self, db_session: Session) -> None:
        user_id = make_user(db_session).id
        db_session.execute(delete(User).where(User.id == user_id))
        db_session.commit()

        assert claim(db_session, user_id) is None


class TestKeep:
    def test_the_answer_commits_with_the_todo(self, db_session: Session, principal: Principal) -> None:
        key_id = claim(db_session, principal.id)
        assert key_id is not None

        def store(session: Session, todo: todo_service.TodoRow) -> None:
            idempotency.keep(session, Answer(201, str(todo["id"]).encode()), key_id=key_id)

        todo = todo_service.create(db_session, principal=principal, data=TodoCreate(title="t"), before_commit=store)

        row = idempotency.find(db_session, user_id=principal.id, key="k")
        assert row is not None
        assert (row.status_code, row.response_body) == (201, str(todo["id"]))

    def test_a_claim_taken_over_rolls_the_create_back(self, db_session: Session, principal: Principal) -> None:
        key_id = claim(db_session, principal.id)
        assert key_id is not None
        db_session.execute(delete(IdempotencyKey))  # as a take-over (or the clean-up) would
        db_session.commit()

        with pytest.raises(Conflict, match="still in progress"):
            todo_service.create(
                db_session, principal=principal, data=TodoCreate(title="t"), before_commit=partial(keep_answer, key_id)
            )
        db_session.rollback()

        assert count_todos(db_session, principal.id) == 0

    def test_an_answered_claim_takes_no_second_answer(self, db_session: Session, principal: Principal) -> None:
        key_id = claim(db_session, principal.id)
        assert key_id is not None
        idempotency.keep(db_session, ANSWER, key_id=key_id)
        db_session.commit()

        with pytest.raises(Conflict):
            idempotency.keep(db_session, ANSWER, key_id=key_id)


def keep_answer(key_id: int, session: Session, _todo: object) -> None:
    idempotency.keep(session, ANSWER, key_id=key_id)


def answering(db: Database) -> Work:
    """Work that stores ANSWER under its claim and commits, as a create would."""

    def store(session: Session, keep: Keep) -> None:
        keep(session, ANSWER)
        session.commit()

    async def work(keep: Keep) -> Answer:
        await db.write(store, keep)
        return ANSWER

    return work


class TestReleaseAndTakeOver:
    def test_release_frees_only_a_claim_in_flight(self, db_session: Session) -> None:
        user_id = make_user(db_session).id
        flying, answered = claim(db_session, user_id, "a"), claim(db_session, user_id, "b")
        assert flying is not None and answered is not None
        idempotency.keep(db_session, ANSWER, key_id=answered)
        db_session.commit()

        idempotency.release(db_session, key_id=flying)
        idempotency.release(db_session, key_id=answered)

        assert statuses(db_session) == [201]

    def test_take_over_removes_dead_rows_only(self, db_session: Session) -> None:
        user_id = make_user(db_session).id
        stale = timedelta(seconds=idempotency.STALE_SECONDS + 1)
        ids = {
            "fresh": claim(db_session, user_id, "fresh"),
            "stale": claim(db_session, user_id, "stale", started=stale),
            "answered": claim(db_session, user_id, "answered", started=stale),
            "expired": claim(db_session, user_id, "expired", started=timedelta(hours=25)),
        }
        db_session.execute(
            update(IdempotencyKey).where(IdempotencyKey.key.in_(["answered", "expired"])).values(status_code=201)
        )
        db_session.commit()

        for key_id in ids.values():
            assert key_id is not None
            idempotency.take_over(db_session, key_id=key_id, now=utcnow())

        db_session.expire_all()
        assert set(db_session.scalars(select(IdempotencyKey.key))) == {"fresh", "answered"}


class TestOnce:
    def run(self, db: Database, principal: Principal, work: Work, request_hash: str = HASH) -> tuple[Answer, bool]:
        return on_new_loop(
            db,
            lambda: idempotency.once(db, principal=principal, key="k", request_hash=request_hash, hours=24, work=work),
        )

    def test_work_runs_once_and_its_answer_is_replayed(
        self, db: Database, principal: Principal, db_session: Session
    ) -> None:
        runs: list[int] = []

        async def work(keep: Keep) -> Answer:
            runs.append(1)
            return await answering(db)(keep)

        assert self.run(db, principal, work) == (ANSWER, False)
        assert self.run(db, principal, work) == (ANSWER, True)
        assert runs == [1]

    def test_another_request_under_the_key_is_invalid_input(self, db: Database, principal: Principal) -> None:
        self.run(db, principal, answering(db))

        with pytest.raises(InvalidInput) as refused:
            self.run(db, principal, answering(db), request_hash="b" * 64)
        assert refused.value.errors[0]["type"] == "idempotency_key_reused"

    def test_a_failing_request_frees_its_key(self, db: Database, principal: Principal, db_session: Session) -> None:
        async def fail(_keep: Keep) -> Answer:
            raise Conflict("refused")

        with pytest.raises(Conflict, match="refused"):
            self.run(db, principal, fail)

        assert statuses(db_session) == []

    def test_a_user_gone_meanwhile_is_not_authenticated(
        self, db: Database, principal: Principal, db_session: Session
    ) -> None:
        db_session.execute(delete(User).where(User.id == principal.id))
        db_session.commit()

        async def work(_keep: Keep) -> Answer:
            raise AssertionError("never runs")

        with pytest.raises(NotAuthenticated):
            self.run(db, principal, work)
