"""The orders service app: `uvicorn orders.main:app --port 8002`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from kit.app import create_app as create_service_app
from kit.http import ServiceClient, ServiceTokens

from orders.catalog import CatalogStock
from orders.config import OrdersSettings
from orders.repository import OrdersRepository
from orders.routes import internal, router
from orders.service import OrdersService
from orders.worker import LifecycleWorker

MIGRATIONS = Path(__file__).parent / "migrations"


def breaker_closed(client: ServiceClient) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return not client.breaker.opened

    return check


def create_app(
    settings: OrdersSettings | None = None,
    *,
    catalog_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`catalog_transport` lets tests route catalog calls somewhere else."""
    settings = settings or OrdersSettings()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        if settings.client_secret is None:
            raise RuntimeError("ORDERS_CLIENT_SECRET is required (catalog calls)")
        catalog = ServiceClient(
            "catalog",
            settings.catalog_url,
            tokens=ServiceTokens(
                settings.token_url,
                settings.client_id,
                settings.client_secret.get_secret_value(),
            ),
            timeout=settings.upstream_timeout,
            retries=settings.upstream_retries,
            failure_threshold=settings.breaker_failure_threshold,
            recovery_timeout=settings.breaker_recovery_seconds,
            transport=catalog_transport,
        )
        repo = OrdersRepository(app.state.db)
        service = OrdersService(
            repo,
            CatalogStock(catalog),
            delays=settings.lifecycle_delays,
            buckets=settings.schedule_buckets,
            retry_seconds=settings.worker_retry_seconds,
        )
        app.state.orders = service
        # Ready unless the catalog's breaker is open (no extra calls; heals on its own).
        app.state.readiness["catalog"] = breaker_closed(catalog)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(catalog.aclose)
            if settings.worker_enabled:
                worker = LifecycleWorker(
                    repo,
                    service,
                    buckets=settings.schedule_buckets,
                    poll_seconds=settings.worker_poll_seconds,
                    batch=settings.worker_batch,
                )
                app.state.worker = worker
                await stack.enter_async_context(worker.running())
            yield

    return create_service_app(
        settings,
        title="Product Store: orders",
        description="Orders, their lifecycle (pending, paid, shipped, delivered; cancelled) "
        "and the order-creation API of the checkout saga.",
        routers=[router, internal],
        migrations=MIGRATIONS,
        resources=resources,
        public_prefix="/order-api",
    )


app = create_app()
