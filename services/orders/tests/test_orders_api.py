"""Orders through HTTP, in-process: a real Cassandra keyspace, the real catalog app (its own
keyspace) behind the stock calls, service tokens signed by the test minter. The worker loop
is off; tests drive LifecycleWorker.run_once() themselves."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from cassandra.query import SimpleStatement

from tests.support.catalog import new_product, stock_of
from tests.support.orders import OrdersEnv

pytestmark = pytest.mark.integration
LIFECYCLE = ["pending", "paid", "shipped", "delivered"]


async def place(
    env: OrdersEnv, user_id: str, product_id: str, quantity: int = 1, *, reserve: bool = True
) -> dict[str, Any]:
    """What the checkout saga does: reserve the stock, then create the order."""
    order_id = str(uuid.uuid4())
    service = env.minter.headers("service")
    if reserve:
        held = await env.catalog.post(
            "/internal/reservations",
            json={"order_id": order_id, "items": [{"product_id": product_id,
                                                   "quantity": quantity}]},
            headers=service,
        )  # fmt: skip
        assert held.status_code == 201, held.text
    body = {
        "order_id": order_id,
        "user_id": user_id,
        "items": [{"product_id": product_id, "name": "thing", "unit_price": "4.50",
                   "quantity": quantity}],
        "total": str(4.5 * quantity) + "0",
    }  # fmt: skip
    response = await env.orders.post("/internal/orders", json=body, headers=service)
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def drain(env: OrdersEnv, rounds: int = 20) -> None:
    worker = env.worker()
    for _ in range(rounds):
        if await worker.run_once() == 0:
            return
    raise AssertionError("the schedule did not drain")


async def get(env: OrdersEnv, order_id: str, user: str) -> dict[str, Any]:
    response = await env.orders.get(f"/orders/{order_id}", headers=env.minter.headers(sub=user))
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_create_is_idempotent_on_order_id(env: OrdersEnv) -> None:
    product = await new_product(env)
    order = await place(env, "alice", product, 2)
    assert order["status"] == "pending"
    assert order["total"] == "9.00"
    assert order["items"][0]["line_total"] == "9.00"
    assert [h["status"] for h in order["history"]] == ["pending"]
    service = env.minter.headers("service")
    body = {
        "order_id": order["id"],
        "user_id": "alice",
        "items": [{"product_id": product, "name": "thing", "unit_price": "4.50", "quantity": 2}],
        "total": "9.00",
    }
    replay = await env.orders.post("/internal/orders", json=body, headers=service)
    assert replay.status_code == 200
    assert replay.json() == order
    other = {**body, "items": [{**body["items"][0], "quantity": 3}], "total": "13.50"}
    assert (
        await env.orders.post("/internal/orders", json=other, headers=service)
    ).status_code == 409
    # only one entry in alice's list
    listed = await env.orders.get("/orders", headers=env.minter.headers(sub="alice"))
    assert [o["id"] for o in listed.json()["items"]].count(order["id"]) == 1


async def test_create_rejects_bad_input_and_callers(env: OrdersEnv) -> None:
    body = {
        "order_id": str(uuid.uuid4()),
        "user_id": "bob",
        "items": [{"product_id": str(uuid.uuid4()), "name": "x", "unit_price": "1.00",
                   "quantity": 1}],
        "total": "2.00",
    }  # fmt: skip
    service = env.minter.headers("service")
    assert (
        await env.orders.post("/internal/orders", json=body, headers=service)
    ).status_code == 422
    ok = {**body, "total": "1.00"}
    user = env.minter.headers("user")
    assert (await env.orders.post("/internal/orders", json=ok)).status_code == 401
    assert (await env.orders.post("/internal/orders", json=ok, headers=user)).status_code == 403
    assert (await env.orders.post("/internal/orders", json={**ok, "items": []},
                                  headers=service)).status_code == 422  # fmt: skip


async def test_lifecycle_commits_stock_and_records_every_step(env: OrdersEnv) -> None:
    product = await new_product(env, stock=5)
    order = await place(env, "carol", product, 2)
    await drain(env)
    done = await get(env, order["id"], "carol")
    assert done["status"] == "delivered"
    assert [h["status"] for h in done["history"]] == LIFECYCLE
    held = await env.catalog.get(
        f"/internal/reservations/{order['id']}", headers=env.minter.headers("service")
    )
    assert held.json()["status"] == "committed"
    assert await stock_of(env, product) == 3


async def test_an_order_whose_hold_is_gone_is_cancelled(env: OrdersEnv) -> None:
    product = await new_product(env, stock=5)
    order = await place(env, "dave", product, 1)
    # the hold is released before anyone committed it (what the expiry sweep does)
    released = await env.catalog.post(
        f"/internal/reservations/{order['id']}/release", headers=env.minter.headers("service")
    )
    assert released.status_code == 200
    await drain(env)
    final = await get(env, order["id"], "dave")
    assert final["status"] == "cancelled"
    assert await stock_of(env, product) == 5


async def test_visibility_and_listing(env: OrdersEnv) -> None:
    product = await new_product(env, stock=20)
    user = f"erin-{uuid.uuid4().hex[:6]}"
    placed = [await place(env, user, product) for _ in range(3)]
    headers = env.minter.headers(sub=user)
    first = (await env.orders.get("/orders?limit=2", headers=headers)).json()
    assert [o["id"] for o in first["items"]] == [placed[2]["id"], placed[1]["id"]]
    assert first["next_cursor"]
    second = await env.orders.get(
        "/orders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers
    )
    assert [o["id"] for o in second.json()["items"]] == [placed[0]["id"]]
    assert second.json()["next_cursor"] is None
    bad = await env.orders.get("/orders", params={"cursor": "bm9wZQ=="}, headers=headers)
    assert bad.status_code == 400
    stranger = env.minter.headers(sub="mallory")
    assert (await env.orders.get(f"/orders/{placed[0]['id']}", headers=stranger)).status_code == 404
    assert (await env.orders.get(f"/orders/{uuid.uuid4()}", headers=headers)).status_code == 404
    assert (await env.orders.get("/orders?all=true", headers=stranger)).status_code == 403
    admin = env.minter.headers("admin")
    assert (await env.orders.get(f"/orders/{placed[0]['id']}", headers=admin)).status_code == 200
    theirs = await env.orders.get("/orders", params={"user_id": user}, headers=admin)
    assert len(theirs.json()["items"]) == 3
    everyone = await env.orders.get("/orders", params={"all": "true", "limit": 100},
                                    headers=admin)  # fmt: skip
    assert {o["id"] for o in placed} <= {o["id"] for o in everyone.json()["items"]}
    assert (await env.orders.get("/orders")).status_code == 401


async def test_cancel_releases_stock_once(env: OrdersEnv) -> None:
    product = await new_product(env, stock=4)
    order = await place(env, "frank", product, 3)
    assert await stock_of(env, product) == 1
    headers = env.minter.headers(sub="frank")
    stranger = env.minter.headers(sub="mallory")
    url = f"/orders/{order['id']}/cancel"
    assert (await env.orders.post(url, headers=stranger)).status_code == 404
    cancelled = await env.orders.post(url, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert await stock_of(env, product) == 4
    assert (await env.orders.post(url, headers=headers)).status_code == 409
    await drain(env)  # old schedule rows and the release job run; nothing changes
    assert await stock_of(env, product) == 4
    assert [h["status"] for h in (await get(env, order["id"], "frank"))["history"]] == [
        "pending",
        "cancelled",
    ]


async def test_cancel_after_payment_returns_committed_stock(env: OrdersEnv) -> None:
    product = await new_product(env, stock=4)
    order = await place(env, "gina", product, 2)
    admin = env.minter.headers("admin")
    url = f"/orders/{order['id']}/status"
    assert (
        await env.orders.patch(url, json={"status": "paid"}, headers=env.minter.headers(sub="gina"))
    ).status_code == 403
    paid = await env.orders.patch(url, json={"status": "paid"}, headers=admin)
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert (await env.orders.patch(url, json={"status": "delivered"},
                                   headers=admin)).status_code == 409  # fmt: skip
    assert (await env.orders.patch(url, json={"status": "bogus"}, headers=admin)).status_code == 422
    cancelled = await env.orders.post(f"/orders/{order['id']}/cancel", headers=admin)
    assert cancelled.json()["status"] == "cancelled"
    assert await stock_of(env, product) == 4


async def test_delivered_orders_cannot_be_cancelled(env: OrdersEnv) -> None:
    product = await new_product(env)
    order = await place(env, "hank", product)
    await drain(env)
    response = await env.orders.post(
        f"/orders/{order['id']}/cancel", headers=env.minter.headers(sub="hank")
    )
    assert response.status_code == 409
    assert response.json()["detail"]


async def test_two_workers_never_repeat_a_transition(env: OrdersEnv) -> None:
    product = await new_product(env, stock=50)
    orders = await asyncio.gather(*(place(env, "ivy", product) for _ in range(12)))
    workers = [env.worker(), env.worker(), env.worker()]
    for _ in range(30):
        counts = await asyncio.gather(*(w.run_once() for w in workers))
        if not any(counts):
            break
    db = env.app.state.db
    for order in orders:
        final = await get(env, order["id"], "ivy")
        assert final["status"] == "delivered"
        assert [h["status"] for h in final["history"]] == LIFECYCLE
        events = await db.rows(
            SimpleStatement(f"SELECT status FROM {db.keyspace}.order_events WHERE order_id = %s"),
            (uuid.UUID(order["id"]),),
        )
        assert sorted(e["status"] for e in events) == sorted(LIFECYCLE)
    assert await stock_of(env, product) == 38
