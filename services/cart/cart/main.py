"""The cart service app: `uvicorn cart.main:app --port 8001`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from kit.app import create_app as create_service_app
from kit.http import ServiceClient, ServiceTokens

from cart.clients import Catalog, Orders
from cart.config import CartSettings
from cart.repository import CartRepository
from cart.routes import router
from cart.service import CartService

MIGRATIONS = Path(__file__).parent / "migrations"


def breaker_closed(client: ServiceClient) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not client.breaker.opened

    return check


def create_app(
    settings: CartSettings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`transport` lets tests route the upstream calls somewhere else."""
    settings = settings or CartSettings()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        if settings.client_secret is None:
            raise RuntimeError("CART_CLIENT_SECRET is required (catalog, orders calls)")
        tokens = ServiceTokens(
            settings.token_url,
            settings.client_id,
            settings.client_secret.get_secret_value(),
        )

        def upstream(name: str, url: str) -> ServiceClient:
            return ServiceClient(
                name,
                url,
                tokens=tokens,
                timeout=settings.upstream_timeout,
                retries=settings.upstream_retries,
                failure_threshold=settings.breaker_failure_threshold,
                recovery_timeout=settings.breaker_recovery_seconds,
                transport=transport,
            )

        catalog = upstream("catalog", settings.catalog_url)
        orders = upstream("orders", settings.orders_url)
        service = CartService(
            CartRepository(app.state.db), Catalog(catalog), Orders(orders), settings
        )
        app.state.cart = service
        # Ready unless an upstream's breaker is open (no extra calls; heals on its own).
        app.state.readiness["catalog"] = breaker_closed(catalog)
        app.state.readiness["orders"] = breaker_closed(orders)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(catalog.aclose)
            stack.push_async_callback(orders.aclose)
            if settings.sweep_interval_seconds > 0:
                sweeper = asyncio.create_task(
                    service.sweep_forever(settings.sweep_interval_seconds), name="sweeper"
                )
                stack.callback(sweeper.cancel)
            yield

    return create_service_app(
        settings,
        title="Product Store: cart",
        description="Shopping carts of signed-in users and the checkout saga.",
        routers=[router],
        migrations=MIGRATIONS,
        resources=resources,
        public_prefix="/cart-api",
    )


app = create_app()
