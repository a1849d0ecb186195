"""Fixtures shared by all tests: the real Cassandra node and test tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import cassandra
from tests.support.apps import TokenMinter


@pytest.fixture(scope="session")
def cassandra_node() -> Iterator[None]:
    """The real node on the CQL port: reused when up, else started and stopped afterwards."""
    started = not cassandra.is_up()
    if started:
        cassandra.start(wait=True)
    yield
    if started:
        cassandra.stop()


@pytest.fixture(scope="session")
def minter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenMinter]:
    yield TokenMinter(Path(tmp_path_factory.mktemp("jwks")))
