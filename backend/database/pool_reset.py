"""MySQL/MariaDB connections go back to the pool with one ROLLBACK at most, and none when
the server says no transaction is open.

A session ends its transaction itself as it closes (a unit's COMMIT, or the ROLLBACK
that ends a read's implicit transaction and so frees its metadata locks). SQLAlchemy then
gives the connection back with the pool's own reset, a second ROLLBACK: one more round
trip per request, so a read sent 4 statements where 3 do and a write 5 where 4 do.

MySQL's protocol reports in every OK and EOF packet whether a transaction is open
(SERVER_STATUS_IN_TRANS), and both of our drivers (PyMySQL, asyncmy) keep the last
status they were sent. The pool's reset here rolls back unless that status positively
says nothing is open, so a connection never goes back with work in flight.
"""

from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import PoolResetState

# SERVER_STATUS_IN_TRANS: the server status flag of an open transaction.
IN_TRANSACTION = 0x0001


def open_transaction(driver_connection: Any) -> bool:
    """Whether the driver's last server status shows an open transaction (True if unknown)."""
    status = getattr(driver_connection, "server_status", None)
    return not isinstance(status, int) or bool(status & IN_TRANSACTION)


def _reset(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    # As the pool's own "rollback" reset, which `pool_reset_on_return=None` turns off:
    # nothing when SQLAlchemy already ended the transaction, or outside the event loop.
    if state.transaction_was_reset or not state.asyncio_safe:
        return
    if open_transaction(record.driver_connection):
        dbapi_connection.rollback()


def install(engine: Engine) -> None:
    """Take over the pool's reset of `engine`, which was built with pool_reset_on_return=None."""
    event.listen(engine, "reset", _reset)
