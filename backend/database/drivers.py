"""Which driver each side of the app uses for a DATABASE_URL.

Requests run on an async driver (no thread-pool hop, no thread per connection); Alembic,
the job workers, the export stream and `manage.py` run plain sync code on its sync twin.
DATABASE_URL may name either: `postgresql+psycopg://` (psycopg 3 serves both sides),
`postgresql+asyncpg://`, `mysql+pymysql://`, `mysql+asyncmy://` or `mysql+aiomysql://`.
Measurements behind the defaults: docs/performance.md ("Drivers side by side").
"""

from sqlalchemy.engine import URL, make_url

# async driver -> its sync twin, and sync driver -> the async driver requests use
SYNC_TWIN = {"asyncpg": "psycopg", "psycopg_async": "psycopg", "asyncmy": "pymysql", "aiomysql": "pymysql"}
ASYNC_TWIN = {"psycopg": "psycopg_async", "psycopg2": "psycopg_async", "pymysql": "asyncmy", "mysqldb": "asyncmy"}
# URL options only asyncpg understands; its sync twin (psycopg) would refuse them.
ASYNCPG_ONLY = ("prepared_statement_cache_size",)


def _driver(url: URL) -> str:
    return url.get_driver_name()  # the dialect's default when the URL names none


def sync_url(url: str | URL) -> URL:
    """`url` with a sync driver (SQLite and sync URLs unchanged)."""
    parsed = make_url(url)
    driver = _driver(parsed)
    twin = SYNC_TWIN.get(driver)
    if twin is None:
        return parsed
    if driver == "asyncpg":
        parsed = parsed.difference_update_query(ASYNCPG_ONLY)
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{twin}")


def async_url(url: str | URL) -> URL:
    """`url` with the async driver requests use (async URLs unchanged)."""
    parsed = make_url(url)
    driver = _driver(parsed)
    if driver in SYNC_TWIN:
        return parsed
    twin = ASYNC_TWIN.get(driver)
    if twin is None:
        raise ValueError(f"no async driver for {parsed.get_backend_name()}+{driver}")
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{twin}")
