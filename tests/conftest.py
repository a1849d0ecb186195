"""Cross-service fixtures: catalog, users, orders and cart as real uvicorn processes on free
ports, against the real Cassandra (a keyspace per service per session). Reused by every
test under tests/ that needs the services themselves (integration, gateway)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.service_stack import Stack, build_stack, cql_session


def _drop_keyspaces(keyspaces: list[str]) -> None:
    with cql_session() as session:
        for keyspace in keyspaces:
            session.execute(f"DROP KEYSPACE IF EXISTS {keyspace}", timeout=60)


@pytest.fixture(scope="session")
def stack(cassandra_node: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four services, started in dependency order (users first: it publishes the JWKS).

    A second orders replica (`stack["orders-b"]`, same keyspace) is defined but not
    started; tests that need it start it. Logs: var/logs/it-<tag>-<service>.log.
    """
    tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    built = build_stack(tag, tmp_path_factory.mktemp("users-keys"))
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
