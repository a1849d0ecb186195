"""Cart and checkout through HTTP, in-process: a real Cassandra keyspace per service, the
real catalog and orders apps wired behind the cart's upstream clients, service tokens from
the test minter."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from cart import saga
from cart.repository import Attempt
from cassandra.query import SimpleStatement

from tests.support.cart import CartEnv
from tests.support.catalog import new_product, stock_of

pytestmark = pytest.mark.integration


async def reservation(env: CartEnv, order_id: str) -> dict[str, Any]:
    response = await env.catalog.get(
        f"/internal/reservations/{order_id}", headers=env.minter.headers("service")
    )
    body: dict[str, Any] = response.json()
    return body


def shopper(env: CartEnv) -> dict[str, str]:
    return env.minter.headers(sub=f"user-{uuid.uuid4().hex[:8]}")


async def add(env: CartEnv, headers: dict[str, str], product: str, quantity: int = 1) -> None:
    response = await env.cart.post(
        "/cart/items", json={"product_id": product, "quantity": quantity}, headers=headers
    )
    assert response.status_code == 201, response.text


async def test_cart_lines_prices_and_totals(env: CartEnv) -> None:
    a, b = await new_product(env, price="19.99"), await new_product(env, price="0.10")
    me = shopper(env)
    empty = await env.cart.get("/cart", headers=me)
    assert empty.json() == {"items": [], "total": "0.00"}
    await add(env, me, a, 2)
    await add(env, me, b, 3)
    await add(env, me, a, 1)  # adds to the line
    cart = (await env.cart.get("/cart", headers=me)).json()
    lines = [(i["product_id"], i["quantity"], i["unit_price"], i["line_total"])
             for i in cart["items"]]  # fmt: skip
    assert lines == [(a, 3, "19.99", "59.97"), (b, 3, "0.10", "0.30")]
    assert cart["total"] == "60.27"
    patched = await env.cart.patch(f"/cart/items/{b}", json={"quantity": 1}, headers=me)
    assert patched.status_code == 200
    assert patched.json()["total"] == "60.07"
    removed = await env.cart.delete(f"/cart/items/{a}", headers=me)
    assert [i["product_id"] for i in removed.json()["items"]] == [b]
    assert (await env.cart.delete(f"/cart/items/{a}", headers=me)).status_code == 404
    assert (await env.cart.delete("/cart", headers=me)).status_code == 204
    assert (await env.cart.get("/cart", headers=me)).json()["items"] == []


async def test_cart_validation_against_the_catalog(env: CartEnv) -> None:
    product = await new_product(env, stock=3)
    me = shopper(env)
    unknown = await env.cart.post(
        "/cart/items", json={"product_id": str(uuid.uuid4()), "quantity": 1}, headers=me
    )
    assert unknown.status_code == 404
    assert unknown.json()["detail"]
    await add(env, me, product, 2)
    too_many = await env.cart.post(
        "/cart/items", json={"product_id": product, "quantity": 2}, headers=me
    )
    assert too_many.status_code == 409
    assert too_many.json()["available"] == 3
    assert (await env.cart.patch(f"/cart/items/{product}", json={"quantity": 4},
                                 headers=me)).status_code == 409  # fmt: skip
    assert (await env.cart.patch(f"/cart/items/{uuid.uuid4()}", json={"quantity": 1},
                                 headers=me)).status_code == 404  # fmt: skip
    for bad in ({"product_id": product, "quantity": 0}, {"product_id": "nope"}, {}):
        assert (await env.cart.post("/cart/items", json=bad, headers=me)).status_code == 422
    assert (await env.cart.get("/cart")).status_code == 401
    assert (await env.cart.get("/cart", headers=env.minter.headers("service"))).status_code == 403


async def test_carts_expire_and_writes_refresh_the_ttl(env: CartEnv) -> None:
    product = await new_product(env)
    user = f"user-{uuid.uuid4().hex[:8]}"
    await add(env, env.minter.headers(sub=user), product)
    db = env.app.state.db
    rows = await db.rows(
        SimpleStatement(f"SELECT TTL(quantity) AS ttl FROM {db.keyspace}.cart_items "
                        "WHERE user_id = %s"),
        (user,),
    )  # fmt: skip
    configured = env.app.state.settings.cart_ttl_seconds
    assert rows and all(configured - 60 < r["ttl"] <= configured for r in rows)


async def test_checkout_creates_the_order_and_empties_the_cart(env: CartEnv) -> None:
    product = await new_product(env, stock=5, price="2.50")
    me = shopper(env)
    await add(env, me, product, 2)
    response = await env.cart.post("/cart/checkout", headers=me)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "pending"
    assert order["total"] == "5.00"
    assert order["items"][0]["quantity"] == 2
    assert (await env.cart.get("/cart", headers=me)).json()["items"] == []
    assert await stock_of(env, product) == 3
    assert (await reservation(env, order["id"]))["status"] == "committed"
    mine = await env.orders.get(f"/orders/{order['id']}", headers=me)
    assert mine.status_code == 200
    assert mine.json()["total"] == "5.00"


async def test_empty_cart_cannot_check_out(env: CartEnv) -> None:
    response = await env.cart.post("/cart/checkout", headers=shopper(env))
    assert response.status_code == 409
    assert "empty" in response.json()["detail"]


async def test_insufficient_stock_names_items_and_keeps_the_cart(env: CartEnv) -> None:
    scarce, plenty = await new_product(env, stock=2), await new_product(env, stock=10)
    me, rival = shopper(env), shopper(env)
    await add(env, me, scarce, 2)
    await add(env, me, plenty, 1)
    await add(env, rival, scarce, 1)
    assert (await env.cart.post("/cart/checkout", headers=rival)).status_code == 201
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    response = await env.cart.post("/cart/checkout", headers=me | key)
    assert response.status_code == 409
    body = response.json()
    assert body["short_items"] == [{"product_id": scarce, "requested": 2, "available": 1}]
    assert scarce in body["detail"]
    assert len((await env.cart.get("/cart", headers=me)).json()["items"]) == 2
    assert await stock_of(env, scarce) == 1 and await stock_of(env, plenty) == 10
    # restocked: the same key may try again (the failed attempt reserved nothing)
    await env.catalog.patch(f"/products/{scarce}", json={"stock": 5},
                            headers=env.minter.headers("admin"))  # fmt: skip
    retry = await env.cart.post("/cart/checkout", headers=me | key)
    assert retry.status_code == 201, retry.text
    assert await stock_of(env, scarce) == 3 and await stock_of(env, plenty) == 9


async def test_same_key_twice_is_one_order(env: CartEnv) -> None:
    product = await new_product(env, stock=10)
    me = shopper(env)
    await add(env, me, product, 3)
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first = await env.cart.post("/cart/checkout", headers=me | key)
    again = await env.cart.post("/cart/checkout", headers=me | key)
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await stock_of(env, product) == 7
    # the key now belongs to that checkout: another cart with it is refused
    await add(env, me, product, 1)
    reused = await env.cart.post("/cart/checkout", headers=me | key)
    assert reused.status_code == 422


async def test_same_key_concurrently_is_one_order(env: CartEnv) -> None:
    product = await new_product(env, stock=10)
    me = shopper(env)
    await add(env, me, product, 2)
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    responses = await asyncio.gather(
        *(env.cart.post("/cart/checkout", headers=me | key) for _ in range(4))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await stock_of(env, product) == 8
    listed = (await env.orders.get("/orders", headers=me)).json()["items"]
    assert len(listed) == 1


async def test_orders_down_compensates_and_answers_503(env: CartEnv) -> None:
    product = await new_product(env, stock=4)
    me = shopper(env)
    await add(env, me, product, 1)
    healthy = env.router.routes["orders"]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    env.router.routes["orders"] = httpx.MockTransport(refuse)
    try:
        response = await env.cart.post("/cart/checkout", headers=me)
    finally:
        env.router.routes["orders"] = healthy
    assert response.status_code == 503
    assert "orders" in response.json()["detail"]
    assert await stock_of(env, product) == 4  # the hold was released
    assert len((await env.cart.get("/cart", headers=me)).json()["items"]) == 1
    await asyncio.sleep(0.6)  # the orders breaker's recovery time in this environment
    assert (await env.cart.post("/cart/checkout", headers=me)).status_code == 201


async def test_a_release_the_catalog_missed_is_retried_until_it_lands(env: CartEnv) -> None:
    """Orders down, then the compensating release fails too (the catalog went away after
    the hold): the cart keeps trying in the background, and the units come back once the
    catalog answers again, not only when the hold expires 15 minutes later."""
    product = await new_product(env, stock=4)
    me = shopper(env)
    await add(env, me, product, 1)
    healthy_orders, healthy_catalog = env.router.routes["orders"], env.router.routes["catalog"]

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    class CatalogAwayForReleases(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/release"):
                refuse(request)
            return await healthy_catalog.handle_async_request(request)

    env.router.routes["orders"] = httpx.MockTransport(refuse)
    env.router.routes["catalog"] = CatalogAwayForReleases()
    try:
        response = await env.cart.post("/cart/checkout", headers=me)
        assert response.status_code == 503, response.text
        assert await stock_of(env, product) == 3  # still held: the release did not land
    finally:
        env.router.routes["orders"] = healthy_orders
        env.router.routes["catalog"] = healthy_catalog
    for _ in range(100):  # the first retries come after 1 s, 2 s, 4 s
        if await stock_of(env, product) == 4:
            break
        await asyncio.sleep(0.2)
    assert await stock_of(env, product) == 4
    assert env.app.state.cart.pending_releases == 0  # done, nothing left running


async def test_a_dead_checkout_is_finished_by_its_retry(env: CartEnv) -> None:
    """A checkout whose process died after claiming its key: once the lease is over, a
    retry with the same key completes it with the recorded order id and cart snapshot."""
    product = await new_product(env, stock=6)
    user = f"user-{uuid.uuid4().hex[:8]}"
    me = env.minter.headers(sub=user)
    await add(env, me, product, 2)
    service = env.app.state.cart
    lines = await service.repo.lines(user)
    order_id, key = uuid.uuid4(), f"k-{uuid.uuid4()}"
    now = datetime.now(UTC)
    attempt = Attempt(
        order_id=order_id, fingerprint=saga.fingerprint(lines), lines=saga.dump_lines(lines),
        owner=uuid.uuid4(), lease_until=now - timedelta(seconds=1), now=now, ttl=600,
    )  # fmt: skip
    claimed, _ = await service.repo.claim(user, key, attempt)
    assert claimed
    # it had reserved before dying
    await service.catalog.reserve(order_id, saga.quantities(lines), 600)
    assert await stock_of(env, product) == 4
    response = await env.cart.post("/cart/checkout", headers=me | {"Idempotency-Key": key})
    assert response.status_code == 201, response.text
    assert response.json()["id"] == str(order_id)
    assert await stock_of(env, product) == 4
    assert (await reservation(env, str(order_id)))["status"] == "committed"
