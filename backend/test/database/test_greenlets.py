"""Units of work in kept greenlets (backend/database/greenlets.py): the same behaviour as
SQLAlchemy's greenlet_spawn, without a new greenlet per call."""

import asyncio
import contextvars
import gc
import threading
import weakref
from typing import Any

import anyio
import pytest
from greenlet import getcurrent  # type: ignore[import-untyped]
from sqlalchemy.util import await_

from backend.database import greenlets
from backend.database.greenlets import MAX_IDLE, run_sync

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="none")


class Thing:
    """Something a weak reference can watch."""


@pytest.fixture(autouse=True)
def no_idle_greenlets() -> None:
    greenlets._idle.greenlets.clear()


def test_a_unit_gets_its_arguments_and_awaits_through_sqlalchemy() -> None:
    def unit(a: int, b: int) -> int:
        return await_(asyncio.sleep(0, result=a * 10)) + b

    assert asyncio.run(run_sync(unit, 4, 2)) == 42


def test_the_next_unit_runs_in_the_same_greenlet_even_after_an_error() -> None:
    seen = []

    def fails() -> None:
        seen.append(getcurrent())
        await_(asyncio.sleep(0))
        raise LookupError("no such row")

    def works() -> str:
        seen.append(getcurrent())
        return "ok"

    async def main() -> str:
        with pytest.raises(LookupError, match="no such row"):
            await run_sync(fails)
        return await run_sync(works)

    assert asyncio.run(main()) == "ok"
    assert seen[0] is seen[1]
    assert seen[0] is not getcurrent()


def test_units_waiting_at_once_each_get_a_greenlet() -> None:
    async def main() -> list[Any]:
        both_in = asyncio.Event()
        inside: list[Any] = []

        def unit(n: int) -> tuple[int, Any]:
            inside.append(getcurrent())
            if len(inside) == 2:
                both_in.set()
            await_(both_in.wait())
            return n, getcurrent()

        return list(await asyncio.gather(run_sync(unit, 1), run_sync(unit, 2)))

    (one, first), (two, second) = asyncio.run(main())
    assert (one, two) == (1, 2)
    assert first is not second
    assert len(greenlets._idle.greenlets) == 2


def test_at_most_max_idle_greenlets_are_kept() -> None:
    async def main() -> None:
        release = asyncio.Event()

        def unit() -> None:
            await_(release.wait())

        tasks = [asyncio.create_task(run_sync(unit)) for _ in range(MAX_IDLE + 5)]
        await asyncio.sleep(0)
        release.set()
        await asyncio.gather(*tasks)

    asyncio.run(main())
    assert len(greenlets._idle.greenlets) == MAX_IDLE


def test_a_cancelled_request_cancels_the_unit_inside() -> None:
    cleaned_up = []

    def unit() -> None:
        try:
            await_(asyncio.sleep(30))
        except asyncio.CancelledError:
            cleaned_up.append(True)
            raise

    async def main() -> None:
        task = asyncio.create_task(run_sync(unit))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert cleaned_up == [True]
    assert asyncio.run(run_sync(lambda: "next")) == "next"  # the greenlet serves on


@pytest.mark.parametrize("shielded", [True, False])
def test_a_shielded_unit_finishes_its_await_though_the_request_is_cancelled(shielded: bool) -> None:
    """As closing a session: a cancel scope cancelled mid-await waits for a shielded unit."""
    finished = []

    def unit() -> str:
        await_(asyncio.sleep(0.05))
        finished.append(True)
        return "closed"

    async def main() -> str | None:
        with anyio.move_on_after(0.01):
            return await run_sync(unit, shielded=shielded)
        return None

    assert asyncio.run(main()) == ("closed" if shielded else None)
    assert finished == ([True] if shielded else [])


def test_a_unit_sees_the_callers_context_and_an_idle_greenlet_keeps_none() -> None:
    async def main(value: str) -> str:
        request_id.set(value)
        return await run_sync(request_id.get)

    assert asyncio.run(main("first")) == "first"
    assert asyncio.run(main("second")) == "second"
    (idle,) = greenlets._idle.greenlets
    assert idle.gr_context is None


def test_an_idle_greenlet_keeps_no_argument_result_or_error_alive() -> None:
    given, made, raised = Thing(), [], []

    def returns(arg: Thing) -> list[Thing]:
        result = [Thing()]
        made.append(weakref.ref(result[0]))
        return result if arg else []

    class Failure(Exception):
        pass

    def fails() -> None:
        error = Failure()
        raised.append(weakref.ref(error))
        raise error

    async def main(arg: list[Thing]) -> None:
        await run_sync(returns, arg.pop())
        with pytest.raises(Failure):
            await run_sync(fails)

    watched = weakref.ref(given)
    holder = [given]
    del given
    asyncio.run(main(holder))
    gc.collect()
    assert watched() is None
    assert made[0]() is None
    assert raised[0]() is None


def test_each_thread_keeps_its_own_greenlets() -> None:
    asyncio.run(run_sync(lambda: None))
    counts = []

    def other_thread() -> None:
        counts.append(len(greenlets._idle.greenlets))
        asyncio.run(run_sync(lambda: None))
        counts.append(len(greenlets._idle.greenlets))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert counts == [0, 1]
    assert len(greenlets._idle.greenlets) == 1
