"""The cart under test: the real cart, catalog and orders apps in-process, each in a keyspace
of its own on the real Cassandra node, wired through the cart's upstream clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from cart.config import CartSettings
from cart.main import create_app
from orders.config import OrdersSettings
from orders.main import create_app as create_orders

from tests.support.apps import TokenMinter, caller_settings, drop_keyspace, serve, upstreams
from tests.support.cart import CartEnv
from tests.support.catalog import catalog_app as new_catalog


@pytest_asyncio.fixture(scope="session")
async def env(cassandra_node: None, minter: TokenMinter) -> AsyncIterator[CartEnv]:
    catalog_app = new_catalog(minter)
    router = upstreams(minter, catalog=catalog_app)
    orders_app = create_orders(
        OrdersSettings(**caller_settings("orders", minter), worker_enabled=False),
        catalog_transport=router,
    )
    router.routes["orders"] = httpx.ASGITransport(app=orders_app)
    cart_app = create_app(
        CartSettings(
            **caller_settings("cart", minter),
            orders_url="http://orders",
            breaker_recovery_seconds=0.5,
            upstream_retries=1,
            replay_wait_seconds=10,
        ),
        transport=router,
    )
    async with (
        serve(catalog_app, "http://catalog") as catalog,
        serve(orders_app, "http://orders") as orders,
    ):
        async with serve(cart_app, "http://cart") as cart:
            yield CartEnv(cart, catalog, orders, cart_app, router, minter)
            await drop_keyspace(cart_app)
        await drop_keyspace(orders_app)
        await drop_keyspace(catalog_app)
