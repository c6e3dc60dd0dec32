"""database.dates: the database under test and Python write timestamps and dates as the same text."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Date, literal, select
from sqlalchemy.engine import Engine

from backend.database.dates import date_text, iso_date, iso_utc, utc_text
from backend.models.base import UTCDateTime


@pytest.mark.parametrize(
    ("when", "day"),
    [
        (datetime(2026, 12, 24, 8, 30, 0, 7, tzinfo=UTC), date(2026, 12, 24)),
        (datetime(2027, 1, 2, 23, 59, 59, 0, tzinfo=UTC), date(2027, 1, 2)),
        (datetime(2026, 3, 29, 1, 5, 9, 999999, tzinfo=UTC), None),
    ],
)
def test_sql_and_python_render_the_same_text(engine: Engine, when: datetime, day: date | None) -> None:
    statement = select(iso_utc(literal(when, UTCDateTime())), iso_date(literal(day, Date())))

    with engine.connect() as conn:
        from_sql = tuple(conn.execute(statement).one())

    assert from_sql == (utc_text(when), date_text(day))
    assert utc_text(when).endswith("Z") and datetime.fromisoformat(utc_text(when)) == when
