"""The orders lifecycle worker across crashes and replicas (real processes)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from tests.polling import eventually
from tests.service_stack import Stack, cql_session, fill, shoppers

pytestmark = pytest.mark.integration
LIFECYCLE = ["pending", "paid", "shipped", "delivered"]


async def place_orders(stack: Stack, count: int) -> tuple[dict[str, str], list[str]]:
    product = await stack.new_product(stock=100, price="1.00")
    (buyer,) = await shoppers(stack, 1)
    ids = []
    async with stack.client("cart") as cart:
        for _ in range(count):
            await fill(cart, buyer, product, 1)
            response = await cart.post("/cart/checkout", headers=buyer)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
    return buyer, ids


async def statuses(stack: Stack, buyer: dict[str, str], ids: list[str]) -> list[dict[str, Any]]:
    async with stack.client("orders") as orders:
        responses = await asyncio.gather(*(orders.get(f"/orders/{i}", headers=buyer) for i in ids))
    return [r.json() for r in responses]


def events_by_order(keyspace: str, ids: list[str]) -> dict[str, list[str]]:
    with cql_session(keyspace) as session:
        return {
            i: [row.status for row in session.execute(
                "SELECT status FROM order_events WHERE order_id = %s", (uuid.UUID(i),))]
            for i in ids
        }  # fmt: skip


async def assert_each_status_once(stack: Stack, buyer: dict[str, str], ids: list[str]) -> None:
    async def all_delivered() -> list[dict[str, Any]] | None:
        current = await statuses(stack, buyer, ids)
        return current if all(o.get("status") == "delivered" for o in current) else None

    final = await eventually(all_delivered, within=120, interval=1.0)
    for order in final:
        assert [h["status"] for h in order["history"]] == LIFECYCLE, order
    events = await asyncio.to_thread(events_by_order, stack.keyspaces["orders"], ids)
    for order_id, logged in events.items():
        # only a transition's winner logs it: never twice (a crash may lose one line)
        assert len(logged) == len(set(logged)), (order_id, logged)
        assert set(logged) <= set(LIFECYCLE)


async def test_worker_killed_mid_lifecycle_resumes(stack: Stack) -> None:
    buyer, ids = await place_orders(stack, 6)

    async def some_advanced() -> bool:
        current = await statuses(stack, buyer, ids)
        return any(o["status"] in ("paid", "shipped") for o in current)

    await eventually(some_advanced, within=60, interval=0.2)
    stack["orders"].kill()
    await asyncio.sleep(1.0)
    stack["orders"].start()
    await assert_each_status_once(stack, buyer, ids)


async def test_two_replicas_never_repeat_a_transition(stack: Stack) -> None:
    stack["orders-b"].start()
    try:
        buyer, ids = await place_orders(stack, 8)

        async def some_paid() -> bool:
            current = await statuses(stack, buyer, ids)
            return any(o["status"] != "pending" for o in current)

        await eventually(some_paid, within=60, interval=0.2)
        stack["orders"].kill()  # one replica dies; the other carries on
        stack["orders"].start()
        await assert_each_status_once(stack, buyer, ids)
    finally:
        stack["orders-b"].stop()
