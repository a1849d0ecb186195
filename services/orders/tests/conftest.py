"""The orders service under test: the real orders and catalog apps in-process, each in a
keyspace of its own on the real Cassandra node."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio
from orders.config import OrdersSettings
from orders.main import create_app

from tests.support.apps import TokenMinter, caller_settings, drop_keyspace, serve, upstreams
from tests.support.catalog import catalog_app as new_catalog
from tests.support.orders import OrdersEnv


@pytest_asyncio.fixture(scope="session")
async def env(cassandra_node: None, minter: TokenMinter) -> AsyncIterator[OrdersEnv]:
    catalog_app = new_catalog(minter)
    settings = OrdersSettings(
        **caller_settings("orders", minter),
        lifecycle_delays={"pending": 0, "paid": 0, "shipped": 0},
        worker_enabled=False,
        worker_retry_seconds=0.2,
    )
    async with serve(catalog_app, "http://catalog") as catalog:
        app = create_app(settings, catalog_transport=upstreams(minter, catalog=catalog_app))
        async with serve(app, "http://orders") as orders:
            yield OrdersEnv(orders, catalog, app, minter)
            await drop_keyspace(app)
        await drop_keyspace(catalog_app)
