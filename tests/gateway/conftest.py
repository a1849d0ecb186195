"""Real nginx gateways in front of stand-in services (tiny HTTP servers that echo what
they receive), so the gateway's routing, limits and error bodies are tested on their own."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from devstack import observability as obs
from devstack.procs import Proc


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StubService:
    """Answers everything with a JSON echo; /health/aggregate with `aggregate_status`."""

    name: str
    seen: list[str] = field(default_factory=list)
    aggregate_status: int = 200
    server: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        assert self.server is not None
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> StubService:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                stub.seen.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body_in = self.rfile.read(length).decode() if length else ""
                status, body = 200, {
                    "service": stub.name,
                    "path": self.path,
                    "method": self.command,
                    "headers": dict(self.headers.items()),
                    "body": body_in,
                }
                if self.path == "/health/aggregate":
                    status = stub.aggregate_status
                    body = {"status": "ok" if status == 200 else "degraded", "from": stub.name}
                elif self.path == "/openapi.json":
                    body = {"openapi": "3.1.0", "info": {"title": stub.name, "version": "1"}}
                elif self.path == "/fail":
                    status, body = 503, {"detail": f"{stub.name} says its database is down"}
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                # The gateway must not forward a second, upstream X-Request-ID.
                self.send_header("X-Request-ID", "set-by-upstream")
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


@dataclass(frozen=True)
class Gateway:
    proc: Proc
    cfg: obs.Config

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.cfg.gateway_port}"

    @property
    def access_log(self) -> Path:
        return obs.VAR / self.proc.name / "access.log"


@pytest.fixture(scope="session")
def stubs() -> Iterator[dict[str, StubService]]:
    services = {name: StubService(name).start() for name in obs.SERVICES}
    yield services
    for stub in services.values():
        stub.stop()


def _start(name: str, cfg: obs.Config) -> Gateway:
    proc = obs.gateway(cfg, name=name)
    checked = obs.check_gateway(proc)
    assert checked.returncode == 0, checked.stderr
    proc.start()
    return Gateway(proc, cfg)


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    (site / "index.html").write_text("<html><body>Product Store docs</body></html>")
    return site


@pytest.fixture(scope="session")
def gateway(stubs: dict[str, StubService], docs_site: Path) -> Iterator[Gateway]:
    """All four services up; generous general limit, tiny login/register limit."""
    cfg = replace(
        obs.Config(),
        gateway_port=free_port(),
        upstreams={name: stub.address for name, stub in stubs.items()},
        gateway_rate="1000r/s",
        gateway_burst=1000,
        gateway_auth_rate="1r/m",
        gateway_auth_burst=2,
        docs_root=docs_site,
    )
    gw = _start("test-gateway", cfg)
    yield gw
    gw.proc.stop()


@pytest.fixture(scope="session")
def degraded_gateway(stubs: dict[str, StubService]) -> Iterator[Gateway]:
    """Catalog and orders down (closed ports), cart and users up."""
    upstreams = {name: stub.address for name, stub in stubs.items()}
    upstreams |= {"catalog": f"127.0.0.1:{free_port()}", "orders": f"127.0.0.1:{free_port()}"}
    cfg = replace(obs.Config(), gateway_port=free_port(), upstreams=upstreams)
    gw = _start("test-gateway-degraded", cfg)
    yield gw
    gw.proc.stop()


@pytest.fixture(scope="session")
def dead_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """No service at all, no docs build, a small general limit, and 127.0.0.1 trusted as a
    proxy so that X-Forwarded-For decides the client address."""
    cfg = replace(
        obs.Config(),
        gateway_port=free_port(),
        upstreams={name: f"127.0.0.1:{free_port()}" for name in obs.SERVICES},
        gateway_rate="1r/m",
        gateway_burst=5,
        trusted_proxy="127.0.0.1/32",
        docs_root=tmp_path_factory.mktemp("nodocs") / "site",
    )
    gw = _start("test-gateway-dead", cfg)
    yield gw
    gw.proc.stop()
