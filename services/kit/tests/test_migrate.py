"""`python -m kit.migrate <service>` (the chart's migration hook Jobs) on the real node."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from cassandra.cluster import Cluster
from kit.topology import TOPOLOGY

from devstack import cassandra


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kit.migrate", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def keyspace(cassandra_node: None) -> Iterator[str]:
    name = f"test_migrate_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    yield name
    cluster = Cluster(["127.0.0.1"], port=cassandra.cql_port())
    try:
        cluster.connect().execute(f"DROP KEYSPACE IF EXISTS {name}", timeout=60)
    finally:
        cluster.shutdown()


def test_applies_a_service_migrations_once(keyspace: str) -> None:
    catalog = TOPOLOGY.service("catalog")
    env = {
        catalog.env("cassandra_keyspace"): keyspace,
        catalog.env("cassandra_port"): str(cassandra.cql_port()),
    }
    first = run("catalog", env=env)
    assert first.returncode == 0, first.stderr
    assert "catalog: migrations applied: [1" in first.stdout
    again = run("catalog", env=env)
    assert again.returncode == 0 and "none pending" in again.stdout, again.stderr


def test_refuses_an_unknown_service() -> None:
    proc = run("inventory")
    assert proc.returncode == 2 and "usage: python -m kit.migrate {catalog," in proc.stderr
