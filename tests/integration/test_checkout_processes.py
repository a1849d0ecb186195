"""The checkout saga across the real services (each its own uvicorn process)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest

from tests.polling import eventually
from tests.service_stack import Stack, fill, shoppers, units_in_orders

pytestmark = pytest.mark.integration


async def test_forty_buyers_for_ten_units(stack: Stack) -> None:
    product = await stack.new_product(stock=10, price="5.00")
    buyers = await shoppers(stack, 40)
    async with stack.client("cart", timeout=60) as cart:
        await asyncio.gather(*(fill(cart, h, product, 1) for h in buyers))
        responses = await asyncio.gather(*(cart.post("/cart/checkout", headers=h) for h in buyers))
        codes = Counter(r.status_code for r in responses)
        assert codes == {201: 10, 409: 30}, [r.text for r in responses if r.status_code != 201]
        for response in responses:
            body = response.json()
            if response.status_code == 409:
                assert body["short_items"][0]["product_id"] == product
                assert body["detail"]
            else:
                assert body["status"] in ("pending", "paid") and body["total"] == "5.00"
        assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 10
        # the losers keep their carts, the winners' carts are empty
        carts = await asyncio.gather(*(cart.get("/cart", headers=h) for h in buyers))
        kept = Counter(len(c.json()["items"]) for c in carts)
        assert kept == {0: 10, 1: 30}
    assert await stack.stock(product) == 0
    assert units_in_orders(await stack.all_orders(), product) == 10


async def test_one_idempotency_key_is_one_order(stack: Stack) -> None:
    product = await stack.new_product(stock=5)
    (buyer,) = await shoppers(stack, 1)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    async with stack.client("cart") as cart:
        await fill(cart, buyer, product, 2)
        both = await asyncio.gather(*(cart.post("/cart/checkout", headers=buyer | key)
                                      for _ in range(2)))  # fmt: skip
        later = await cart.post("/cart/checkout", headers=buyer | key)
    assert [r.status_code for r in both] == [201, 201], [r.text for r in both]
    assert later.status_code == 201
    assert both[0].json()["id"] == both[1].json()["id"] == later.json()["id"]
    assert later.headers.get("Idempotent-Replayed") == "true"
    assert await stack.stock(product) == 3
    async with stack.client("orders") as orders:
        mine = (await orders.get("/orders", headers=buyer)).json()["items"]
    assert [o["id"] for o in mine] == [later.json()["id"]]


async def test_cancel_gives_the_stock_back(stack: Stack) -> None:
    product = await stack.new_product(stock=6)
    (buyer,) = await shoppers(stack, 1)
    async with stack.client("cart") as cart:
        await fill(cart, buyer, product, 4)
        order = (await cart.post("/cart/checkout", headers=buyer)).json()
    assert await stack.stock(product) == 2
    async with stack.client("orders") as orders:
        cancelled = await orders.post(f"/orders/{order['id']}/cancel", headers=buyer)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        again = await orders.post(f"/orders/{order['id']}/cancel", headers=buyer)
        assert again.status_code == 409
    assert await stack.stock(product) == 6


async def test_catalog_down_during_checkouts(stack: Stack) -> None:
    """Kill -9 the catalog in the middle of a burst of checkouts: every answer is a 201 or
    a 503, the cart's catalog breaker opens, and once the catalog is back and the sweeper
    has run, no unit is held without an order."""
    initial = 60
    product = await stack.new_product(stock=initial, price="3.00")
    buyers = await shoppers(stack, 16)
    async with stack.client("cart", timeout=60) as cart:
        await asyncio.gather(*(fill(cart, h, product, 2) for h in buyers))
        burst = [asyncio.create_task(cart.post("/cart/checkout", headers=h)) for h in buyers[:10]]
        # kill it as soon as the first checkout is through: the others are mid-saga
        await asyncio.wait(burst, return_when=asyncio.FIRST_COMPLETED)
        stack["catalog"].kill()
        during = await asyncio.gather(*burst)
        assert {r.status_code for r in during} <= {201, 503}, [r.text for r in during]
        after = await asyncio.gather(*(cart.post("/cart/checkout", headers=h)
                                       for h in buyers[10:]))  # fmt: skip
        assert {r.status_code for r in after} == {503}
        assert all(r.json()["detail"] for r in after)
        state = await stack.metric("store_circuit_breaker_state", "cart", {"upstream": "catalog"})
        assert state == 1.0  # open
        assert (await cart.get("/cart", headers=buyers[-1])).status_code == 200
        blocked = await cart.post(
            "/cart/items", json={"product_id": product, "quantity": 1}, headers=buyers[-1]
        )
        assert blocked.status_code == 503

        stack["catalog"].start()

        async def checkout_works() -> bool:
            response = await cart.post("/cart/checkout", headers=buyers[-1])
            assert response.status_code in (201, 503), response.text
            return response.status_code == 201

        await eventually(checkout_works, within=60)

    async def balanced() -> tuple[int, int, int] | None:
        orders = await stack.all_orders()
        if any(o["status"] == "pending" for o in orders if _has(o, product)):
            return None  # the worker still has to commit (or cancel) some
        available = await stack.stock(product)
        held = units_in_orders(orders, product)
        return (available, held, initial) if available + held == initial else None

    _, held, _ = await eventually(balanced, within=120, interval=1.0)
    assert held >= 2  # at least the order placed after the catalog came back (2 units)


def _has(order: dict[str, Any], product: str) -> bool:
    return any(item["product_id"] == product for item in order["items"])


async def test_a_hold_nobody_ordered_is_swept(stack: Stack) -> None:
    """What a checkout that died right after reserving leaves behind: a hold with no order.
    It expires, and the catalog's own sweeper gives the units back (no cart involved)."""
    product = await stack.new_product(stock=5)
    order_id = str(uuid.uuid4())
    async with stack.client("catalog") as catalog:
        held = await catalog.post(
            "/internal/reservations",
            json={"order_id": order_id, "items": [{"product_id": product, "quantity": 3}],
                  "ttl_seconds": 1},
            headers=await stack.service_headers(),
        )  # fmt: skip
        assert held.status_code == 201, held.text
    assert await stack.stock(product) == 2

    async def returned() -> bool:
        return await stack.stock(product) == 5

    await eventually(returned, within=60)
    async with stack.client("catalog") as catalog:
        swept = await catalog.get(
            f"/internal/reservations/{order_id}", headers=await stack.service_headers()
        )
    assert swept.json()["status"] == "released"
