"""The whole store as it runs locally: the four services (traced to a real Jaeger), the
nginx gateway in front of them, its exporter, and a real Prometheus scraping everything
(Cassandra's JMX exporter included) every second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, replace

import httpx
import pytest

from devstack import cassandra
from devstack import observability as obs
from devstack.procs import free_port
from tests.service_stack import Stack

JOBS = {*obs.SERVICES, "gateway", "cassandra", "jaeger-spanmetrics"}


@dataclass(frozen=True)
class Observed:
    stack: Stack
    cfg: obs.Config


def _wait_until_every_target_is_scraped(prometheus: str, within: float = 60) -> None:
    """Traffic counted before a target's first scrape never shows in a rate(): start
    driving traffic only once Prometheus has a sample of every target."""
    deadline, why = time.monotonic() + within, "no targets yet"
    while time.monotonic() < deadline:
        try:
            targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]
        except httpx.HTTPError:
            targets = {"activeTargets": []}
        active = targets["activeTargets"]
        down = [t for t in active if t["labels"]["job"] in JOBS and t["health"] != "up"]
        if active and not down:
            return
        why = "; ".join(f"{t['labels']['job']}: {t['lastError'] or t['health']}" for t in down)
        why = why or "no targets yet"
        time.sleep(0.5)
    raise AssertionError(f"Prometheus did not scrape every target within {within:.0f}s: {why}")


@pytest.fixture(scope="session")
def observed(stack: Stack, jaeger_ports: obs.Config) -> Iterator[Observed]:
    cfg = replace(
        jaeger_ports,
        gateway_port=free_port(),
        upstreams={name: f"127.0.0.1:{stack[name].port}" for name in obs.SERVICES},
        # the traffic of a test comes from one address: room for it under the limits
        gateway_rate="500r/s",
        gateway_burst=1000,
        gateway_auth_rate="100r/s",
        gateway_auth_burst=200,
        nginx_exporter_port=free_port(),
        prometheus_port=free_port(),
        alertmanager_port=free_port(),
        cassandra_metrics=f"127.0.0.1:{cassandra.Settings.from_env().metrics_port}",
        scrape_interval="1s",
        cassandra_scrape_interval="5s",
        evaluation_interval="1s",
    )
    procs = [
        obs.gateway(cfg, name="test-full-gateway"),
        obs.nginx_exporter(cfg, name="test-full-nginx-exporter"),
        obs.prometheus(cfg, name="test-full-prometheus"),
    ]
    try:
        for proc in procs:
            proc.start()
        observed = Observed(stack, cfg)
        _wait_until_every_target_is_scraped(cfg.url("prometheus"))
        yield observed
    finally:
        for proc in reversed(procs):
            proc.stop()
