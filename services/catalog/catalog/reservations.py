"""Stock reservations: holds for an order, all or nothing.

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
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar
from uuid import UUID

from kit import clock
from kit.metrics import labelled_counter

from catalog.cas import compare_and_set
from catalog.config import CatalogSettings
from catalog.errors import (
    InsufficientStock,
    ProductNotFound,
    ReservationClosed,
    ReservationMismatch,
    ReservationNotFound,
)
from catalog.readcache import CachedReads
from catalog.repository import (
    CatalogRepository,
    HoldState,
    RejectReason,
    ReservationRecord,
    StockState,
)
from catalog.schemas import Reservation, ReservationItem, ReservationStatus, ShortItem

log = logging.getLogger("catalog.reservations")
R = TypeVar("R")

RESERVATIONS = labelled_counter(
    "store_stock_reservations_total",
    "Stock reservation operations by result",
    "result",
    ("reserved", "insufficient", "idempotent", "released", "committed"),
)


class HoldOutcome(Enum):
    HELD = "held"  # the order holds the units (now, or since an earlier attempt)
    SHORT = "short"
    UNKNOWN = "unknown"  # no such product
    CLOSED = "closed"  # the order's hold was released: the reservation is closed


LIVE: frozenset[HoldState] = frozenset({HoldState.HELD, HoldState.COMMITTED})  # units taken


def hold_outcome(state: StockState | None, quantity: int) -> HoldOutcome | None:
    """Where an order's hold of `quantity` units stands; None: it can still be taken."""
    if state is None:
        return HoldOutcome.UNKNOWN
    if state.hold_state in LIVE:
        return HoldOutcome.HELD
    if state.hold_state is HoldState.RELEASED:
        return HoldOutcome.CLOSED
    if state.available < quantity:
        return HoldOutcome.SHORT
    return None


# Where a reservation's holds stand: taken (or being taken) while open, given back once closed.
STANDING: frozenset[ReservationStatus] = frozenset(
    {ReservationStatus.HELD, ReservationStatus.COMMITTED}
)
OPEN: frozenset[ReservationStatus] = STANDING | {ReservationStatus.PENDING}


def _reservation(record: ReservationRecord) -> Reservation:
    return Reservation(
        order_id=record.order_id,
        status=record.status,
        items=[ReservationItem(product_id=p, quantity=q) for p, q in sorted(record.items.items())],
        created_at=record.created_at,
        expires_at=record.expires_at,
    )


class Reservations:
    def __init__(
        self, repo: CatalogRepository, settings: CatalogSettings, reads: CachedReads
    ) -> None:
        self.repo = repo
        self.settings = settings
        self.reads = reads  # told of every stock change, so pages show it at once

    def _deadline(self) -> float:
        """When a contended compare-and-set loop gives up (503)."""
        return time.monotonic() + self.settings.reservation_deadline_seconds

    async def reserve(
        self, order_id: UUID, items: dict[UUID, int], ttl_seconds: int | None = None
    ) -> tuple[Reservation, bool]:
        """Hold every item for the order, or nothing. Returns (reservation, newly created).

        The same order with the same items again returns the reservation and takes nothing
        more; with other items it is a conflict. A rejected or released reservation stays
        closed: a new attempt needs a new order id.
        """
        now = clock.now()
        ttl = ttl_seconds or self.settings.reservation_ttl_seconds
        existing = await self.repo.create_reservation(
            order_id, items, now, now + timedelta(seconds=ttl)
        )
        created = existing is None
        if existing is not None:
            if existing.status is ReservationStatus.RELEASED and not existing.items:
                raise self._closed_error(existing)  # released before it arrived (release)
            if existing.items != items:
                raise ReservationMismatch(order_id)
            if existing.status in STANDING:
                RESERVATIONS.labels("idempotent").inc()
                return _reservation(existing), False
            if existing.status not in OPEN:
                raise self._closed_error(existing)
            # 'pending': another request for this order is in flight, or one crashed midway.
            # The steps below are idempotent per order, so run them too.
        await self._hold_all(order_id, items, fresh=created)
        applied, status = await self.repo.transition(
            order_id, ReservationStatus.PENDING, ReservationStatus.HELD, clock.now()
        )
        if applied or status in STANDING:
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
        raise self._closed_error(final)

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
                    if state is not None and state.hold_state in LIVE:
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
        deadline = self._deadline()
        for product_id, quantity in sorted(items.items()):
            # A fresh order whose level read above suffices starts from it instead of reading
            # at SERIAL (two Paxos reads): the hold is conditional on that level, so a stale
            # one only costs a lost round, which sends back the current values. (A level too
            # low was read at SERIAL above; it may not decide alone that the item is short.)
            enough = fresh and levels[product_id] >= quantity
            start = StockState(levels[product_id], None, 0) if enough else None
            outcome, available = await self._hold_one(
                order_id, product_id, quantity, deadline, start
            )
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
        self,
        order_id: UUID,
        product_id: UUID,
        quantity: int,
        deadline: float,
        start: StockState | None = None,
    ) -> tuple[HoldOutcome, int]:
        """Take one item for the order; (outcome, the available units last seen). `start`:
        the state to try first, when it is known well enough (else read at SERIAL)."""

        def settled(state: StockState | None) -> tuple[HoldOutcome, int] | None:
            outcome = hold_outcome(state, quantity)
            if outcome is None:
                return None
            return outcome, state.available if state else 0

        async def write(state: StockState | None) -> StockState | None:
            assert state is not None  # settled: no such product
            seen = await self.repo.hold(
                product_id, order_id, quantity, state.available, clock.now()
            )
            self.reads.forget_stock(product_id)
            return seen

        return await self._change_hold(order_id, product_id, settled, write, deadline, start)

    async def _change_hold(
        self,
        order_id: UUID,
        product_id: UUID,
        settled: Callable[[StockState | None], R | None],
        write: Callable[[StockState | None], Awaitable[StockState | None]],
        deadline: float,
        start: StockState | None = None,
    ) -> R:
        """`compare_and_set` over the order's hold on the product, from `start` or else
        from the state read at SERIAL."""

        def read() -> Awaitable[StockState | None]:
            return self.repo.stock_for_order(product_id, order_id)

        state = start if start is not None else await read()
        return await compare_and_set(
            product_id, state, settled=settled, write=write, reread=read, deadline=deadline
        )

    async def _reject(
        self, order_id: UUID, items: dict[UUID, int], error: InsufficientStock | ProductNotFound
    ) -> None:
        """Close the pending reservation as rejected, give back its holds, raise `error`.

        Returns instead when a concurrent duplicate of the request already got every item
        held: the reservation stands.
        """
        reason: RejectReason
        if isinstance(error, InsufficientStock):
            reason = RejectReason.INSUFFICIENT
            details = json.dumps([s.model_dump(mode="json") for s in error.short_items])
        else:
            reason = RejectReason.UNKNOWN_PRODUCT
            details = json.dumps(error.extra["product_ids"])
        applied, status = await self.repo.reject(order_id, clock.now(), reason, details)
        if status in STANDING:
            return
        await self._release_holds(order_id, items)
        if applied and reason is RejectReason.INSUFFICIENT:
            RESERVATIONS.labels("insufficient").inc()
        if applied or status is ReservationStatus.REJECTED:
            raise error
        raise ReservationClosed(order_id, str(status))

    @staticmethod
    def _closed_error(record: ReservationRecord) -> Exception:
        """What a request for a closed reservation gets: a rejection's own answer again."""
        if record.status is ReservationStatus.REJECTED and record.details is not None:
            if record.reason is RejectReason.INSUFFICIENT:
                return InsufficientStock([ShortItem(**s) for s in json.loads(record.details)])
            if record.reason is RejectReason.UNKNOWN_PRODUCT:
                return ProductNotFound([UUID(p) for p in json.loads(record.details)])
        return ReservationClosed(record.order_id, record.status)

    async def get_reservation(self, order_id: UUID) -> Reservation:
        record = await self.repo.get_reservation(order_id)
        if record is None:
            raise ReservationNotFound(order_id)
        return _reservation(record)

    async def release(self, order_id: UUID) -> Reservation:
        """Give the order's units back (idempotent); committed holds are released too.

        A release may overtake its own reservation: the cart gave up on a reserve request
        that the catalog still runs (a timeout, a pod going away). The order id is then
        closed first, so the late reserve is refused and takes nothing.
        """
        record = await self.repo.get_reservation(order_id, serial=True)
        if record is None:
            record = await self.repo.close_unknown_reservation(order_id, clock.now())
            if record is None:
                return await self.get_reservation(order_id)
        status: ReservationStatus | None = record.status
        while status in OPEN:
            applied, status = await self.repo.transition(
                order_id, status, ReservationStatus.RELEASED, clock.now()
            )
            if applied:
                RESERVATIONS.labels("released").inc()
                break
        await self._release_holds(order_id, record.items)
        return await self.get_reservation(order_id)

    async def commit(self, order_id: UUID) -> Reservation:
        """held -> committed: the expiry sweep leaves committed reservations alone.

        Every order is committed twice (by the checkout, then by the orders worker), so the
        common cases start from plain reads, not Paxos: 'held' goes straight to the
        conditional move (a stale read only loses that round, whose reply says where the
        reservation is), and a hold already committed is left alone (a hold never goes back
        to 'held'). Anything else is confirmed at SERIAL first.
        """
        record = await self.repo.get_reservation(order_id)
        if record is None or record.status not in STANDING:
            record = await self.repo.get_reservation(order_id, serial=True)
        if record is None:
            raise ReservationNotFound(order_id)
        status: ReservationStatus | None = record.status
        moved = False
        if status is ReservationStatus.HELD:
            moved, status = await self.repo.transition(
                order_id, ReservationStatus.HELD, ReservationStatus.COMMITTED, clock.now()
            )
            if moved:
                RESERVATIONS.labels("committed").inc()
        if status is not ReservationStatus.COMMITTED:
            raise ReservationClosed(order_id, str(status))
        for product_id in sorted(record.items):
            # Whoever moved the reservation commits its holds; a repeated commit checks first
            # (a commit cut off midway left some 'held').
            if moved or await self.repo.hold_state(product_id, order_id) is HoldState.HELD:
                await self.repo.commit_hold(product_id, order_id)
        return await self.get_reservation(order_id)

    async def release_expired(self, now: datetime | None = None) -> int:
        """Release reservations whose hold time is over (held, or pending after a crash).

        Any number of sweepers may run at once (one per replica): each release is claimed
        by the compare-and-set of the reservation's status, and only the winner gives the
        units back.
        """
        now = now or clock.now()
        released = 0
        for status in (ReservationStatus.HELD, ReservationStatus.PENDING):
            expired = await self.repo.expired_reservations(status, now, self.settings.sweep_batch)
            for order_id in expired:
                applied, _ = await self.repo.transition(
                    order_id, status, ReservationStatus.RELEASED, clock.now()
                )
                if not applied:
                    continue  # committed, released or rejected meanwhile
                record = await self.repo.get_reservation(order_id)
                await self._release_holds(order_id, record.items if record else {})
                RESERVATIONS.labels("released").inc()
                released += 1
        if released:
            log.info("released %d expired reservations", released)
        return released

    @asynccontextmanager
    async def sweeping(self, interval: float) -> AsyncIterator[None]:
        """Run `release_expired` every `interval` seconds in the background meanwhile
        (never when `interval` is 0)."""
        if interval <= 0:
            yield
            return

        async def sweep_forever() -> None:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self.release_expired()
                except Exception:
                    log.exception("reservation sweep failed; the next one retries")

        task = asyncio.create_task(sweep_forever(), name="reservation-sweeper")
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _release_holds(self, order_id: UUID, items: dict[UUID, int]) -> None:
        """Give back the units of every live hold of the order (each exactly once)."""
        deadline = self._deadline()
        for product_id in sorted(items):
            await self._release_hold(order_id, product_id, deadline)

    async def _release_hold(self, order_id: UUID, product_id: UUID, deadline: float) -> None:
        def settled(state: StockState | None) -> bool | None:
            live = state is not None and state.hold_state in LIVE
            return None if live else True

        async def write(state: StockState | None) -> StockState | None:
            assert state is not None and state.hold_state is not None  # settled: no live hold
            seen = await self.repo.release_hold(
                product_id, order_id, state.hold_quantity, state.available, state.hold_state
            )
            self.reads.forget_stock(product_id)
            return seen

        await self._change_hold(order_id, product_id, settled, write, deadline)
