"""GET /products and GET /categories: the listing scan and the category counts cache."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from kit.money import money

from catalog import cursor
from catalog.config import CatalogSettings
from catalog.readcache import CachedReads, Slice
from catalog.render import Rendered
from catalog.repository import ALL, CatalogRepository, ListingRow, ProductRecord, SortField
from catalog.schemas import CategoryCount, Product, ProductPage, ProductQuery


def cents(bound: Decimal | None, rounding: str) -> Decimal | None:
    """A price bound as the cent amount that selects the same prices (prices are whole
    cents): min_price=1.234 is 1.24, max_price=1.239 is 1.23. The price listing takes the
    bound as a Cassandra decimal, whose scale is 32 bits: 1e-3000000000 becomes 0.01."""
    return None if bound is None else money(bound, rounding)


@dataclass(frozen=True)
class ScanPlan:
    """What one GET /products reads: a listing partition, its order and its filters."""

    field: SortField
    descending: bool
    scope: str
    category: str | None
    q: str | None
    min_price: Decimal | None
    max_price: Decimal | None
    in_stock: bool | None

    @classmethod
    def of(cls, query: ProductQuery) -> ScanPlan:
        return cls(
            field="price" if query.sort.lstrip("-") == "price" else "name",
            descending=query.sort.startswith("-"),
            scope=query.category if query.category is not None else ALL,
            category=query.category,
            q=query.q.lower() if query.q else None,
            min_price=cents(query.min_price, ROUND_CEILING),
            max_price=cents(query.max_price, ROUND_FLOOR),
            in_stock=query.in_stock,
        )

    @property
    def selective(self) -> bool:
        """Whether rows of the listing may fail the filters (then the scan reads ahead)."""
        price_filter = self.field == "name" and (
            self.min_price is not None or self.max_price is not None
        )
        return self.q is not None or self.in_stock is not None or price_filter

    def row_matches(self, row: ListingRow) -> bool:
        """The filters a listing row can answer by itself (name and price)."""
        if self.q is not None and self.q not in row.name.lower():
            return False
        if self.min_price is not None and row.price < self.min_price:
            return False
        return not (self.max_price is not None and row.price > self.max_price)

    def product_matches(self, row: ListingRow, product: ProductRecord | None) -> bool:
        """The row is current: the product exists and still sorts and filters like the row.

        Listing rows are written in the product's logged batch, so they agree with it; this
        check drops what two racing admin updates could leave behind, so a walk never sees
        one product twice.
        """
        if product is None or product.id != row.id:
            return False
        if self.category is not None and product.category != self.category:
            return False
        key = product.name_key if self.field == "name" else product.price
        if key != row.key:
            return False
        return self.row_matches(ListingRow(key, product.id, product.name, product.price))

    def stock_matches(self, available: int) -> bool:
        if self.in_stock is None:
            return True
        return (available > 0) == self.in_stock


class Listing:
    """The read side of the product list: sorted, filtered pages and category counts."""

    def __init__(
        self,
        repo: CatalogRepository,
        settings: CatalogSettings,
        reads: CachedReads,
        rendered: Rendered | None = None,
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.reads = reads
        self.rendered = rendered or Rendered()
        self._category_cache: tuple[float, list[CategoryCount]] | None = None
        self._category_lock = asyncio.Lock()

    async def list_products(self, query: ProductQuery) -> ProductPage:
        """One page of a sorted, filtered listing.

        Scans the listing partition of the scope in chunks, applying the filters, until
        `limit` products match or the scan budget is spent. The cursor points at the last
        row looked at, so a short page loses nothing; it is null only at the end.
        """
        plan = ScanPlan.of(query)
        position = cursor.decode(query.sort, query.cursor) if query.cursor else None
        items: list[Product] = []
        budget = self.settings.list_scan_budget
        scanned = 0
        exhausted = False
        while len(items) < query.limit and scanned < budget and not exhausted:
            wanted = query.limit - len(items)
            # Unfiltered: one row more than needed tells whether the listing goes on.
            # Filtered: read ahead, since some rows will not match.
            size = min(2 * wanted + 10 if plan.selective else wanted + 1, budget - scanned)
            rows = await self.reads.scan(
                Slice(plan.field, plan.descending, plan.scope, position, plan.min_price,
                      plan.max_price, size)
            )  # fmt: skip
            scanned += len(rows)
            exhausted = len(rows) < size
            if not rows:
                break
            candidates = [row for row in rows if plan.row_matches(row)]
            if plan.in_stock is None:
                take = candidates[:wanted]
                records, levels = await asyncio.gather(
                    self.reads.records([r.id for r in take]),
                    self.reads.levels([r.id for r in take]),
                )
            else:
                levels = await self.reads.levels([r.id for r in candidates])
                take = [r for r in candidates if plan.stock_matches(levels.get(r.id, 0))][:wanted]
                records = await self.reads.records([r.id for r in take])
            for row in take:
                record = records.get(row.id)
                if record is not None and plan.product_matches(row, record):
                    items.append(self.rendered.product(record, levels.get(row.id, 0)))
            # Everything up to the last row taken has been looked at; when the page filled
            # up before the chunk ended, the rest of the chunk is for the next page.
            last = take[-1] if len(take) == wanted else rows[-1]
            position = last.position
            if last is not rows[-1]:
                exhausted = False
        next_cursor = None
        if not exhausted and position is not None:
            next_cursor = cursor.encode(query.sort, position)
        return ProductPage(items=items, next_cursor=next_cursor)

    async def categories(self) -> list[CategoryCount]:
        ttl = self.settings.category_cache_seconds
        cached = self._category_cache
        if cached is not None and time.monotonic() - cached[0] < ttl:
            return cached[1]
        async with self._category_lock:
            cached = self._category_cache
            if cached is not None and time.monotonic() - cached[0] < ttl:
                return cached[1]
            names = sorted(await self.repo.category_names())
            counts = await asyncio.gather(*(self.repo.count_in_category(n) for n in names))
            result = [
                CategoryCount(name=n, product_count=c)
                for n, c in zip(names, counts, strict=True)
                if c > 0
            ]
            self._category_cache = (time.monotonic(), result)
            return result

    def forget_categories(self) -> None:
        """A product was written: the next GET /categories counts again."""
        self._category_cache = None
