"""The application factory; `backend.main:app` is the entry point."""

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.templating import Jinja2Templates
from prometheus_client import multiprocess
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from backend import __version__
from backend.core.compression import Compression, vary_on_encoding
from backend.core.config import Settings, get_settings, with_dev_secret_key
from backend.core.error_handlers import register_error_handlers
from backend.core.errors import SessionExpired
from backend.core.logs import configure_logging, skip_unused_record_fields
from backend.core.memory import collect_cycles_less_often, pin_mmap_threshold
from backend.core.metrics import Metrics, multiprocess_mode
from backend.core.middleware import RequestContextMiddleware
from backend.core.ratelimit import Throttle
from backend.core.request_limits import RequestLimitsMiddleware, too_large_message
from backend.core.route_paths import RoutePaths
from backend.core.security_headers import security_headers
from backend.core.sessions import PrivateResponses
from backend.core.slow_clients import install_header_deadline
from backend.core.state import AppState
from backend.core.static_files import STATIC_DIR, VersionedStaticFiles, static_version
from backend.core.templating import build_templates, docs_page
from backend.core.tokens import TokenReader
from backend.core.tracing import build_tracing, install_tracing, shutdown_tracing
from backend.database.request_scope import RequestScopeMiddleware
from backend.database.session import Database, build_engine
from backend.jobs.background import Background
from backend.realtime.runtime import Realtime
from backend.routers import (
    account,
    admin,
    admin_pages,
    auth,
    calendar,
    export,
    health,
    list_pages,
    lists,
    password_reset,
    pwa,
    quick,
    tags,
    theme,
    todo_bulk_pages,
    todo_pages,
    todos,
    trash,
    users,
    ws,
)
from backend.routers.drafts import session_expired_page
from backend.routers.metrics import metrics_endpoint
from backend.services.auth import AuthContext
from backend.services.imports import MAX_BYTES as IMPORT_MAX_BYTES

# Password hashes a worker computes at once. Each holds Argon2id's 19 MiB work area while
# it runs: two at once took a PostgreSQL worker from 122 to 161 MB during a burst of
# sign-ups, one keeps it at 142 (issue 12's 150 MB; docs/performance.md, "Peak memory").
# More logins at once is more workers, each on a core of its own.
HASH_THREADS = 1
logger = logging.getLogger("backend.main")


def warn_if_uvloop() -> None:
    """uvloop starved connections at 256 clients here (docs/performance.md); it is not
    installed with the app, so only a hand-made environment can bring it back."""
    loop = asyncio.get_running_loop()
    if type(loop).__module__.startswith("uvloop"):
        logger.warning("running on uvloop: expect unfair scheduling at high concurrency; use the asyncio loop")


def larger_bodies(app: FastAPI) -> dict[str, int]:
    """The paths that take bodies over MAX_BODY_BYTES (the import) and their limits."""
    return {app.url_path_for(name): IMPORT_MAX_BYTES for name in export.IMPORT_ROUTES}


def describe_body_limit(app: FastAPI, max_bytes: int) -> None:
    """The OpenAPI document names the body limit that is really in force on each path."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            larger = larger_bodies(app)
            for name, path in schema.get("paths", {}).items():
                for operation in path.values():
                    if "413" in operation.get("responses", {}):
                        limit = larger.get(name, max_bytes)
                        operation["responses"]["413"]["description"] = too_large_message(limit)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def build_state(settings: Settings, templates: Jinja2Templates) -> AppState:
    """The database, auth, throttle, metrics and tracing objects one app holds."""
    db = Database(build_engine(settings), settings)
    realtime = Realtime(settings)
    db.publisher = realtime.hub.publish  # committed changes go out to the open sockets
    throttle = Throttle(settings)
    metrics = Metrics() if settings.METRICS_ENABLED else None
    tracing = build_tracing(settings)
    return AppState(
        settings=settings,
        db=db,
        tokens=TokenReader(settings.secret_key),
        throttle=throttle,
        auth=AuthContext(db, throttle, settings, anyio.CapacityLimiter(HASH_THREADS)),
        templates=templates,
        metrics=metrics,
        tracing=tracing,
        paths=RoutePaths(),
        background=Background(settings, db, registry=metrics.registry if metrics else None, tracing=tracing),
        realtime=realtime,
    )


def lifespan(state: AppState) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Start-up and shut-down of an app holding `state`."""

    @asynccontextmanager
    async def run(_app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far (modules, app, routes) lives as long as the process:
        # move it out of the collector's reach so full collections stay short instead of
        # pausing every request in flight (they showed as p99 spikes under load).
        gc.collect()
        gc.freeze()
        collect_cycles_less_often()
        pin_mmap_threshold()
        skip_unused_record_fields()
        warn_if_uvloop()
        state.background.start()  # embedded: job threads and the scheduler; with BROKER_URL: nothing
        await state.realtime.start(state.db)
        yield
        await state.realtime.stop()
        await anyio.to_thread.run_sync(state.background.stop)
        shutdown_tracing(state.tracing)
        await state.db.dispose_async()
        if multiprocess_mode():
            # Live gauges (requests in flight) must stop counting this worker.
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]

    return run


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """Put `router`'s routes on the app itself, so that a request is matched once.

    FastAPI's `include_router` keeps a router as one nested route: a request is matched
    against every router before its own, then twice within its own (to pick the route, then
    to run it). That was 8% of the instructions of `GET /todos/{id}` and 15% of a PUT
    (docs/performance.md, "eleventh session"). A route already carries its router's prefix,
    tags, dependencies and responses, all built in when it was declared; the one thing an
    include adds here, the app's `responses=`, the routers declare themselves (UNAVAILABLE).
    """
    app.router.routes.extend(router.routes)


def mount_routes(app: FastAPI, state: AppState, version: str) -> None:
    """Every router, the docs page, /metrics when enabled and the static files."""
    # JSON routes first, the busiest first: routing tries routes in order. The todo id
    # segment never matches the literal siblings (`/todos/export`, core/routing.py), and a
    # full match wins over a method-only one, so the todos router may come before them.
    for module in (
        todos,
        export,
        trash,
        quick,
        lists,
        tags,
        users,
        account,
        theme,
        auth,
        password_reset,
        admin,
        health,
        calendar,
        ws,
    ):
        include_flat(app, module.router)
    page_modules = (todo_pages, todo_bulk_pages, list_pages, quick, trash, export, auth, password_reset, users)
    for module in (*page_modules, account, theme, admin_pages):
        include_flat(app, module.pages)
    include_flat(app, pwa.router)
    app.add_route("/docs", docs_page, include_in_schema=False)
    if state.metrics:
        app.add_api_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", VersionedStaticFiles(directory=STATIC_DIR, version=version), name="static")


def add_middleware(app: FastAPI, state: AppState) -> None:
    """The middleware stack (tracing's outermost layer is added by install_tracing)."""
    settings = state.settings
    # Added innermost first: the request's database scope, gzip, body size and time limits,
    # request context (ids, security headers, private responses' no-store and renewed
    # session cookie, Vary, logs, metrics, the 500 boundary), proxy headers.
    if state.db.server is not None:
        # One database session (one connection checkout) per request, on servers. SQLite
        # needs none: its units run inline on two long-lived connections.
        app.add_middleware(RequestScopeMiddleware)
    app.add_middleware(Compression, minimum_size=1024)
    app.add_middleware(
        RequestLimitsMiddleware,
        max_bytes=settings.MAX_BODY_BYTES,
        body_timeout=settings.BODY_TIMEOUT_SECONDS,
        larger=larger_bodies(app),
    )
    app.add_middleware(
        RequestContextMiddleware,
        metrics=state.metrics,
        headers=security_headers(settings),
        steps=(PrivateResponses(settings), vary_on_encoding),
    )
    if settings.FORWARDED_ALLOW_IPS:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.FORWARDED_ALLOW_IPS)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app and all of its state from `settings` (default: the environment)."""
    settings = with_dev_secret_key(settings or get_settings())
    configure_logging(settings.LOG_LEVEL)
    install_header_deadline(settings.HEADER_TIMEOUT_SECONDS)
    version = static_version()
    state = build_state(settings, build_templates(version))
    app = FastAPI(
        title="Todo monolith",
        version=__version__,
        lifespan=lifespan(state),
        swagger_ui_parameters={"persistAuthorization": True},
        docs_url=None,
        redoc_url=None,
    )
    app.state.app = state
    register_error_handlers(app)
    app.add_exception_handler(SessionExpired, session_expired_page)  # type: ignore[arg-type]
    mount_routes(app, state, version)
    describe_body_limit(app, settings.MAX_BODY_BYTES)
    add_middleware(app, state)
    install_tracing(app, state.tracing, settings, state.db)
    return app


app = create_app()
