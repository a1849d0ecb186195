"""The order state machine and money rules, as pure functions."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from kit import clock
from orders import lifecycle
from orders.lifecycle import STATUSES, Status, can_transition
from orders.repository import OrderItem, OrderRecord
from orders.schemas import CreateOrder, Order
from orders.service import order_total, same_contents

DELAYS = {"pending": 2.0, "paid": 3.0, "shipped": 4.0}
T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "target", "allowed"),
    [
        ("pending", "paid", True),
        ("paid", "shipped", True),
        ("shipped", "delivered", True),
        ("pending", "cancelled", True),
        ("paid", "cancelled", True),
        ("shipped", "cancelled", False),
        ("delivered", "cancelled", False),
        ("cancelled", "cancelled", False),
        ("pending", "shipped", False),
        ("pending", "delivered", False),
        ("paid", "pending", False),
        ("delivered", "pending", False),
        ("cancelled", "paid", False),
    ],
)
def test_transition_table(current: str, target: str, allowed: bool) -> None:
    assert can_transition(Status(current), Status(target)) is allowed


def test_every_path_reaches_a_terminal_state_without_repeating() -> None:
    for start in STATUSES:
        seen, status = {start}, start
        while status in lifecycle.NEXT:
            status = lifecycle.NEXT[status]
            assert status not in seen
            seen.add(status)
        assert status in lifecycle.TERMINAL


def test_due_times_are_deterministic() -> None:
    assert lifecycle.due_at(Status.PENDING, T0, DELAYS) == T0 + timedelta(seconds=2)
    assert lifecycle.due_at(Status.PAID, T0, DELAYS) == T0 + timedelta(seconds=3)
    assert lifecycle.due_at(Status.SHIPPED, T0, DELAYS) == T0 + timedelta(seconds=4)
    assert lifecycle.due_at(Status.DELIVERED, T0, DELAYS) is None
    # a cancelled order's row means "release its stock", due at once
    assert lifecycle.due_at(Status.CANCELLED, T0, DELAYS) == T0


def test_bucket_is_stable_and_in_range() -> None:
    order_id = uuid.uuid4()
    assert lifecycle.bucket_of(order_id, 4) == lifecycle.bucket_of(order_id, 4)
    assert {lifecycle.bucket_of(uuid.uuid4(), 4) for _ in range(200)} == {0, 1, 2, 3}


def test_now_has_millisecond_precision() -> None:
    assert clock.now().microsecond % 1000 == 0


def test_history_is_ordered_by_time_then_lifecycle() -> None:
    naive = T0.replace(tzinfo=None)
    history: dict[Status, datetime] = {
        Status.SHIPPED: naive + timedelta(seconds=2),
        Status.PENDING: naive,
        Status.PAID: naive,
    }
    assert [s for s, _ in lifecycle.ordered_history(history)] == ["pending", "paid", "shipped"]
    assert all(at.tzinfo is UTC for _, at in lifecycle.ordered_history(history))


def _item(price: str, quantity: int, name: str = "x") -> SimpleNamespace:
    return SimpleNamespace(
        product_id=uuid.UUID(int=quantity), name=name, unit_price=Decimal(price), quantity=quantity
    )


def test_order_total_is_exact() -> None:
    items = [_item("0.10", 3), _item("19.99", 2)]
    assert order_total(items) == Decimal("40.28")
    assert str(order_total([_item("0.1", 1)])) == "0.10"


def test_same_contents_detects_a_different_order() -> None:
    request = CreateOrder.model_validate(
        {
            "order_id": str(uuid.uuid4()),
            "user_id": "u1",
            "items": [
                {"product_id": str(uuid.UUID(int=2)), "name": "x", "unit_price": "1.50",
                 "quantity": 2}
            ],
            "total": "3.00",
        }
    )  # fmt: skip
    stored = OrderRecord(
        id=request.order_id,
        user_id="u1",
        status=Status.PENDING,
        items=[OrderItem(uuid.UUID(int=2), "x", Decimal("1.5"), 2)],
        total=Decimal("3"),
        created_at=T0,
        updated_at=T0,
        history={Status.PENDING: T0},
    )
    assert same_contents(stored, request)
    assert not same_contents(replace(stored, user_id="u2"), request)
    changed = [OrderItem(uuid.UUID(int=2), "x", Decimal("1.5"), 3)]
    assert not same_contents(replace(stored, items=changed), request)


def test_statuses_keep_their_public_values() -> None:
    """The API and Cassandra carry the values; the enum must not change them."""
    assert [s.value for s in STATUSES] == ["pending", "paid", "shipped", "delivered", "cancelled"]
    assert Order.model_json_schema()["$defs"]["Status"]["enum"] == list(STATUSES)
