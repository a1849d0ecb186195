"""Business rules of orders: creation, reads, cancellation, status changes and the
lifecycle steps the worker runs. All CQL is in the repository."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from kit import clock
from kit.auth import Principal, Role
from kit.errors import Forbidden, ServiceUnavailable
from kit.metrics import labelled_counter
from kit.money import money
from prometheus_client import Histogram

from orders import lifecycle
from orders.catalog import CatalogStock, Outcome
from orders.config import OrdersSettings
from orders.cursor import all_cursor, parse_all_cursor, parse_user_cursor, user_cursor
from orders.errors import BadTotal, InvalidTransition, OrderMismatch, OrderNotFound, ReservationGone
from orders.lifecycle import NEXT, RELEASE, Status, bucket_of
from orders.repository import DueStep, OrderItem, OrderRecord, OrdersRepository
from orders.schemas import CreateOrder, HistoryEntry, Order, OrderItemOut, OrderPage

log = logging.getLogger("orders.service")

ORDERS_TOTAL = labelled_counter(
    "store_orders_total",
    "Orders entering each status (creation counts as pending)",
    "status",
    lifecycle.STATUSES,
)
DELIVERY_SECONDS = Histogram(
    "store_order_delivery_seconds",
    "Time from order creation to delivery",
    buckets=(1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400),
)
# A schedule row whose order does not exist yet is left alone this long (its order insert
# may still be in flight); after that it is debris of a crashed creation and is dropped.
ORPHAN_GRACE = timedelta(minutes=5)


def order_total(items: list[Any]) -> Decimal:
    return money(sum((money(i.unit_price) * i.quantity for i in items), Decimal("0")))


def to_order(order: OrderRecord) -> Order:
    items = [
        OrderItemOut(
            product_id=i.product_id,
            name=i.name,
            unit_price=money(i.unit_price),
            quantity=i.quantity,
            line_total=money(i.unit_price * i.quantity),
        )
        for i in order.items
    ]
    return Order(
        id=order.id,
        user_id=order.user_id,
        status=order.status,
        items=items,
        total=money(order.total),
        created_at=order.created_at,
        updated_at=order.updated_at,
        history=[
            HistoryEntry(status=s, at=at) for s, at in lifecycle.ordered_history(order.history)
        ],
    )


def same_contents(order: OrderRecord, request: CreateOrder) -> bool:
    stored = [(i.product_id, i.name, money(i.unit_price), i.quantity) for i in order.items]
    wanted = [(i.product_id, i.name, money(i.unit_price), i.quantity) for i in request.items]
    return (
        order.user_id == request.user_id
        and stored == wanted
        and money(order.total) == money(request.total)
    )


class OrdersService:
    def __init__(
        self,
        repo: OrdersRepository,
        stock: CatalogStock,
        settings: OrdersSettings,
    ) -> None:
        self.repo = repo
        self.stock = stock
        self.settings = settings
        self.delays = settings.lifecycle_delays
        self.buckets = settings.schedule_buckets
        self.retry = timedelta(seconds=settings.worker_retry_seconds)

    # --- creation (internal, from the checkout saga) ----------------------------------------

    async def create(self, request: CreateOrder) -> tuple[Order, bool]:
        """Create the order, or return the one with this id. (order, created)."""
        expected = order_total(request.items)
        if money(request.total) != expected:
            raise BadTotal(expected, request.total)
        created_at = clock.now()
        bucket = bucket_of(request.order_id, self.buckets)
        first_due = lifecycle.due_at(Status.PENDING, created_at, self.delays)
        assert first_due is not None
        # Dependents first, order last: if this process dies in between, the worker finds a
        # schedule row without an order (dropped later) rather than an order nobody advances.
        await self.repo.index_for_user(request.user_id, created_at, request.order_id)
        first_step = DueStep(bucket, first_due, request.order_id, Status.PENDING)
        await self.repo.schedule(first_step)
        created = await self.repo.insert_order(
            request.order_id,
            request.user_id,
            [OrderItem(i.product_id, i.name, i.unit_price, i.quantity) for i in request.items],
            money(request.total),
            created_at,
        )
        if created:
            ORDERS_TOTAL.labels(Status.PENDING).inc()
            await self.repo.record_event(
                request.order_id, created_at, Status.PENDING, None, "checkout"
            )
            return to_order(await self._get(request.order_id)), True
        # A replay: drop what this attempt wrote, keep (and repair) the original's rows.
        await self.repo.unschedule(first_step)
        await self.repo.unindex_for_user(request.user_id, created_at, request.order_id)
        order = await self.repo.get(request.order_id)
        if order is None:  # cannot happen: the insert just saw it
            raise ServiceUnavailable("Order storage is inconsistent, retry")
        if not same_contents(order, request):
            raise OrderMismatch(request.order_id)
        await self.repo.index_for_user(order.user_id, order.created_at, order.id)
        await self.ensure_scheduled(order)
        return to_order(order), False

    # --- reads ------------------------------------------------------------------------------

    async def _get(self, order_id: uuid.UUID) -> OrderRecord:
        order = await self.repo.get(order_id)
        if order is None:
            raise OrderNotFound(order_id)
        return order

    async def get(self, principal: Principal, order_id: uuid.UUID) -> Order:
        order = await self.repo.get(order_id)
        if order is None or not self._may_see(principal, order):
            raise OrderNotFound(order_id)
        return to_order(order)

    async def list_orders(
        self,
        principal: Principal,
        limit: int | None,
        cursor: str | None,
        *,
        everyone: bool = False,
        user_id: str | None = None,
    ) -> OrderPage:
        """The principal's orders, newest first. Admins may list another user's
        (`user_id`) or every order of the store (`everyone`, in storage order)."""
        size = limit or self.settings.page_size
        if (everyone or user_id is not None) and principal.role is not Role.ADMIN:
            raise Forbidden("Only admins may list other users' orders")
        if everyone:
            items, next_cursor = await self.list_all(size, cursor)
        else:
            items, next_cursor = await self.list_for_user(user_id or principal.id, size, cursor)
        return OrderPage(items=items, next_cursor=next_cursor)

    async def list_for_user(
        self, user_id: str, size: int, cursor: str | None
    ) -> tuple[list[Order], str | None]:
        after = parse_user_cursor(cursor) if cursor else None
        refs = await self.repo.page_for_user(user_id, size + 1, after)
        more, refs = len(refs) > size, refs[:size]
        found = await asyncio.gather(*(self.repo.get(r.order_id) for r in refs))
        orders = [
            to_order(order)
            for ref, order in zip(refs, found, strict=True)
            # skip debris of an interrupted creation (an index row with no such order)
            if order is not None and order.created_at == ref.created_at
        ]
        last = refs[-1] if refs else None
        next_cursor = user_cursor(last.created_at, last.order_id) if more and last else None
        return orders, next_cursor

    async def list_all(self, size: int, cursor: str | None) -> tuple[list[Order], str | None]:
        after = parse_all_cursor(cursor) if cursor else None
        orders = await self.repo.page_all(size + 1, after)
        more, orders = len(orders) > size, orders[:size]
        next_cursor = all_cursor(orders[-1].id) if more and orders else None
        return [to_order(order) for order in orders], next_cursor

    @staticmethod
    def _may_see(principal: Principal, order: OrderRecord) -> bool:
        return principal.role is Role.ADMIN or order.user_id == principal.id

    # --- changes by people ------------------------------------------------------------------

    async def cancel(self, principal: Principal, order_id: uuid.UUID) -> Order:
        order = await self.repo.get(order_id)
        if order is None or not self._may_see(principal, order):
            raise OrderNotFound(order_id)
        return await self.change_status(
            order, Status.CANCELLED, actor=f"{principal.role}:{principal.id}"
        )

    async def set_status(self, principal: Principal, order_id: uuid.UUID, target: Status) -> Order:
        order = await self._get(order_id)
        return await self.change_status(order, target, actor=f"{principal.role}:{principal.id}")

    async def change_status(self, order: OrderRecord, target: Status, *, actor: str) -> Order:
        """Move the order to `target` if that is a step from where it is now."""
        for _ in range(5):  # the worker may move it meanwhile; re-decide from the new state
            if not lifecycle.can_transition(order.status, target):
                raise InvalidTransition(order.status, target)
            if target is Status.PAID and await self.stock.commit(order.id) is Outcome.GONE:
                raise ReservationGone(order.id)
            if await self._transition(order, target, actor=actor):
                if target is Status.CANCELLED:
                    await self.release_now(order.id)
                return to_order(await self._get(order.id))
            order = await self._get(order.id)
        raise ServiceUnavailable("The order keeps changing, retry")

    async def release_now(self, order_id: uuid.UUID) -> None:
        """Try to give a cancelled order's stock back now; the worker retries on failure."""
        order = await self.repo.get(order_id)
        if order is None:
            return
        try:
            await self.stock.release(order_id)
        except ServiceUnavailable as exc:
            log.warning("release of cancelled order %s deferred: %s", order_id, exc.detail)
            return
        bucket = bucket_of(order_id, self.buckets)
        await self.repo.unschedule(DueStep(bucket, order.history[RELEASE], order_id, RELEASE))

    # --- transitions and the schedule -------------------------------------------------------

    async def _transition(self, order: OrderRecord, target: Status, *, actor: str) -> bool:
        """One compare-and-set step. Only the winner logs it and schedules what comes next."""
        order_id, current = order.id, order.status
        at = clock.now()
        if not await self.repo.transition(order_id, current, target, at):
            return False
        ORDERS_TOTAL.labels(target).inc()
        if target is Status.DELIVERED:
            DELIVERY_SECONDS.observe((at - order.created_at).total_seconds())
        await self._schedule(order_id, target, at)
        await self.repo.record_event(order_id, at, target, current, actor)
        log.info("order %s: %s -> %s (%s)", order_id, current, target, actor)
        return True

    async def _schedule(self, order_id: uuid.UUID, status: Status, entered_at: datetime) -> None:
        due = lifecycle.due_at(status, entered_at, self.delays)
        if due is not None:
            await self.repo.schedule(
                DueStep(bucket_of(order_id, self.buckets), due, order_id, status)
            )

    async def ensure_scheduled(self, order: OrderRecord) -> None:
        """Write the schedule row of the order's current state (same key every time)."""
        entered = order.history.get(order.status)
        if entered is not None:
            await self._schedule(order.id, order.status, entered)

    async def run_due(self, due: DueStep) -> None:
        """Run one schedule row: advance the order, or release a cancelled order's stock.

        Safe to run concurrently on several replicas: every decision is re-checked by the
        compare-and-set in `_transition`, and schedule rows have deterministic keys.
        """
        order = await self.repo.get(due.order_id)
        if order is None:
            if clock.now() - due.due_at > ORPHAN_GRACE:
                await self.repo.unschedule(due)
            return
        try:
            if order.status != due.status:
                # Someone else moved it; make sure its current state has its row, drop this.
                await self.ensure_scheduled(order)
            elif due.status == RELEASE:
                await self.stock.release(order.id)
            else:
                await self._advance(order)
        except ServiceUnavailable as exc:
            log.warning("order %s (%s) deferred: %s", order.id, due.status, exc.detail)
            await self.repo.schedule(replace(due, due_at=clock.now() + self.retry))
        await self.repo.unschedule(due)

    async def _advance(self, order: OrderRecord) -> None:
        target = NEXT[order.status]
        if order.status is Status.PENDING and await self.stock.commit(order.id) is Outcome.GONE:
            # The hold expired or was released before anyone committed it: no stock, no sale.
            target = Status.CANCELLED
        if not await self._transition(order, target, actor="lifecycle"):
            fresh = await self.repo.get(order.id)
            if fresh is not None:
                await self.ensure_scheduled(fresh)
        elif target is Status.CANCELLED:
            await self.release_now(order.id)
