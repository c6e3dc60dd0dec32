"""A deadline for request headers in uvicorn's HTTP protocols.

uvicorn closes idle keep-alive connections, but a client that opens a connection and
sends its headers slowly (or sends one byte, which cancels the keep-alive timer) holds
it forever. The app never sees such a request, so the deadline has to live in the
protocol: each connection gets HEADER_TIMEOUT_SECONDS from connecting, and again from
the end of each response, to deliver a complete request head; otherwise it is answered
408 and closed. (Once the head is in, core.request_limits times the body.)

This is the one place the app reaches into uvicorn: the protocol classes are chosen by
uvicorn before the app is imported, so `uvicorn backend.main:app` with no flags can only
get the deadline this way. Pinned uvicorn; tests/test_slow_clients.py guards it.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

TIMEOUT_BODY = b'{"detail":"Request headers not received in time"}'
TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: " + str(len(TIMEOUT_BODY)).encode() + b"\r\n\r\n" + TIMEOUT_BODY
)


class HeaderDeadline:
    """Seconds a connection has to send a request head (one value per process)."""

    seconds = 10.0


def _arm(protocol: Any) -> None:
    _disarm(protocol)
    protocol._header_deadline = protocol.loop.call_later(HeaderDeadline.seconds, _expire, protocol)


def _disarm(protocol: Any) -> None:
    handle: asyncio.TimerHandle | None = getattr(protocol, "_header_deadline", None)
    if handle is not None:
        handle.cancel()
        protocol._header_deadline = None


def _expire(protocol: Any) -> None:
    protocol._header_deadline = None
    transport: asyncio.Transport = protocol.transport
    cycle = protocol.cycle
    if transport.get_protocol() is not protocol:
        return  # upgraded to a WebSocket, which owns the connection now: not ours to answer
    if cycle is not None and not cycle.response_complete:
        return  # a request is in progress: its head arrived in time
    if not transport.is_closing():
        transport.write(TIMEOUT_RESPONSE)
        transport.close()


def _patch(cls: Any) -> None:
    if getattr(cls, "_header_deadline_installed", False):
        return
    connection_made, connection_lost, response_complete = (
        cls.connection_made,
        cls.connection_lost,
        cls.on_response_complete,
    )

    def patched_connection_made(self: Any, transport: asyncio.Transport) -> None:
        connection_made(self, transport)
        _arm(self)

    def patched_on_response_complete(self: Any) -> None:
        response_complete(self)
        if not self.transport.is_closing():
            _arm(self)

    def patched_connection_lost(self: Any, exc: Exception | None) -> None:
        _disarm(self)
        connection_lost(self, exc)

    cls.connection_made = patched_connection_made
    cls.on_response_complete = patched_on_response_complete
    cls.connection_lost = patched_connection_lost
    cls._header_deadline_installed = True


def install_header_deadline(seconds: float) -> None:
    """Give every HTTP connection `seconds` to send each request head."""
    HeaderDeadline.seconds = seconds
    for cls in (HttpToolsProtocol, H11Protocol):
        _patch(cls)
