"""Catalog business rules: products and their stock; the listing and the reservations are
parts of their own (`listing.py`, `reservations.py`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from uuid import UUID, uuid4

from kit import clock
from prometheus_client import Counter

from catalog.cas import compare_and_set
from catalog.config import CatalogSettings
from catalog.errors import ProductNotFound
from catalog.listing import Listing
from catalog.readcache import CachedReads
from catalog.render import Rendered, to_product
from catalog.repository import CatalogRepository, ProductRecord
from catalog.reservations import Reservations
from catalog.schemas import Product, ProductCreate, ProductPatch

PRODUCT_VIEWS = Counter("store_product_views_total", "Product detail views (GET /products/{id})")


class CatalogService:
    def __init__(self, repo: CatalogRepository, settings: CatalogSettings) -> None:
        self.repo = repo
        self.settings = settings
        self.reads = CachedReads(repo, settings.read_cache_seconds)
        self.rendered = Rendered()
        self.listing = Listing(repo, settings, self.reads, self.rendered)
        self.reservations = Reservations(repo, settings, self.reads)

    async def get_product(self, product_id: UUID) -> Product:
        records, levels = await asyncio.gather(
            self.reads.records([product_id]), self.reads.levels([product_id])
        )
        if product_id not in records:
            raise ProductNotFound([product_id])
        PRODUCT_VIEWS.inc()
        return self.rendered.product(records[product_id], levels.get(product_id, 0))

    async def create_product(self, data: ProductCreate, product_id: UUID | None = None) -> Product:
        """Create (or, with a known id, overwrite) a product. The seeder uses this path too."""
        now = clock.now()
        old = await self.repo.get_product(product_id) if product_id else None
        product_id = product_id or uuid4()
        record = ProductRecord(
            id=product_id,
            name=data.name,
            description=data.description,
            category=data.category,
            price=data.price,
            created_at=old.created_at if old else now,
            updated_at=now,
        )
        stock = await self.set_stock(product_id, data.stock)
        await self.repo.save_product(record, old)
        self.reads.forget(product_id)
        self.listing.forget_categories()
        return to_product(record, stock)

    async def replace_product(self, product_id: UUID, data: ProductCreate) -> Product:
        return await self.update_product(product_id, ProductPatch(**data.model_dump()))

    async def update_product(self, product_id: UUID, patch: ProductPatch) -> Product:
        old = await self.repo.get_product(product_id)
        if old is None:
            raise ProductNotFound([product_id])
        changes = patch.model_dump(exclude_unset=True)
        stock_value = changes.pop("stock", None)
        record = replace(old, **changes, updated_at=clock.now()) if changes else old
        if changes:
            await self.repo.save_product(record, old)
            self.reads.forget(product_id)
            self.listing.forget_categories()
        if stock_value is not None:
            stock = await self.set_stock(product_id, stock_value)
        else:
            stock = (await self.repo.stock_levels([product_id])).get(product_id, 0)
        return to_product(record, stock)

    async def delete_product(self, product_id: UUID) -> None:
        old = await self.repo.get_product(product_id)
        if old is None:
            raise ProductNotFound([product_id])
        await self.repo.delete_product(old)
        await self.repo.delete_stock(product_id)
        self.reads.forget(product_id)
        self.listing.forget_categories()

    async def set_stock(self, product_id: UUID, value: int) -> int:
        """Set `available` by compare-and-set (the cell is only ever written with LWTs)."""

        async def write(current: int | None) -> int | None:
            if current is None:
                seen = await self.repo.create_stock(product_id, value)
            else:
                seen = await self.repo.cas_available(product_id, current, value)
            self.reads.forget_stock(product_id)
            return seen

        return await compare_and_set(
            product_id,
            None,
            settled=lambda current: value if current == value else None,
            write=write,
            reread=lambda: self.repo.available(product_id),
            deadline=time.monotonic() + self.settings.reservation_deadline_seconds,
        )
