"""Cross-service fixtures: catalog, users, orders and cart as real uvicorn processes on free
ports, against the real Cassandra (a keyspace per service per session). Reused by every
test under tests/ that needs the services themselves (integration, gateway)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from devstack import docs
from devstack import observability as obs
from devstack.procs import free_port
from tests.service_stack import Stack, build_stack, cql_session


def _drop_keyspaces(keyspaces: list[str]) -> None:
    with cql_session() as session:
        for keyspace in keyspaces:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The documentation site, built once per session with `mkdocs build --strict`."""
    site = tmp_path_factory.mktemp("docs") / "site"
    docs.build(site)
    return site


@pytest.fixture(scope="session")
def jaeger_ports() -> Iterator[obs.Config]:
    """A real Jaeger v2 (in memory) on free ports; the services of `stack` trace to it."""
    cfg = replace(
        obs.Config(),
        jaeger_ui_port=free_port(),
        jaeger_query_grpc_port=free_port(),
        jaeger_otlp_grpc_port=free_port(),
        jaeger_otlp_http_port=free_port(),
        jaeger_metrics_port=free_port(),
        jaeger_spanmetrics_port=free_port(),
        jaeger_health_port=free_port(),
    )
    proc = obs.jaeger(cfg, name="test-jaeger")  # builds the binary first when missing
    try:
        proc.start()
        yield cfg
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def stack(
    cassandra_node: None, jaeger_ports: obs.Config, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The four services, started in dependency order (users first: it publishes the JWKS).

    A second orders replica (`stack["orders-b"]`, same keyspace) is defined but not
    started; tests that need it start it. Logs: var/logs/it-<tag>-<service>.log.
    """
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    otlp = jaeger_ports.url("jaeger_otlp_http")
    built = build_stack(tag, tmp_path_factory.mktemp("users-keys"), otlp_endpoint=otlp)
    started = []
    try:
        for name in ("users", "catalog", "orders", "cart"):
            built[name].start()
            started.append(name)
        yield built
    finally:
        for service in built.services.values():
            service.stop()
        if os.environ.get("STORE_KEEP_TEST_DATA") != "1":
            _drop_keyspaces(list(built.keyspaces.values()))
