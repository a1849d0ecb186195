"""Business rules of the cart: cart edits validated against the catalog, and the checkout
saga (reserve stock -> create order -> commit -> clear cart -> record), idempotent per key."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from kit import clock
from kit.auth import Principal
from kit.errors import AppError, ServiceUnavailable
from kit.metrics import labelled_counter
from kit.money import money
from kit.tracing import tracer
from prometheus_client import Histogram

from cart import saga
from cart.clients import CatalogClient, OrdersClient
from cart.config import CartSettings
from cart.errors import (
    CartFull,
    CheckoutInProgress,
    CheckoutReplayed,
    EmptyCart,
    InsufficientStock,
    KeyReused,
    NotEnoughStock,
    NotInCart,
)
from cart.repository import Attempt, CartRepository, Line
from cart.saga import Decision
from cart.schemas import Cart, CartLine

log = logging.getLogger("cart.service")

CART_OPERATIONS = labelled_counter(
    "store_cart_operations_total",
    "Cart operations by kind",
    "operation",
    ("get", "add", "update", "remove", "clear", "checkout"),
)
CHECKOUTS = labelled_counter(
    "store_checkouts_total",
    "Checkouts by result",
    "result",
    ("success", "insufficient_stock", "unavailable", "error", "replayed"),
)
CHECKOUT_SECONDS = Histogram(
    "store_checkout_duration_seconds",
    "Duration of a checkout request, end to end",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def to_cart(lines: list[Line]) -> Cart:
    ordered = sorted(lines, key=lambda line: (line.added_at, str(line.product_id)))
    return Cart(
        items=[
            CartLine(
                product_id=line.product_id,
                name=line.name,
                unit_price=money(line.unit_price),
                quantity=line.quantity,
                line_total=saga.line_total(line),
            )
            for line in ordered
        ],
        total=saga.cart_total(ordered),
    )


@dataclass(frozen=True)
class CheckoutResult:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


class CartService:
    def __init__(
        self,
        repo: CartRepository,
        catalog: CatalogClient,
        orders: OrdersClient,
        settings: CartSettings,
    ) -> None:
        self.repo = repo
        self.catalog = catalog
        self.orders = orders
        self.settings = settings
        self._release_retries: set[asyncio.Task[None]] = set()

    # --- the cart ---------------------------------------------------------------------------

    async def get(self, user: Principal) -> Cart:
        CART_OPERATIONS.labels("get").inc()
        return to_cart(await self.repo.lines(user.id))

    async def add(self, user: Principal, product_id: uuid.UUID, quantity: int) -> Cart:
        product = await self.catalog.product(product_id)
        lines = {line.product_id: line for line in await self.repo.lines(user.id)}
        current = lines.get(product_id)
        wanted = quantity + (current.quantity if current else 0)
        self._check_quantity(product_id, wanted, product.stock)
        if current is None and len(lines) >= self.settings.max_lines:
            raise CartFull(self.settings.max_lines)
        lines[product_id] = Line(
            product_id=product_id,
            name=product.name,
            unit_price=money(product.price),  # the price snapshot of the line
            quantity=wanted,
            added_at=current.added_at if current else clock.now(),
        )
        await self.repo.save(user.id, list(lines.values()), self.settings.cart_ttl_seconds)
        CART_OPERATIONS.labels("add").inc()
        return to_cart(list(lines.values()))

    async def set_quantity(self, user: Principal, product_id: uuid.UUID, quantity: int) -> Cart:
        lines = {line.product_id: line for line in await self.repo.lines(user.id)}
        current = lines.get(product_id)
        if current is None:
            raise NotInCart(product_id)
        product = await self.catalog.product(product_id)
        self._check_quantity(product_id, quantity, product.stock)
        lines[product_id] = replace(current, quantity=quantity)
        await self.repo.save(user.id, list(lines.values()), self.settings.cart_ttl_seconds)
        CART_OPERATIONS.labels("update").inc()
        return to_cart(list(lines.values()))

    async def remove(self, user: Principal, product_id: uuid.UUID) -> Cart:
        lines = {line.product_id: line for line in await self.repo.lines(user.id)}
        if lines.pop(product_id, None) is None:
            raise NotInCart(product_id)
        await self.repo.save(
            user.id, list(lines.values()), self.settings.cart_ttl_seconds, remove=[product_id]
        )
        CART_OPERATIONS.labels("remove").inc()
        return to_cart(list(lines.values()))

    async def clear(self, user: Principal) -> None:
        await self.repo.clear(user.id)
        CART_OPERATIONS.labels("clear").inc()

    def _check_quantity(self, product_id: uuid.UUID, wanted: int, stock: int) -> None:
        if wanted > stock:
            raise NotEnoughStock(product_id, wanted, stock)
        if wanted > self.settings.max_quantity:
            raise NotEnoughStock(product_id, wanted, self.settings.max_quantity)

    # --- checkout ---------------------------------------------------------------------------

    async def checkout(self, user: Principal, idempotency_key: str | None) -> CheckoutResult:
        CART_OPERATIONS.labels("checkout").inc()
        started = time.perf_counter()
        result = "error"
        try:
            with tracer.start_as_current_span("checkout") as span:
                span.set_attribute("checkout.explicit_key", idempotency_key is not None)
                outcome = await self._checkout(user, idempotency_key)
                result = "replayed" if outcome.replayed else "success"
                span.set_attribute("checkout.result", result)
                return outcome
        except CheckoutReplayed:
            result = "replayed"
            raise
        except InsufficientStock:
            result = "insufficient_stock"
            raise
        except ServiceUnavailable:
            result = "unavailable"
            raise
        finally:
            CHECKOUTS.labels(result).inc()
            CHECKOUT_SECONDS.observe(time.perf_counter() - started)

    async def _checkout(self, user: Principal, idempotency_key: str | None) -> CheckoutResult:
        key = idempotency_key or f"auto:{uuid.uuid4()}"
        lines = await self.repo.lines(user.id)
        cart_fp = saga.fingerprint(lines) if lines else None
        record = None
        if idempotency_key is not None and cart_fp is None:
            # An empty cart may be a retry of a checkout that emptied it: look the key up.
            # A full one claims the key straight away (no SERIAL read, one Paxos round
            # less): a claim that loses answers with the record it lost to.
            record = await self.repo.checkout(user.id, key, serial=True)
        deadline = time.monotonic() + self.settings.replay_wait_seconds
        while True:
            decision = saga.decide(record, cart_fp, clock.now())
            if decision is Decision.EMPTY:
                raise EmptyCart()
            if decision is Decision.KEY_REUSED:
                raise KeyReused()
            if decision is Decision.REPLAY:
                assert record is not None
                return _replay(record)
            if decision is Decision.WAIT:
                assert record is not None
                if time.monotonic() >= deadline:
                    raise CheckoutInProgress()
                await asyncio.sleep(0.1)
                record = await self.repo.checkout(user.id, key, serial=True)
                if record is not None and record.get("state") == "failed":
                    return _replay(record)  # a duplicate gets the outcome of the original
                continue
            if decision is Decision.TAKE_OVER:  # finish the dead owner's checkout
                assert record is not None
                order_id, snapshot = record["order_id"], saga.load_lines(record["lines"])
            else:  # START, or RETRY: a new attempt, with a new order id, for the current cart
                order_id, snapshot = uuid.uuid4(), lines
            attempt = self._attempt(order_id, snapshot)
            if decision is Decision.START:
                claimed, existing = await self.repo.claim(user.id, key, attempt)
            else:
                assert record is not None
                claimed, existing = await self.repo.take_over(
                    user.id,
                    key,
                    attempt,
                    previous_owner=record["owner"],
                    previous_state=record["state"],
                )
            if claimed:
                return await self._run_saga(user, key, attempt.owner, order_id, snapshot)
            # Lost the race for the key: look again at what the winner recorded.
            record = await self.repo.checkout(user.id, key, serial=True) or existing

    def _attempt(self, order_id: uuid.UUID, snapshot: list[Line]) -> Attempt:
        """A new owner's claim on a key, leased for checkout_lease_seconds."""
        now = clock.now()
        return Attempt(
            order_id=order_id,
            fingerprint=saga.fingerprint(snapshot),
            lines=saga.dump_lines(snapshot),
            owner=uuid.uuid4(),
            lease_until=now + timedelta(seconds=self.settings.checkout_lease_seconds),
            now=now,
            ttl=self.settings.idempotency_ttl_seconds,
        )

    async def _run_saga(
        self, user: Principal, key: str, owner: uuid.UUID, order_id: uuid.UUID, lines: list[Line]
    ) -> CheckoutResult:
        step = "reserve"
        try:
            with tracer.start_as_current_span("checkout.reserve") as span:
                span.set_attribute("order.id", str(order_id))
                await self.catalog.reserve(
                    order_id, saga.quantities(lines), self.settings.reservation_ttl_seconds
                )
            step = "create_order"
            with tracer.start_as_current_span("checkout.create_order"):
                order = await self.orders.create(saga.order_payload(order_id, user.id, lines))
        except AppError as exc:
            clean = isinstance(exc, InsufficientStock) or (
                step == "reserve" and not isinstance(exc, ServiceUnavailable)
            )
            await self._compensate(order_id, saga.compensation(step, nothing_reserved=clean))
            await self._finish(user, key, owner, "failed", exc.status, exc.problem())
            raise
        except Exception:
            await self._compensate(order_id, saga.compensation(step, nothing_reserved=False))
            raise
        # Past the point of no return: the order exists, the checkout has succeeded.
        with tracer.start_as_current_span("checkout.commit"):
            try:
                await self.catalog.commit(order_id)
            except AppError as exc:
                log.warning("commit of %s deferred to the orders worker: %s", order_id, exc)
        with tracer.start_as_current_span("checkout.clear_cart"):
            try:
                await self.repo.remove(user.id, [line.product_id for line in lines])
            except Exception:
                log.exception("could not clear the cart after order %s", order_id)
        with tracer.start_as_current_span("checkout.record"):
            await self._finish(user, key, owner, "completed", 201, order)
        return CheckoutResult(201, order)

    async def _compensate(self, order_id: uuid.UUID, actions: tuple[str, ...]) -> None:
        for action in actions:
            with tracer.start_as_current_span(f"checkout.compensate.{action}"):
                try:
                    if action == "release":
                        await self.catalog.release(order_id)
                except Exception as exc:
                    log.warning("compensation %s of %s failed: %r", action, order_id, exc)
                    if action == "release":
                        self._retry_release(order_id)

    def _retry_release(self, order_id: uuid.UUID) -> None:
        """Keep trying to give the units back in the background, so a catalog that was away
        does not leave them held until the hold expires."""

        async def retry() -> None:
            for delay in saga.release_retry_delays(self.settings.reservation_ttl_seconds):
                await asyncio.sleep(delay)
                try:
                    await self.catalog.release(order_id)
                except Exception as exc:
                    log.info("release of %s not confirmed yet: %r", order_id, exc)
                else:
                    log.info("released %s after the catalog came back", order_id)
                    return
            log.warning("release of %s left to the catalog's expiry sweep", order_id)

        task = asyncio.create_task(retry(), name=f"release-{order_id}")
        self._release_retries.add(task)  # a strong reference until it ends
        task.add_done_callback(self._release_retries.discard)

    @property
    def pending_releases(self) -> int:
        """Releases still being retried in the background."""
        return len(self._release_retries)

    async def aclose(self) -> None:
        """Stop the release retries (a hold they had not released expires on its own)."""
        for task in list(self._release_retries):
            task.cancel()
        await asyncio.gather(*self._release_retries, return_exceptions=True)

    async def _finish(
        self,
        user: Principal,
        key: str,
        owner: uuid.UUID,
        state: str,
        status_code: int,
        body: dict[str, Any],
    ) -> None:
        try:
            await self.repo.finish(
                user.id,
                key,
                owner=owner,
                state=state,
                status_code=status_code,
                response=json.dumps(body),
                now=clock.now(),
                ttl=self.settings.idempotency_ttl_seconds,
            )
        except Exception:
            # The lease runs out and a retry finishes the checkout with the same order id.
            log.exception("could not record the outcome of checkout %s", key)


def _replay(record: dict[str, Any]) -> CheckoutResult:
    """The recorded outcome of the checkout again: its order, or its failure raised anew."""
    body = json.loads(record["response"]) if record.get("response") else {}
    status = int(record["status_code"])
    if status >= 400:
        raise CheckoutReplayed.from_problem({**body, "status": status})
    return CheckoutResult(status, body, replayed=True)
