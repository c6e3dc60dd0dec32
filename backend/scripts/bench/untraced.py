"""The app as if it had never heard of tracing: the baseline of the "tracing off" row.

`create_app()` with `install_tracing` left out, so FastAPI keeps its own default telemetry
and no middleware, listener or hook of ours is installed. The "tracing off" comparison
holds the real app (OTEL_EXPORTER_OTLP_ENDPOINT unset) against this one in the same run.
"""

from unittest.mock import patch

from fastapi import FastAPI

from backend import main
from backend.core.config import Settings
from backend.core.tracing_context import Tracing
from backend.database.session import Database


def _no_tracing(app: FastAPI, tracing: Tracing | None, settings: Settings, db: Database) -> None:
    """Stands in for install_tracing: installs nothing."""


with patch("backend.main.install_tracing", _no_tracing):
    app: FastAPI = main.create_app()
