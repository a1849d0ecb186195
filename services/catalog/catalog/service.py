"""Catalog business rules: products, listings, categories, stock and reservations.

Stock is never oversold: every change of a product's `available` count is a compare-and-set
(Cassandra lightweight transaction). A hold for an order is a single-partition conditional
batch that decrements `available` and inserts the order's hold row together, so a retried
or duplicated reservation can never take units twice.

A reservation is a small state machine in the `reservations` table, every transition an LWT:

    pending --(all items held)--> held --commit--> committed
       |                            |                  |
       +--(short / unknown)--> rejected                |
       +--------(release, expiry)---+---> released <---+

The status moves first; holds follow. Units go back only after the status left
pending/held/committed, so a hold seen in state 'released' always means the reservation is
closed, and any request that finds the reservation closed releases whatever holds it made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import Enum
from uuid import UUID, uuid4

from cassandra import OperationTimedOut, WriteTimeout
from kit.cassandra import Row
from kit.metrics import labelled_counter
from prometheus_client import Counter

from catalog import cursor
from catalog.config import CatalogSettings
from catalog.errors import (
    InsufficientStock,
    ProductNotFound,
    ReservationClosed,
    ReservationMismatch,
    ReservationNotFound,
    StockContention,
)
from catalog.repository import (
    ALL,
    CatalogRepository,
    ListingRow,
    ProductRecord,
    SortField,
    utc,
)
from catalog.schemas import (
    CENT,
    CategoryCount,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    ProductQuery,
    Reservation,
    ReservationItem,
    ShortItem,
)

log = logging.getLogger("catalog.service")
CAS_WRITE_UNKNOWN = 0x1700  # protocol v5 error code the driver has no class for

PRODUCT_VIEWS = Counter("store_product_views_total", "Product detail views (GET /products/{id})")
RESERVATIONS = labelled_counter(
    "store_stock_reservations_total",
    "Stock reservation operations by result",
    "result",
    ("reserved", "insufficient", "idempotent", "released", "committed"),
)


def now_utc() -> datetime:
    """Now, at the millisecond precision Cassandra timestamps keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_product(record: ProductRecord, stock: int) -> Product:
    return Product(
        id=record.id,
        name=record.name,
        description=record.description,
        category=record.category,
        price=record.price,
        stock=stock,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


# --- listing scan ---------------------------------------------------------------------------


def cents(bound: Decimal | None, rounding: str) -> Decimal | None:
    """A price bound as the cent amount that selects the same prices (prices are whole
    cents): min_price=1.234 is 1.24, max_price=1.239 is 1.23. The price listing takes the
    bound as a Cassandra decimal, whose scale is 32 bits: 1e-3000000000 becomes 0.01."""
    return None if bound is None else bound.quantize(CENT, rounding=rounding)


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


# --- reservations ---------------------------------------------------------------------------


class HoldOutcome(Enum):
    HELD = "held"  # the order holds the units (now, or since an earlier attempt)
    SHORT = "short"
    UNKNOWN = "unknown"  # no such product
    CLOSED = "closed"  # the order's hold was released: the reservation is closed


def _reservation(row: Row) -> Reservation:
    items = row.get("items") or {}
    return Reservation(
        order_id=row["order_id"],
        status=row["status"],
        items=[ReservationItem(product_id=p, quantity=q) for p, q in sorted(items.items())],
        created_at=utc(row["created_at"]),
        expires_at=utc(row["expires_at"]),
    )


class CatalogService:
    def __init__(self, repo: CatalogRepository, settings: CatalogSettings) -> None:
        self.repo = repo
        self.settings = settings
        self._category_cache: tuple[float, list[CategoryCount]] | None = None
        self._category_lock = asyncio.Lock()

    # --- products -------------------------------------------------------------------------

    async def get_product(self, product_id: UUID) -> Product:
        record, levels = await asyncio.gather(
            self.repo.get_product(product_id), self.repo.stock_levels([product_id])
        )
        if record is None:
            raise ProductNotFound([product_id])
        PRODUCT_VIEWS.inc()
        return to_product(record, levels.get(product_id, 0))

    async def create_product(self, data: ProductCreate, product_id: UUID | None = None) -> Product:
        """Create (or, with a known id, overwrite) a product. The seeder uses this path too."""
        now = now_utc()
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
        self._category_cache = None
        return to_product(record, stock)

    async def replace_product(self, product_id: UUID, data: ProductCreate) -> Product:
        return await self.update_product(product_id, ProductPatch(**data.model_dump()))

    async def update_product(self, product_id: UUID, patch: ProductPatch) -> Product:
        old = await self.repo.get_product(product_id)
        if old is None:
            raise ProductNotFound([product_id])
        changes = patch.model_dump(exclude_unset=True)
        stock_value = changes.pop("stock", None)
        record = replace(old, **changes, updated_at=now_utc()) if changes else old
        if changes:
            await self.repo.save_product(record, old)
            self._category_cache = None
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
        self._category_cache = None

    async def set_stock(self, product_id: UUID, value: int) -> int:
        """Set `available` by compare-and-set (the cell is only ever written with LWTs).

        A failed LWT sends back the current value, so each retry is one Paxos round.
        """
        deadline = time.monotonic() + self.settings.reservation_deadline_seconds
        attempt = 0
        current: int | None = None
        while True:
            try:
                if current is None:
                    applied, current = await self.repo.create_stock(product_id, value)
                elif current == value:
                    return value
                else:
                    applied, current = await self.repo.cas_available(product_id, current, value)
                if applied:
                    return value
            except Exception as exc:
                if not _is_cas_timeout(exc):
                    raise
                current = await self.repo.available(product_id)
            if current is not None and current != value:
                attempt = await self._backoff(product_id, attempt, deadline)

    # --- listing --------------------------------------------------------------------------

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
            rows = await self.repo.scan(
                plan.field,
                plan.descending,
                plan.scope,
                after=position,
                lower=plan.min_price,
                upper=plan.max_price,
                size=size,
            )
            scanned += len(rows)
            exhausted = len(rows) < size
            if not rows:
                break
            candidates = [row for row in rows if plan.row_matches(row)]
            if plan.in_stock is None:
                take = candidates[:wanted]
                records, levels = await asyncio.gather(
                    self.repo.get_products([r.id for r in take]),
                    self.repo.stock_levels([r.id for r in take]),
                )
            else:
                levels = await self.repo.stock_levels([r.id for r in candidates])
                take = [r for r in candidates if plan.stock_matches(levels.get(r.id, 0))][:wanted]
                records = await self.repo.get_products([r.id for r in take])
            for row in take:
                record = records.get(row.id)
                if record is not None and plan.product_matches(row, record):
                    items.append(to_product(record, levels.get(row.id, 0)))
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

    # --- categories -----------------------------------------------------------------------

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

    # --- reservations ---------------------------------------------------------------------

    async def reserve(
        self, order_id: UUID, items: dict[UUID, int], ttl_seconds: int | None = None
    ) -> tuple[Reservation, bool]:
        """Hold every item for the order, or nothing. Returns (reservation, newly created).

        The same order with the same items again returns the reservation and takes nothing
        more; with other items it is a conflict. A rejected or released reservation stays
        closed: a new attempt needs a new order id.
        """
        now = now_utc()
        ttl = ttl_seconds or self.settings.reservation_ttl_seconds
        created, row = await self.repo.create_reservation(
            order_id, items, now, now + timedelta(seconds=ttl)
        )
        if not created:
            if dict(row.get("items") or {}) != items:
                raise ReservationMismatch(order_id)
            status = row.get("status")
            if status in ("held", "committed"):
                RESERVATIONS.labels("idempotent").inc()
                return _reservation(row), False
            if status in ("rejected", "released"):
                raise self._closed_error(order_id, row)
            # 'pending': another request for this order is in flight, or one crashed midway.
            # The steps below are idempotent per order, so run them too.
        await self._hold_all(order_id, items, fresh=created)
        applied, status = await self.repo.transition(order_id, "pending", "held", now_utc())
        if applied or status in ("held", "committed"):
            RESERVATIONS.labels("reserved" if created else "idempotent").inc()
            final = await self.repo.get_reservation(order_id)
            assert final is not None
            return _reservation(final), created
        # Closed meanwhile (released, expired, or rejected by a concurrent duplicate):
        # give back whatever this request took.
        await self._release_holds(order_id, items)
        final = await self.repo.get_reservation(order_id)
        if final is None:
            raise ReservationNotFound(order_id)
        raise self._closed_error(order_id, final)

    async def _hold_all(self, order_id: UUID, items: dict[UUID, int], *, fresh: bool) -> None:
        """Hold each item in product order; on a shortage reject the order and compensate.

        Returns when every item is held by the order, or when the reservation turns out
        closed by someone else (the caller's transition to 'held' then fails and cleans up).
        """
        levels = await self.repo.stock_levels(list(items))
        missing = sorted(p for p in items if p not in levels)
        if missing:
            await self._reject(order_id, items, ProductNotFound(missing))
            return
        if fresh:
            # Fail fast, naming every short item, before taking anything. A product this
            # order already holds (a concurrent duplicate of the request) is not short.
            short = []
            for product_id, quantity in sorted(items.items()):
                if levels[product_id] < quantity:
                    state = await self.repo.stock_for_order(product_id, order_id)
                    if state is not None and state.hold_state in ("held", "committed"):
                        continue
                    available = state.available if state else 0
                    if available < quantity:
                        short.append(
                            ShortItem(
                                product_id=product_id, requested=quantity, available=available
                            )
                        )
            if short:
                await self._reject(order_id, items, InsufficientStock(short))
                return
        deadline = time.monotonic() + self.settings.reservation_deadline_seconds
        for product_id, quantity in sorted(items.items()):
            outcome, available = await self._hold_one(order_id, product_id, quantity, deadline)
            if outcome is HoldOutcome.HELD:
                continue
            if outcome is HoldOutcome.CLOSED:
                return
            if outcome is HoldOutcome.UNKNOWN:
                await self._reject(order_id, items, ProductNotFound([product_id]))
                return
            # Short while holding (someone took the units after the pre-check). The items
            # before this one are held by this order; name this one and any short after it.
            rest = [p for p in sorted(items) if p > product_id]
            current = await self.repo.stock_levels(rest)
            short = [ShortItem(product_id=product_id, requested=quantity, available=available)]
            short += [
                ShortItem(product_id=p, requested=items[p], available=current.get(p, 0))
                for p in rest
                if current.get(p, 0) < items[p]
            ]
            await self._reject(order_id, items, InsufficientStock(short))
            return

    async def _hold_one(
        self, order_id: UUID, product_id: UUID, quantity: int, deadline: float
    ) -> tuple[HoldOutcome, int]:
        """Compare-and-set loop of one item. A lost round sends back the current state, so
        a retry costs one Paxos round; after an unknown outcome it re-reads at SERIAL."""
        state = await self.repo.stock_for_order(product_id, order_id)
        attempt = 0
        while True:
            if state is None:
                return HoldOutcome.UNKNOWN, 0
            if state.hold_state in ("held", "committed"):
                return HoldOutcome.HELD, state.available
            if state.hold_state == "released":
                return HoldOutcome.CLOSED, state.available
            if state.available < quantity:
                return HoldOutcome.SHORT, state.available
            try:
                applied, state = await self.repo.hold(
                    product_id, order_id, quantity, state.available, now_utc()
                )
                if applied:
                    return HoldOutcome.HELD, 0
                attempt = await self._backoff(product_id, attempt, deadline)
            except Exception as exc:
                if not _is_cas_timeout(exc):
                    raise
                attempt = await self._backoff(product_id, attempt, deadline)
                state = await self.repo.stock_for_order(product_id, order_id)

    async def _reject(
        self, order_id: UUID, items: dict[UUID, int], error: InsufficientStock | ProductNotFound
    ) -> None:
        """Close the pending reservation as rejected, give back its holds, raise `error`.

        Returns instead when a concurrent duplicate of the request already got every item
        held: the reservation stands.
        """
        if isinstance(error, InsufficientStock):
            reason = "insufficient"
            details = json.dumps([s.model_dump(mode="json") for s in error.short_items])
        else:
            reason = "unknown_product"
            details = json.dumps(error.extra["product_ids"])
        applied, status = await self.repo.reject(order_id, now_utc(), reason, details)
        if status in ("held", "committed"):
            return
        await self._release_holds(order_id, items)
        if applied and reason == "insufficient":
            RESERVATIONS.labels("insufficient").inc()
        if applied or status == "rejected":
            raise error
        raise ReservationClosed(order_id, str(status))

    def _closed_error(self, order_id: UUID, row: Row) -> Exception:
        status = str(row.get("status"))
        details = row.get("short_items")
        if status == "rejected" and isinstance(details, str):
            if row.get("reason") == "insufficient":
                return InsufficientStock([ShortItem(**s) for s in json.loads(details)])
            if row.get("reason") == "unknown_product":
                return ProductNotFound([UUID(p) for p in json.loads(details)])
        return ReservationClosed(order_id, status)

    async def get_reservation(self, order_id: UUID) -> Reservation:
        row = await self.repo.get_reservation(order_id)
        if row is None:
            raise ReservationNotFound(order_id)
        return _reservation(row)

    async def release(self, order_id: UUID) -> Reservation:
        """Give the order's units back (idempotent); committed holds are released too."""
        row = await self.repo.get_reservation(order_id, serial=True)
        if row is None:
            raise ReservationNotFound(order_id)
        status = row["status"]
        while status in ("pending", "held", "committed"):
            applied, current = await self.repo.transition(order_id, status, "released", now_utc())
            if applied:
                RESERVATIONS.labels("released").inc()
                break
            status = current
        await self._release_holds(order_id, dict(row["items"] or {}))
        return await self.get_reservation(order_id)

    async def commit(self, order_id: UUID) -> Reservation:
        """held -> committed: the expiry sweep leaves committed reservations alone."""
        row = await self.repo.get_reservation(order_id, serial=True)
        if row is None:
            raise ReservationNotFound(order_id)
        status = row["status"]
        if status == "held":
            applied, status = await self.repo.transition(order_id, "held", "committed", now_utc())
            if applied:
                RESERVATIONS.labels("committed").inc()
        if status != "committed":
            raise ReservationClosed(order_id, str(status))
        for product_id in sorted(row["items"] or {}):
            await self.repo.commit_hold(product_id, order_id)
        return await self.get_reservation(order_id)

    async def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations whose hold time is over (held, or pending after a crash)."""
        now = now or now_utc()
        released = 0
        for status in ("held", "pending"):
            rows = await self.repo.expired_reservations(status, now, self.settings.sweep_batch)
            for row in rows:
                order_id = row["order_id"]
                applied, _ = await self.repo.transition(order_id, status, "released", now_utc())
                if not applied:
                    continue  # committed, released or rejected meanwhile
                full = await self.repo.get_reservation(order_id)
                await self._release_holds(order_id, dict((full or {}).get("items") or {}))
                RESERVATIONS.labels("released").inc()
                released += 1
        if released:
            log.info("released %d expired reservations", released)
        return released

    async def _release_holds(self, order_id: UUID, items: dict[UUID, int]) -> None:
        """Give back the units of every live hold of the order (each exactly once)."""
        deadline = time.monotonic() + self.settings.reservation_deadline_seconds
        for product_id in sorted(items):
            state = await self.repo.stock_for_order(product_id, order_id)
            attempt = 0
            while state is not None and state.hold_state in ("held", "committed"):
                try:
                    applied, state = await self.repo.release_hold(
                        product_id, order_id, state.hold_quantity, state.available, state.hold_state
                    )
                    if applied:
                        break
                    attempt = await self._backoff(product_id, attempt, deadline)
                except Exception as exc:
                    if not _is_cas_timeout(exc):
                        raise
                    attempt = await self._backoff(product_id, attempt, deadline)
                    state = await self.repo.stock_for_order(product_id, order_id)

    # --- compare-and-set helpers ----------------------------------------------------------

    @staticmethod
    async def _backoff(product_id: UUID, attempt: int, deadline: float) -> int:
        """Jittered exponential pause between compare-and-set attempts, up to the deadline."""
        if time.monotonic() >= deadline:
            raise StockContention(product_id)
        await asyncio.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
        return attempt + 1


def _is_cas_timeout(exc: Exception) -> bool:
    """A Paxos round whose outcome is unknown (timed out, or CAS_WRITE_UNKNOWN).

    Safe to retry: the next attempt starts with a SERIAL read, which finishes any
    in-progress round, and a hold that did apply is then seen as this order's hold.
    """
    if isinstance(exc, WriteTimeout | OperationTimedOut):
        return True
    return getattr(exc, "code", None) == CAS_WRITE_UNKNOWN
