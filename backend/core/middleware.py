"""The request-context middleware: request ids, response headers, access log, metrics, 500s."""

import logging
import os
import re
import time
from collections.abc import Callable, Sequence

from opentelemetry.trace import get_current_span
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.core.error_handlers import server_error_response
from backend.core.logs import info_line, request_id_var
from backend.core.memory import BodyCollector
from backend.core.metrics import Metrics
from backend.core.secret_paths import has_secret, shown_path

_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_logger = logging.getLogger("backend.access")
RawHeaders = list[tuple[bytes, bytes]]
# A change to a response's headers as it starts, from the request's scope: done here
# rather than in a middleware of its own, since each ASGI layer costs every request (as
# layers, the private-answer and Vary headers cost a one-todo read 1.5% more instructions).
HeaderStep = Callable[[Scope, RawHeaders], RawHeaders]


class RequestContextMiddleware:
    """X-Request-ID in and out, headers every response carries, one JSON access line,
    the request metrics, and the 500 boundary: one layer for all of it, since each ASGI
    layer costs every request. `steps` change each response's own headers first (private
    answers, Vary). Last, the body's bytes go to the BodyCollector."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics | None,
        headers: RawHeaders,
        bodies: BodyCollector | None = None,
        steps: Sequence[HeaderStep] = (),
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers
        self.bodies = bodies or BodyCollector()
        self.steps = tuple(steps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _REQUEST_ID_OK.match(candidate) else None
                break
        # 32 random hex digits: uuid4().hex's form, without building a UUID object per request.
        request_id = request_id or os.urandom(16).hex()
        path = scope["path"]
        if has_secret(path):
            # The request span (started outside, by FastAPI) recorded the real path.
            path = shown_path(path)
            get_current_span().set_attribute("url.path", path)
        token = request_id_var.set(request_id)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = False
        start = time.perf_counter()
        headers = [(b"x-request-id", request_id.encode()), *self.headers]
        steps = self.steps

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                own = list(message.get("headers", []))
                for step in steps:
                    own = step(scope, own)
                message["headers"] = [*own, *headers]
            await send(message)

        if self.metrics:
            self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Here rather than in Starlette's outermost middleware, so the answer still
            # gets its request id and security headers, and the logged traceback its id.
            if started:
                raise
            response = await server_error_response(Request(scope), exc)
            await response(scope, receive, send_with_id)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("route")
            template = getattr(route, "path_format", None) or (
                "/static" if path.startswith("/static/") else "unmatched"
            )
            if self.metrics:
                self.metrics.in_flight.dec()
                self.metrics.observe(scope["method"], template, status, duration)
            client = scope.get("client")
            info_line(
                access_logger,
                "request",
                {
                    "method": scope["method"],
                    "route": template,
                    "path": path,
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "user_id": state.get("user_id"),
                    "client": client[0] if client else None,
                },
            )
            request_id_var.reset(token)
            self.bodies.after(state.get("body_bytes", 0))
