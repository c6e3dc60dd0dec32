"""gzip for the clients that ask for it, and nothing in the way of those that do not.

Starlette's GZipMiddleware also wraps every response to a client that does not accept
gzip (scripts, load balancers' health checks, benchmarks) in a responder that parses the
response's headers only to add `Vary: Accept-Encoding`: 6% of a list request's time.
Here a client that accepts gzip gets Starlette's middleware as it is, and any other
passes straight through. Every response then gets `Vary: Accept-Encoding` in one pass
over its raw headers (`vary_on_encoding`, a step of RequestContextMiddleware's).
"""

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core.middleware import RawHeaders

VARY = b"vary"
ACCEPT_ENCODING = b"Accept-Encoding"


def vary_on_encoding(_scope: Scope, headers: RawHeaders) -> RawHeaders:
    """RequestContextMiddleware's step, on the response's own header list: Accept-Encoding
    named in Vary (added to a Vary already there), since any response may be compressed
    for another client."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == VARY:
            if ACCEPT_ENCODING.lower() not in value.lower() and value.strip() != b"*":
                headers[index] = (name, value + b", " + ACCEPT_ENCODING)
            return headers
    headers.append((VARY, ACCEPT_ENCODING))
    return headers


class Compression:
    """GZipMiddleware for requests accepting gzip; the rest go straight to the app."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding" and b"gzip" in value:
                    await self.gzip(scope, receive, send)
                    return
        await self.app(scope, receive, send)
