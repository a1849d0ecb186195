"""Fixtures shared by all tests: the real Cassandra node and test tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kit.testing import TokenMinter, ensure_cassandra


@pytest.fixture(scope="session")
def cassandra_node() -> None:
    ensure_cassandra()


@pytest.fixture(scope="session")
def minter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenMinter]:
    yield TokenMinter(Path(tmp_path_factory.mktemp("jwks")))
