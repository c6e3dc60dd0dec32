"""Sync units of work on the event loop, in greenlets that are kept and used again.

SQLAlchemy's `greenlet_spawn` (behind `AsyncSession.run_sync`, `close`, `rollback`) makes
a new greenlet per call. On Python 3.11 each new greenlet's first frame gets a fresh
16 KiB frame stack from the interpreter, which maps it with `mmap` and unmaps it with
`munmap` when the greenlet ends: three pairs of system calls (and the page faults after
them) per PostgreSQL read request, one per unit of work and one for closing the session
(docs/performance.md, "Where the time went"). A finished greenlet cannot be restarted, so
here one runs a loop instead: it calls what it is given, hands the outcome back, and
waits for the next call, keeping its frame stack.

Inside, everything is as under `greenlet_spawn`: the greenlet carries the marker
SQLAlchemy's `await_` checks for (as its own greenlets do), its parent is the caller's greenlet
(where `await_` sends the awaitables) and it runs in the caller's contextvars context.
An exception thrown into the caller's `await` (a cancellation) is thrown into the unit,
as `greenlet_spawn` does.
"""

import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from greenlet import getcurrent, greenlet  # type: ignore[import-untyped]

T = TypeVar("T")
# Idle greenlets kept per thread; more are made when more units wait at once, and those
# beyond this many end when their unit does.
MAX_IDLE = 64


class UnitGreenlet(greenlet):  # type: ignore[misc]
    """A greenlet SQLAlchemy's `await_` accepts: the marker its own greenlets carry."""

    __sqlalchemy_greenlet_provider__ = True


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error: BaseException | None = error


class _Idle(threading.local):
    def __init__(self) -> None:
        self.greenlets: list[UnitGreenlet] = []


_idle = _Idle()


def _call(fn: Callable[..., Any], args: tuple[Any, ...]) -> _Done | _Failed:
    try:
        return _Done(fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller, raised there
        return _Failed(exc)


def _serve() -> None:
    # Started without arguments: those of a greenlet's first switch stay referenced for
    # as long as it runs, and this one runs for good.
    fn, args = getcurrent().parent.switch()
    while True:
        outcome = _call(fn, args)
        del fn, args  # an idle greenlet keeps no unit, session or row alive
        fn, args = getcurrent().parent.switch(outcome)


async def run_sync(fn: Callable[..., T], *args: Any, shielded: bool = False) -> T:
    """`fn(*args)` in a kept greenlet, awaiting what it awaits (as `greenlet_spawn`).

    `shielded` (closing a session, rolling one back): once `fn` awaits, the rest runs in a
    shielded anyio cancel scope, so a cancelled request still gives its connection back.
    The scope is entered only then: most such calls never await (an autocommit read's
    close, a committed unit's), and entering one cost 15 to 20 µs of a request.
    """
    idle = _idle.greenlets
    current = getcurrent()
    if idle:
        worker = idle.pop()
        worker.parent = current
    else:
        worker = UnitGreenlet(_serve, current)
        worker.switch()  # to where it waits for its first unit
    worker.gr_context = current.gr_context
    result = worker.switch((fn, args))
    if type(result) is not _Done and type(result) is not _Failed:
        if shielded:
            with anyio.CancelScope(shield=True):
                result = await _follow(worker, result)
        else:
            result = await _follow(worker, result)
    worker.gr_context = None  # an idle greenlet keeps no request's context alive
    if len(idle) < MAX_IDLE:
        idle.append(worker)
    # The idle greenlet's frame still holds `result`: empty it.
    if isinstance(result, _Failed):
        error, result.error = result.error, None
        assert error is not None
        raise error
    value, result.value = result.value, None
    return value  # type: ignore[no-any-return]


async def _follow(worker: UnitGreenlet, result: Any) -> _Done | _Failed:
    """Await what the unit in `worker` hands out, and send it the outcome, until it is done."""
    while type(result) is not _Done and type(result) is not _Failed:
        try:
            value = await result
        except BaseException:  # noqa: BLE001 - thrown into the unit, as greenlet_spawn does
            result = worker.throw(*sys.exc_info())
        else:
            result = worker.switch(value)
    return result
