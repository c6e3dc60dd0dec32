"""PostgreSQL: plan each of the requests' statements once per connection, not per execution.

Both async drivers run statements as server-side prepared statements. For one of those,
PostgreSQL plans the first five executions with the actual values (custom plans); from
then on it keeps a generic plan only when that plan's estimated cost is not much above
theirs. With one heavy user among few, the estimates for `owner_id = $1` differ by the
user, the generic plan never looks good enough, and every execution is planned anew. In
the benchmark's database (two users with 50 todos and one with 10,000) the joined list
read then spent 0.38 ms planning for 0.17 ms of execution, and PostgreSQL's CPU per list
of 50 fell from 705 to 260 µs once plans were kept (docs/performance.md, "A plan for
every list").

The requests' statements are a few dozen fixed shapes, keyed by ids and owners, whose
best plan does not depend on the values (an index on the owner or the id), so the
request engine's connections keep the generic plan (`plan_cache_mode`, PostgreSQL 12 and
later). Job workers and scripts, on the sync engine, keep PostgreSQL's default.
"""

from typing import Any

from sqlalchemy import Engine, event

GENERIC_PLANS = "SET plan_cache_mode = force_generic_plan"


def keep_generic_plans(engine: Engine) -> None:
    """Every new connection of `engine` (PostgreSQL) keeps one plan per prepared statement."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Outside a transaction, so the pool's ROLLBACK on return cannot undo it
        # (SQLAlchemy's recipe for session settings on connect).
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(GENERIC_PLANS)
        finally:
            cursor.close()
            dbapi_conn.autocommit = autocommit
