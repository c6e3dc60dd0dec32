"""Jobs and fixtures' building blocks shared by the job tests, unit and live.

`LIVE_JOBS` is what live worker processes declare on top of the defaults
(`python -m backend.worker --jobs backend.test.jobs.helpers:LIVE_JOBS`): jobs that leave
their trace in a file, one line per run (an append of one short line is atomic).
"""

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from backend.jobs.queue import Job, JobContext


def record(ctx: JobContext, *, path: str, key: str) -> None:
    """Append `key pid` to the file at `path`."""
    with open(path, "a") as out:
        out.write(f"{key} {os.getpid()} {ctx.settings.ENVIRONMENT}\n")


def slow_record(ctx: JobContext, *, path: str, key: str, seconds: float) -> None:
    """`record` after `seconds`; writes `start key` first, so a test can see it running."""
    with open(path, "a") as out:
        out.write(f"start-{key} {os.getpid()} {ctx.settings.ENVIRONMENT}\n")
    time.sleep(seconds)
    record(ctx, path=path, key=key)


LIVE_JOBS: tuple[Job[...], ...] = (record, slow_record)


def lines(path: Path) -> list[str]:
    """The keys recorded so far (first word of each line)."""
    if not path.exists():
        return []
    return [line.split()[0] for line in path.read_text().splitlines() if line]


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = datetime(2026, 12, 1, 2, 59, 30, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class Records(logging.Handler):
    """Keeps the log records of one logger (the app's loggers do not propagate to pytest's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@contextmanager
def captured(*names: str) -> Iterator[Records]:
    handler = Records()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)
