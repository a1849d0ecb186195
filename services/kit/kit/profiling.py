"""Opt-in profiling of single requests with pyinstrument.

With the setting `profiling_enabled` on (`CATALOG_PROFILING_ENABLED=true`, ...), a request
that carries `?profile=1` (or the header `X-Profile: 1`) runs under a pyinstrument profiler
and its response is replaced by the profiler's report: interactive HTML, or speedscope JSON
with `profile=speedscope`. The app itself never sees the `profile` parameter.

Off by default, and it must stay off in production: anyone who can reach the service could
make any request several times slower and return megabytes of report (a denial-of-service
switch), and the report shows the service's code paths, files and timings. The local stack
turns it on (`devstack/stack.py`); `uv run python -m devstack.profile <url>` saves reports.
See docs/profiling.md.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import unquote_plus

from pyinstrument import Profiler
from pyinstrument.renderers import HTMLRenderer, SpeedscopeRenderer
from pyinstrument.session import Session
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kit.errors import problem

Format = Literal["html", "speedscope"]
# `?profile` alone counts as `?profile=1`; `0`/`false` ask explicitly for no profile.
FORMATS: dict[str, Format | None] = {
    "": "html",
    "1": "html",
    "true": "html",
    "html": "html",
    "speedscope": "speedscope",
    "0": None,
    "false": None,
}
PARAM = "profile"
HEADER = b"x-profile"
MEDIA_TYPES: dict[Format, str] = {"html": "text/html", "speedscope": "application/json"}
# Response headers of a report: what the profiled request answered, and the profile's totals.
STATUS_HEADER = "X-Profiled-Status"
DURATION_HEADER = "X-Profile-Duration"
CPU_HEADER = "X-Profile-CPU-Time"
SAMPLES_HEADER = "X-Profile-Samples"
# Headers of the profiled response kept on the report.
KEPT_HEADERS = (b"x-request-id",)


def split_profile_param(query_string: bytes) -> tuple[str | None, bytes]:
    """The value of the `profile` query parameter (None: absent) and the query string
    without it; the other parameters are kept byte for byte."""
    if PARAM.encode() not in query_string:
        return None, query_string
    value: str | None = None
    kept = []
    for part in query_string.split(b"&"):
        key, _, raw = part.partition(b"=")
        if unquote_plus(key.decode("latin-1")) == PARAM:
            if value is None:
                value = unquote_plus(raw.decode("latin-1"))
        else:
            kept.append(part)
    return value, b"&".join(kept)


def render(session: Session, fmt: Format) -> str:
    renderer = SpeedscopeRenderer() if fmt == "speedscope" else HTMLRenderer()
    return str(renderer.render(session))


class ProfilingMiddleware:
    """Runs a request that asks for it under pyinstrument and answers with the report.

    The report's status is 200 whatever the request answered; `X-Profiled-Status` carries
    that status, and `X-Profile-Duration` / `X-Profile-CPU-Time` (seconds) and
    `X-Profile-Samples` the profile's totals. The body the app sent is discarded. A request
    that raises is not reported: the exception goes on to the error handlers as usual.
    """

    def __init__(self, app: ASGIApp, interval: float = 0.001) -> None:
        self.app = app
        self.interval = interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        requested, query_string = split_profile_param(scope["query_string"])
        if requested is None:
            requested = next(
                (v.decode("latin-1") for k, v in scope["headers"] if k == HEADER), None
            )
        if requested is None:
            await self.app(scope, receive, send)
            return
        scope = {**scope, "query_string": query_string}
        key = requested.strip().lower()
        if key not in FORMATS:
            choices = ", ".join(repr(k) for k in FORMATS if k)
            detail = f"profile={requested!r}: expected one of {choices}"
            await problem(400, "Bad request", detail)(scope, receive, send)
            return
        fmt = FORMATS[key]
        if fmt is None:
            await self.app(scope, receive, send)
            return

        status = 0
        kept: list[tuple[bytes, bytes]] = []

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                kept.extend((k, v) for k, v in message.get("headers", ()) if k in KEPT_HEADERS)

        profiler = Profiler(interval=self.interval, async_mode="enabled")
        profiler.start(target_description=f"{scope['method']} {scope['path']}")
        try:
            await self.app(scope, receive, capture)
        finally:
            session = profiler.stop()

        headers = {
            STATUS_HEADER: str(status),
            DURATION_HEADER: f"{session.duration:.6f}",
            CPU_HEADER: f"{session.cpu_time:.6f}",
            SAMPLES_HEADER: str(session.sample_count),
            "Cache-Control": "no-store",
        }
        response = Response(render(session, fmt), media_type=MEDIA_TYPES[fmt], headers=headers)
        response.raw_headers.extend(kept)
        await response(scope, receive, send)
