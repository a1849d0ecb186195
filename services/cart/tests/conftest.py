"""The cart under test: the real cart, catalog and orders apps in-process, each in a keyspace
of its own on the real Cassandra node, wired through the cart's upstream clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from cart.config import CartSettings
from cart.main import create_app
from catalog.config import CatalogSettings
from catalog.main import create_app as create_catalog
from orders.config import OrdersSettings
from orders.main import create_app as create_orders

from tests.support.apps import (
    HostRouter,
    TokenMinter,
    drop_keyspace,
    serve,
    service_token_transport,
    unique_keyspace,
)
from tests.support.cart import CartEnv


@pytest_asyncio.fixture(scope="session")
async def env(cassandra_node: None, minter: TokenMinter) -> AsyncIterator[CartEnv]:
    router = HostRouter({"users": service_token_transport(minter)})
    catalog_app = create_catalog(
        CatalogSettings(cassandra_keyspace=unique_keyspace("catalog"), jwks_url=minter.jwks_url)
    )
    orders_app = create_orders(
        OrdersSettings(
            cassandra_keyspace=unique_keyspace("orders"),
            jwks_url=minter.jwks_url,
            catalog_url="http://catalog",
            users_url="http://users",
            client_secret="test-secret",
            worker_enabled=False,
        ),
        catalog_transport=router,
    )
    cart_app = create_app(
        CartSettings(
            cassandra_keyspace=unique_keyspace("cart"),
            jwks_url=minter.jwks_url,
            catalog_url="http://catalog",
            orders_url="http://orders",
            users_url="http://users",
            client_secret="test-secret",
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
        router.routes["catalog"] = httpx.ASGITransport(app=catalog_app)
        router.routes["orders"] = httpx.ASGITransport(app=orders_app)
        async with serve(cart_app, "http://cart") as cart:
            yield CartEnv(cart, catalog, orders, cart_app, router, minter)
            await drop_keyspace(cart_app)
        await drop_keyspace(orders_app)
        await drop_keyspace(catalog_app)
