"""PostgreSQL plans each of the requests' statements once per connection (database/plans.py)."""

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.orm import Session

from backend.core.tokens import TokenClaims
from backend.services.signed_in import principal_and_page
from backend.test.factories import Account, on_new_loop, state_of

_PLANS = text(
    "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
    " WHERE statement LIKE '%AS who%' AND statement NOT LIKE '%pg_prepared_statements%'"
)


def _list_seven_times(session: Session, *, token: TokenClaims) -> tuple[int, int]:
    for _ in range(7):
        assert principal_and_page(session, token=token, sort="-created_at", limit=50, offset=0) is not None
    generic, custom = session.execute(_PLANS).one()
    return int(generic), int(custom)


def test_the_joined_list_read_keeps_one_plan(app: FastAPI, user: Account) -> None:
    """Without it, PostgreSQL plans a prepared statement's first five runs with their values,
    and every run after them too when one user's todos outnumber the rest (the benchmark's
    database): 0.38 ms of planning for 0.13 ms of work, on every list."""
    state = state_of(app)
    db = state.db
    if db.server is None or db.request_engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL setting")
    claims = state.tokens.read(user.token)

    async def twice() -> tuple[int, int]:
        await db.read(lambda s: s.execute(text("SELECT 1")).one())  # back to the pool, reset on return
        return await db.read(_list_seven_times, token=claims)

    generic, custom = on_new_loop(db, twice)

    assert custom == 0
    assert generic == 7 or 0 < generic < 7  # psycopg prepares a statement from its sixth run on
