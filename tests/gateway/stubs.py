"""Stand-in services and gateway handles for the gateway and observability tests (a module,
not conftest, so that tests can import the types under --import-mode=importlib)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from devstack import observability as obs
from devstack.procs import VAR, Proc
from tests.local_http import QuietHandler, StandIn


@dataclass
class StubService(StandIn):
    """Answers everything with a JSON echo; /health/aggregate with `aggregate_status`."""

    name: str
    seen: list[str] = field(default_factory=list)
    aggregate_status: int = 200

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def handler(self) -> type[QuietHandler]:
        stub = self

        class Handler(QuietHandler):
            def _answer(self) -> None:
                stub.seen.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length).decode() if length else ""
                status, body = (
                    200,
                    {
                        "service": stub.name,
                        "path": self.path,
                        "method": self.command,
                        "headers": dict(self.headers.items()),
                        "body": body_in,
                    },
                )
                if self.path == "/health/aggregate":
                    status = stub.aggregate_status
                    body = {"status": "ok" if status == 200 else "degraded", "from": stub.name}
                elif self.path == "/openapi.json":
                    body = {"openapi": "3.1.0", "info": {"title": stub.name, "version": "1"}}
                elif self.path == "/fail":
                    status, body = 503, {"detail": f"{stub.name} says its database is down"}
                # The gateway must not forward a second, upstream X-Request-ID.
                upstream_id = {"X-Request-ID": "set-by-upstream"}
                self.reply(status, json.dumps(body).encode(), "application/json", upstream_id)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return Handler


@dataclass(frozen=True)
class Gateway:
    proc: Proc
    cfg: obs.Config

    @property
    def url(self) -> str:
        return self.cfg.url("gateway")

    @property
    def access_log(self) -> Path:
        return VAR / self.proc.name / "access.log"
