"""Product records and stock levels for the read side, kept for a short, bounded time.

GET /products reads a slice of a listing table, then each shown product's record and
stock; GET /products/{id} one record and its stock. Most of their cost is those reads
(docs/performance.md). They go through `CachedReads`, which keeps what it read for at most
`read_cache_seconds` (CATALOG_READ_CACHE_SECONDS, default 1 s, 0 turns it off), so:

- a listing or product page shows products, their fields and stock at most that old (a
  product added or changed on another replica may take that long to show or move);
- writes made through this process (admin edits, stock set, holds and releases) are
  visible at once: they drop what they change, and a read that was under way while a
  write dropped its key does not put its older value back;
- another replica's writes show within the bound;
- nothing that decides anything reads here: checkout holds stock by compare-and-set on
  the live count, admin writes read the live record.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Generic, TypeVar
from uuid import UUID

from catalog.cursor import Position
from catalog.repository import CatalogRepository, ListingRow, ProductRecord, SortField

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
# A read older than this has timed out (the driver's request timeout is 10 s): drop marks
# are kept this long to tell an under-way read that its key changed meanwhile.
DROP_MEMORY_SECONDS = 60.0


class TimedCache(Generic[K, V]):
    """Values by key, each valid `seconds` after the read that fetched it began."""

    def __init__(self, seconds: float, size: int) -> None:
        self.seconds = seconds
        self.size = size
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._dropped: OrderedDict[K, float] = OrderedDict()
        self._cleared = float("-inf")

    async def get(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        now = time.monotonic()
        entry = self._values.get(key)
        if entry is not None and now - entry[0] < self.seconds:
            return entry[1]
        value = await fetch()
        self._store({key: value}, began=now)
        return value

    async def get_many(
        self, ids: Sequence[K], fetch: Callable[[list[K]], Awaitable[dict[K, V]]]
    ) -> dict[K, V]:
        """The values of `ids`, fetching the missing or expired ones (absent: no value)."""
        now = time.monotonic()
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in ids:
            entry = self._values.get(key)
            if entry is not None and now - entry[0] < self.seconds:
                found[key] = entry[1]
            else:
                missing.append(key)
        if missing:
            fetched = await fetch(missing)
            found |= fetched
            self._store(fetched, began=now)
        return found

    def clear(self) -> None:
        """Drop every key (reads under way keep their values to themselves)."""
        self._values.clear()
        self._cleared = time.monotonic()

    def drop(self, keys: Iterable[K]) -> None:
        now = time.monotonic()
        for key in keys:
            self._values.pop(key, None)
            self._dropped[key] = now
            self._dropped.move_to_end(key)
        while self._dropped and now - next(iter(self._dropped.values())) > DROP_MEMORY_SECONDS:
            self._dropped.popitem(last=False)

    def _store(self, fetched: dict[K, V], began: float) -> None:
        if self._cleared >= began:
            return
        for key, value in fetched.items():
            dropped = self._dropped.get(key)
            if dropped is not None and dropped >= began:
                continue  # written while we read: what we read may be older than the write
            self._values[key] = (began, value)
            self._values.move_to_end(key)
        while len(self._values) > self.size:
            self._values.popitem(last=False)


@dataclass(frozen=True)
class Slice:
    """The arguments of one CatalogRepository.scan, as a cache key."""

    field: SortField
    descending: bool
    scope: str
    after: Position | None
    lower: Decimal | None
    upper: Decimal | None
    size: int

    async def read(self, repo: CatalogRepository) -> list[ListingRow]:
        return await repo.scan(
            self.field, self.descending, self.scope,
            after=self.after, lower=self.lower, upper=self.upper, size=self.size,
        )  # fmt: skip


class CachedReads:
    """The listing slices, records and stock levels that listings and product pages show."""

    def __init__(self, repo: CatalogRepository, seconds: float, size: int = 100_000) -> None:
        self.repo = repo
        self.on = seconds > 0
        self._records: TimedCache[UUID, ProductRecord] = TimedCache(seconds, size)
        self._levels: TimedCache[UUID, int] = TimedCache(seconds, size)
        # A slice is up to ~200 rows: far fewer of them fit in the same memory.
        self._slices: TimedCache[Slice, list[ListingRow]] = TimedCache(seconds, size // 50)

    async def scan(self, where: Slice) -> list[ListingRow]:
        if not self.on:
            return await where.read(self.repo)
        return await self._slices.get(where, lambda: where.read(self.repo))

    async def records(self, ids: Sequence[UUID]) -> dict[UUID, ProductRecord]:
        if not self.on:
            return await self.repo.get_products(ids)
        return await self._records.get_many(ids, self.repo.get_products)

    async def levels(self, ids: Sequence[UUID]) -> dict[UUID, int]:
        if not self.on:
            return await self.repo.stock_levels(ids)
        return await self._levels.get_many(ids, self.repo.stock_levels)

    def forget(self, *ids: UUID) -> None:
        """These products were written: the next read fetches them and every listing."""
        self._records.drop(ids)
        self._levels.drop(ids)
        self._slices.clear()

    def forget_stock(self, *ids: UUID) -> None:
        self._levels.drop(ids)
