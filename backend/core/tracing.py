"""OpenTelemetry tracing: on when OTEL_EXPORTER_OTLP_ENDPOINT is set, fully off otherwise."""

from fastapi import FastAPI

from backend.core.config import Settings
from backend.database.session import Database


def install_tracing(app: FastAPI, settings: Settings, db: Database) -> None:
    """Instrument the app, its database and Redis calls when tracing is configured."""
    del app, settings, db  # filled in by the tracing work (issue 13)
