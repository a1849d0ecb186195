"""Request-scoped context: the request id, visible to logs, errors and outgoing calls."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
HEADER = "x-request-id"
# What a client-sent id may be: printable ASCII, which every HTTP client and log line carries.
# Anything else (latin-1 bytes, control characters) is replaced by a fresh id, so it is
# never echoed, logged or forwarded to another service (whose client would refuse it).
_VALID_ID = re.compile(r"[\x20-\x7e]{1,128}")


def incoming_request_id(raw: bytes) -> str:
    """The client's X-Request-ID (its first 128 characters) when it is printable ASCII,
    else a new one: the id goes back in a response header, into logs and on to other
    services."""
    incoming = raw.decode("latin-1")[:128]
    return incoming if _VALID_ID.fullmatch(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes X-Request-ID from the client (or makes one) and echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_request_id(dict(scope["headers"]).get(HEADER.encode(), b""))
        token = request_id.set(rid)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((HEADER.encode(), rid.encode("ascii")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
