"""The cart service app: `uvicorn cart.main:app` (its port: kit/topology.yaml)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI
from kit.app import create_app as create_service_app
from kit.http import breaker_closed, upstream_clients

from cart.clients import CatalogClient, OrdersClient
from cart.config import ME, CartSettings
from cart.repository import MIGRATIONS, CartRepository
from cart.routes import router
from cart.service import CartService


def create_app(
    settings: CartSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`transport` lets tests route the upstream calls somewhere else."""
    settings = settings or CartSettings()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        clients = upstream_clients(
            settings, {"catalog": settings.catalog_url, "orders": settings.orders_url}, transport
        )
        catalog, orders = clients["catalog"], clients["orders"]
        service = CartService(
            CartRepository(app.state.db), CatalogClient(catalog), OrdersClient(orders), settings
        )
        app.state.cart = service
        # Ready unless an upstream's breaker is open (no extra calls; heals on its own).
        app.state.readiness["catalog"] = breaker_closed(catalog)
        app.state.readiness["orders"] = breaker_closed(orders)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(catalog.aclose)
            stack.push_async_callback(orders.aclose)
            stack.push_async_callback(service.aclose)  # before the clients it uses close
            yield

    return create_service_app(
        settings,
        title="Product Store: cart",
        description="Shopping carts of signed-in users and the checkout saga.",
        routers=[router],
        migrations=MIGRATIONS,
        resources=resources,
        public_prefix=ME.prefix,
    )


app = create_app()
