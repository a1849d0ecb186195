"""The orders service app: `uvicorn orders.main:app` (its port: kit/topology.yaml)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from fastapi import FastAPI
from kit.app import create_app as create_service_app
from kit.http import breaker_closed, upstream_clients

from orders.catalog import CatalogStock
from orders.config import ME, OrdersSettings
from orders.repository import MIGRATIONS, OrdersRepository
from orders.routes import internal, router
from orders.service import OrdersService
from orders.worker import LifecycleWorker


def create_app(
    settings: OrdersSettings | None = None,
    *,
    catalog_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`catalog_transport` lets tests route catalog calls somewhere else."""
    settings = settings or OrdersSettings()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        clients = upstream_clients(settings, {"catalog": settings.catalog_url}, catalog_transport)
        catalog = clients["catalog"]
        repo = OrdersRepository(app.state.db)
        service = OrdersService(repo, CatalogStock(catalog), settings)
        app.state.orders = service
        # Ready unless the catalog's breaker is open (no extra calls; heals on its own).
        app.state.readiness["catalog"] = breaker_closed(catalog)
        async with AsyncExitStack() as stack:
            stack.push_async_callback(catalog.aclose)
            if settings.worker_enabled:
                worker = LifecycleWorker(service, settings)
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
        public_prefix=ME.prefix,
    )


app = create_app()
