"""Catalog test fixtures: the real app on the real Cassandra node, in a keyspace of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cassandra.query import SimpleStatement
from catalog.config import CatalogSettings
from catalog.main import create_app
from catalog.seed import generate, seed
from catalog.testing import SEEDED, Catalog, Seeded
from kit.testing import TokenMinter, serve, test_keyspace


@pytest.fixture(scope="session")
async def catalog(cassandra_node: None, minter: TokenMinter) -> AsyncIterator[Catalog]:
    settings = CatalogSettings(
        cassandra_keyspace=test_keyspace("catalog"),
        jwks_url=minter.jwks_url,
        category_cache_seconds=0,
    )
    app = create_app(settings)
    async with serve(app) as client:
        try:
            await seed(app.state.db, SEEDED, progress=False)
            yield Catalog(client, app, settings, minter)
        finally:
            await app.state.db.execute(
                SimpleStatement(f"DROP KEYSPACE IF EXISTS {settings.cassandra_keyspace}")
            )


@pytest.fixture(scope="session")
def seeded() -> list[Seeded]:
    """What the seeder wrote, computed independently of the database."""
    return [Seeded(pid, p.name, p.category, p.price, p.stock) for pid, p in generate(SEEDED, 42)]
