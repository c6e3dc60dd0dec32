"""Fixtures of the core tests: the app's JSON log lines, captured."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest


class LogCapture:
    """JSON lines written by the app's own formatter, as they would reach stdout."""

    def __init__(self) -> None:
        self.stream = io.StringIO()

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self) -> dict[str, dict[str, Any]]:
        return {line["event"]: line for line in self.lines() if "event" in line}

    def access(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["logger"] == "backend.access"]


@pytest.fixture
def logs() -> Iterator[LogCapture]:
    """Everything the `backend` loggers write, formatted by the app's JSON formatter.

    (create_app installed that formatter when backend.main was imported.)
    """
    logger = logging.getLogger("backend")
    app_handler = next(h for h in logger.handlers if getattr(h, "_backend_json", False))
    capture = LogCapture()
    handler = logging.StreamHandler(capture.stream)
    handler.setFormatter(app_handler.formatter)
    logger.addHandler(handler)
    yield capture
    logger.removeHandler(handler)
