"""The catalog service app: `uvicorn catalog.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from kit.app import create_app as create_service_app

from catalog.config import ME, CatalogSettings
from catalog.repository import MIGRATIONS, CatalogRepository
from catalog.routes import internal, public
from catalog.service import CatalogService


def create_app(settings: CatalogSettings | None = None) -> FastAPI:
    settings = settings or CatalogSettings()

    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        service = CatalogService(CatalogRepository(app.state.db), settings)
        app.state.catalog = service
        # The catalog owns its reservations: it releases the expired ones itself.
        async with service.reservations.sweeping(settings.sweep_interval_seconds):
            yield

    return create_service_app(
        settings,
        title="Product Store catalog",
        description="Products, categories, stock and stock reservations.",
        routers=[public, internal],
        migrations=MIGRATIONS,
        resources=resources,
        public_prefix=ME.prefix,
    )


app = create_app()
