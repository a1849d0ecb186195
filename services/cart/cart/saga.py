"""Pure rules of the checkout saga: cart arithmetic, fingerprints, what to do with an
existing idempotency record, and what to undo after a failed step. No I/O here."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from kit import clock
from kit.money import money

from cart.repository import Line

# The saga, in order. Creating the order is the point of no return: before it, a failure
# releases the stock; after it, the checkout has succeeded (a failed commit is retried by
# the orders worker, which also cancels an order whose hold expired uncommitted).
STEPS = ("reserve", "create_order", "commit", "clear_cart", "record")
POINT_OF_NO_RETURN = "create_order"


def line_total(line: Line) -> Decimal:
    return money(money(line.unit_price) * line.quantity)


def cart_total(lines: Iterable[Line]) -> Decimal:
    return money(sum((line_total(line) for line in lines), Decimal("0")))


def fingerprint(lines: Iterable[Line]) -> str:
    """Identifies a cart's contents (products, quantities, prices), independent of order."""
    canonical = sorted(
        f"{line.product_id}:{line.quantity}:{money(line.unit_price)}" for line in lines
    )
    return hashlib.sha256("|".join(canonical).encode()).hexdigest()


def quantities(lines: Iterable[Line]) -> dict[uuid.UUID, int]:
    merged: dict[uuid.UUID, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged


def order_payload(order_id: uuid.UUID, user_id: str, lines: Sequence[Line]) -> dict[str, Any]:
    """The body of the orders service's POST /internal/orders."""
    return {
        "order_id": str(order_id),
        "user_id": user_id,
        "items": [
            {
                "product_id": str(line.product_id),
                "name": line.name,
                "unit_price": str(money(line.unit_price)),
                "quantity": line.quantity,
            }
            for line in sorted(lines, key=lambda line: str(line.product_id))
        ],
        "total": str(cart_total(lines)),
    }


def dump_lines(lines: Iterable[Line]) -> str:
    return json.dumps(
        [
            {
                "product_id": str(line.product_id),
                "name": line.name,
                "unit_price": str(money(line.unit_price)),
                "quantity": line.quantity,
                "added_at": line.added_at.isoformat(),
            }
            for line in lines
        ]
    )


def load_lines(text: str) -> list[Line]:
    return [
        Line(
            product_id=uuid.UUID(item["product_id"]),
            name=item["name"],
            unit_price=Decimal(item["unit_price"]),
            quantity=int(item["quantity"]),
            added_at=datetime.fromisoformat(item["added_at"]),
        )
        for item in json.loads(text)
    ]


class Decision(Enum):
    START = "start"  # no record: claim the key and run the saga
    EMPTY = "empty"  # nothing to check out
    REPLAY = "replay"  # answer what the recorded checkout answered
    KEY_REUSED = "key_reused"  # the key belongs to a checkout of another cart
    WAIT = "wait"  # a live attempt runs: wait for its outcome
    TAKE_OVER = "take_over"  # its owner died (lease over): finish it, same order id
    RETRY = "retry"  # the recorded attempt failed: run again with a new order id


def decide(record: dict[str, Any] | None, cart_fingerprint: str | None, now: datetime) -> Decision:
    """What a checkout request does, given the key's record and the cart (None: empty)."""
    if record is None:
        return Decision.EMPTY if cart_fingerprint is None else Decision.START
    state = record.get("state")
    same_cart = cart_fingerprint is None or cart_fingerprint == record.get("fingerprint")
    if state == "completed":
        # After success the cart is empty: an empty cart is a retry of the same checkout.
        return Decision.REPLAY if same_cart else Decision.KEY_REUSED
    if state == "failed":
        return Decision.EMPTY if cart_fingerprint is None else Decision.RETRY
    # pending
    lease_until = record.get("lease_until")
    if lease_until is not None and clock.utc(lease_until) <= now:
        return Decision.TAKE_OVER
    return Decision.WAIT if same_cart else Decision.KEY_REUSED


def compensation(failed_step: str, *, nothing_reserved: bool) -> tuple[str, ...]:
    """What to undo when `failed_step` failed.

    `nothing_reserved`: the catalog said for sure that it holds nothing (a clean refusal
    such as insufficient stock). A reservation whose outcome is unknown (timeout, catalog
    down) is released anyway: release is idempotent, and the sweeper catches it otherwise.
    """
    if failed_step == "reserve":
        return () if nothing_reserved else ("release",)
    if failed_step == "create_order":
        return ("release",)
    if failed_step in STEPS:
        return ()  # past the point of no return
    raise ValueError(f"unknown saga step {failed_step!r}")


def release_retry_delays(hold_ttl_seconds: float) -> list[float]:
    """When to try again a release the catalog did not confirm (it was down, or Cassandra
    was): back off from 1 s to 30 s between tries, for as long as the hold could still be
    live. After that the catalog's expiry sweep has released it anyway."""
    delays: list[float] = []
    delay, waited = 1.0, 0.0
    while waited < hold_ttl_seconds:
        delays.append(delay)
        waited += delay
        delay = min(delay * 2, 30.0)
    return delays
