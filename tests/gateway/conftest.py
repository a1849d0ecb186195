"""Real nginx gateways in front of stand-in services (tiny HTTP servers that echo what
they receive), so the gateway's routing, limits and error bodies are tested on their own."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devstack import observability as obs
from devstack.procs import free_port
from tests.gateway.stubs import Gateway, StubService


def _start(name: str, cfg: obs.Config) -> Gateway:
    proc = obs.gateway(cfg, name=name)
    checked = obs.check_gateway(proc)
    assert checked.returncode == 0, checked.stderr
    proc.start()
    return Gateway(proc, cfg)


@pytest.fixture(scope="session")
def stubs() -> Iterator[dict[str, StubService]]:
    services = {name: StubService(name).start() for name in obs.SERVICES}
    yield services
    for stub in services.values():
        stub.stop()


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
