"""Catalog business rules: products and their stock; the listing and the reservations are
parts of their own (`listing.py`, `reservations.py`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
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

UPSERT_CHUNK = 50  # products per chunk of the bulk upserts (one read of their old records)
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
        """Create (or, with a known id, overwrite) a product."""
        old = await self.repo.get_product(product_id) if product_id else None
        return await self._write(product_id or uuid4(), data, old)

    async def upsert_products(
        self,
        products: Sequence[tuple[UUID, ProductCreate]],
        *,
        concurrency: int = 200,
        written: Callable[[int], object] | None = None,
    ) -> None:
        """Create or overwrite products by id, as `create_product` does each (the seeder and
        the operator's upserts), in chunks: one read of the chunk's old records, each stock
        set by compare-and-set as always, the new products' rows in a few grouped writes
        (`save_new_products`) and the existing ones' in a logged batch each. About
        `concurrency` products are in flight; `written` gets the count of each chunk done."""
        chunks = [products[i : i + UPSERT_CHUNK] for i in range(0, len(products), UPSERT_CHUNK)]
        slots = asyncio.Semaphore(max(1, concurrency // UPSERT_CHUNK))

        async def upsert(chunk: Sequence[tuple[UUID, ProductCreate]]) -> None:
            async with slots:
                olds = await self.repo.get_products([pid for pid, _ in chunk])
                now = clock.now()
                records = [_record(pid, data, olds.get(pid), now) for pid, data in chunk]
                await asyncio.gather(*(self.set_stock(pid, data.stock) for pid, data in chunk))
                await asyncio.gather(
                    self.repo.save_new_products([r for r in records if r.id not in olds]),
                    *(self.repo.save_product(r, olds[r.id]) for r in records if r.id in olds),
                )
                for pid, _ in chunk:
                    self.reads.forget(pid)
                self.listing.forget_categories()
            if written is not None:
                written(len(chunk))

        await asyncio.gather(*(upsert(chunk) for chunk in chunks))

    async def _write(
        self, product_id: UUID, data: ProductCreate, old: ProductRecord | None
    ) -> Product:
        record = _record(product_id, data, old, clock.now())
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


def _record(
    product_id: UUID, data: ProductCreate, old: ProductRecord | None, now: datetime
) -> ProductRecord:
    """The record `data` makes of the product (`old`: its record before, if any)."""
    return ProductRecord(
        id=product_id,
        name=data.name,
        description=data.description,
        category=data.category,
        price=data.price,
        created_at=old.created_at if old else now,
        updated_at=now,
    )
