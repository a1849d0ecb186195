"""Catalog test fixtures: the real app on the real Cassandra node, in a keyspace of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from catalog.config import CatalogSettings
from catalog.main import create_app
from catalog.seed import generate, seed

from tests.support.apps import TokenMinter, drop_keyspace, serve, unique_keyspace
from tests.support.catalog import SEEDED, Catalog, Seeded


@pytest.fixture(scope="session")
async def catalog(cassandra_node: None, minter: TokenMinter) -> AsyncIterator[Catalog]:
    settings = CatalogSettings(
        cassandra_keyspace=unique_keyspace("catalog"),
        jwks_url=minter.jwks_url,
        category_cache_seconds=0,
        sweep_interval_seconds=0,  # tests sweep when they mean to
    )
    app = create_app(settings)
    async with serve(app) as client:
        try:
            await seed(app.state.db, SEEDED, progress=False)
            yield Catalog(client, app, settings, minter)
        finally:
            await drop_keyspace(app)


@pytest.fixture(scope="session")
def seeded() -> list[Seeded]:
    """What the seeder wrote, computed independently of the database."""
    return [Seeded(pid, p.name, p.category, p.price, p.stock) for pid, p in generate(SEEDED, 42)]
