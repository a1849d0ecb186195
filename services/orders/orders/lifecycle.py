"""The order state machine, as pure data and functions (no I/O)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from kit.clock import utc


# The values are what the API shows and Cassandra stores; the docstring is the schema's
# description in the OpenAPI document.
class Status(StrEnum):
    """Where the order is in its lifecycle: pending → paid → shipped → delivered, or
    cancelled (from pending or paid)."""

    PENDING = "pending"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


STATUSES: tuple[Status, ...] = tuple(Status)  # lifecycle order
# The worker's path; an admin may take the same steps early.
NEXT: dict[Status, Status] = {
    Status.PENDING: Status.PAID,
    Status.PAID: Status.SHIPPED,
    Status.SHIPPED: Status.DELIVERED,
}
CANCELLABLE: frozenset[Status] = frozenset({Status.PENDING, Status.PAID})
TERMINAL: frozenset[Status] = frozenset({Status.DELIVERED, Status.CANCELLED})
RELEASE = Status.CANCELLED  # a schedule row for status `cancelled` means: release its stock


def can_transition(current: Status, target: Status) -> bool:
    """True when `current -> target` is a step of the lifecycle."""
    if target is Status.CANCELLED:
        return current in CANCELLABLE
    return NEXT.get(current) == target


def due_at(status: Status, entered_at: datetime, delays: Mapping[str, float]) -> datetime | None:
    """When the schedule row for an order that entered `status` at `entered_at` falls due.

    Deterministic, so writing it again (after a crash, by another replica) hits the same key.
    """
    if status == RELEASE:
        return entered_at
    if status not in NEXT:
        return None
    return entered_at + timedelta(seconds=float(delays.get(status, 0.0)))


def bucket_of(order_id: uuid.UUID, buckets: int) -> int:
    return order_id.int % buckets


def ordered_history(history: Mapping[Status, datetime]) -> list[tuple[Status, datetime]]:
    """History entries oldest first (ties broken by lifecycle order)."""
    rank = {status: i for i, status in enumerate(STATUSES)}
    entries = [(status, utc(at)) for status, at in history.items()]
    return sorted(entries, key=lambda e: (e[1], rank.get(e[0], len(rank))))
