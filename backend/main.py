"""The application factory; `backend.main:app` is the entry point."""

import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI
from prometheus_client import multiprocess
from starlette.middleware.gzip import GZipMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from backend import __version__
from backend.core.config import Settings, get_settings
from backend.core.errors import register_error_handlers
from backend.core.observability import (
    Metrics,
    RequestContextMiddleware,
    configure_logging,
    metrics_endpoint,
    multiprocess_mode,
)
from backend.core.ratelimit import Throttle
from backend.core.tokens import TokenReader
from backend.core.tracing import install_tracing
from backend.core.web import (
    STATIC_DIR,
    BodySizeLimitMiddleware,
    VersionedStaticFiles,
    build_templates,
    docs_page,
    security_headers,
    static_version,
)
from backend.database.session import Database, build_engine
from backend.routers import admin, auth, health, todos, users
from backend.schemas.errors import error_responses
from backend.services.auth import AuthContext

HASH_THREADS = 2


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app and all of its state from `settings` (default: the environment)."""
    settings = settings or get_settings()
    configure_logging(settings.LOG_LEVEL)
    db = Database(build_engine(settings), settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far (modules, app, routes) lives as long as the process:
        # move it out of the collector's reach so full collections stay short instead of
        # pausing every request in flight (they showed as p99 spikes under load).
        gc.collect()
        gc.freeze()
        yield
        db.dispose()
        if multiprocess_mode():
            # Live gauges (requests in flight) must stop counting this worker.
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    app = FastAPI(
        title="Todo monolith",
        version=__version__,
        lifespan=lifespan,
        responses=error_responses(503),
        swagger_ui_parameters={"persistAuthorization": True},
        docs_url=None,
        redoc_url=None,
    )
    version = static_version()
    app.state.settings = settings
    app.state.db = db
    app.state.throttle = Throttle(settings)
    app.state.tokens = TokenReader(settings.secret_key)
    app.state.auth = AuthContext(db, app.state.throttle, settings, anyio.CapacityLimiter(HASH_THREADS))
    app.state.templates = build_templates(version)
    app.state.metrics = Metrics() if settings.METRICS_ENABLED else None

    register_error_handlers(app)
    # JSON routes first, the busiest first: routing tries routes in order.
    for module in (todos, users, auth, admin, health):
        app.include_router(module.router)
    for module in (todos, auth, users, admin):
        app.include_router(module.pages)
    app.add_route("/docs", docs_page, include_in_schema=False)
    if app.state.metrics:
        app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", VersionedStaticFiles(directory=STATIC_DIR, version=version), name="static")

    # Added innermost first: gzip, body limit, request context (ids, security headers, logs,
    # metrics, the 500 boundary), proxy headers.
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.MAX_BODY_BYTES)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics, headers=security_headers(settings))
    if settings.FORWARDED_ALLOW_IPS:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.FORWARDED_ALLOW_IPS)
    install_tracing(app, settings, db)
    return app


app = create_app()
