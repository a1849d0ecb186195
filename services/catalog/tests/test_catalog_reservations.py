"""Stock reservations on the real node: all-or-nothing, idempotent, never oversold."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from catalog.readcache import CachedReads
from catalog.reservations import Reservations

from tests.polling import eventually
from tests.support.catalog import Catalog


async def _product(catalog: Catalog, stock: int) -> str:
    return str((await catalog.create(stock=stock))["id"])


def _items(body: dict[str, Any]) -> dict[str, int]:
    return {i["product_id"]: i["quantity"] for i in body["items"]}


async def test_internal_api_needs_a_service_token(catalog: Catalog) -> None:
    pid = await _product(catalog, 5)
    body = {"order_id": str(uuid.uuid4()), "items": [{"product_id": pid, "quantity": 1}]}
    assert (await catalog.client.post("/internal/reservations", json=body)).status_code == 401
    for role in ("user", "admin"):
        response = await catalog.client.post(
            "/internal/reservations", json=body, headers=catalog.minter.headers(role)
        )
        assert response.status_code == 403, role
    assert (await catalog.client.post("/internal/reservations/sweep")).status_code == 401
    assert await catalog.stock(pid) == 5


async def test_reserve_is_idempotent_per_order(catalog: Catalog) -> None:
    a, b = await _product(catalog, 10), await _product(catalog, 4)
    order = uuid.uuid4()
    first = await catalog.reserve(order, {a: 3, b: 4})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "held" and body["order_id"] == str(order)
    assert _items(body) == {a: 3, b: 4}
    assert datetime.fromisoformat(body["expires_at"]) > datetime.now(UTC) + timedelta(minutes=10)
    assert (await catalog.stock(a), await catalog.stock(b)) == (7, 0)

    again = await catalog.reserve(order, {b: 4, a: 3})
    assert again.status_code == 200 and again.json() == body
    assert (await catalog.stock(a), await catalog.stock(b)) == (7, 0)

    different = await catalog.reserve(order, {a: 2, b: 4})
    assert different.status_code == 409, different.text
    assert (await catalog.stock(a), await catalog.stock(b)) == (7, 0)

    got = await catalog.client.get(f"/internal/reservations/{order}", headers=catalog.system)
    assert got.status_code == 200 and got.json() == body


async def test_insufficient_stock_reserves_nothing(catalog: Catalog) -> None:
    a, b, c = [await _product(catalog, n) for n in (5, 1, 3)]
    order = uuid.uuid4()
    response = await catalog.reserve(order, {a: 2, b: 2, c: 9})
    assert response.status_code == 409, response.text
    problem = response.json()
    assert problem["detail"] and response.headers["content-type"].startswith("application/problem")
    short = {s["product_id"]: (s["requested"], s["available"]) for s in problem["short_items"]}
    assert short == {b: (2, 1), c: (9, 3)}
    assert [await catalog.stock(p) for p in (a, b, c)] == [5, 1, 3]
    # The order's answer stays the same, and still nothing is taken.
    replay = await catalog.reserve(order, {a: 2, b: 2, c: 9})
    assert replay.status_code == 409 and replay.json()["short_items"] == problem["short_items"]
    assert [await catalog.stock(p) for p in (a, b, c)] == [5, 1, 3]


async def test_shortage_found_while_holding_is_compensated(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check passes, then another order takes the last units: nothing stays held."""
    # Items are held in product id order: make `a` (held first) the one with 5 units.
    a, b = sorted([await _product(catalog, 5), await _product(catalog, 5)], key=uuid.UUID)
    await catalog.client.patch(f"/products/{b}", json={"stock": 2}, headers=catalog.admin)
    repo = catalog.service.repo
    original = repo.stock_levels

    async def stale_levels(ids: Any) -> dict[uuid.UUID, int]:
        monkeypatch.setattr(repo, "stock_levels", original)
        levels = await original(ids)
        # Between the pre-check and the holds, someone else buys all of b.
        assert (await catalog.reserve(uuid.uuid4(), {b: 2})).status_code == 201
        return levels

    monkeypatch.setattr(repo, "stock_levels", stale_levels)
    response = await catalog.reserve(uuid.uuid4(), {a: 3, b: 1})
    assert response.status_code == 409, response.text
    assert {s["product_id"] for s in response.json()["short_items"]} == {b}
    assert (await catalog.stock(a), await catalog.stock(b)) == (5, 0)


async def test_unknown_product_is_404_and_reserves_nothing(catalog: Catalog) -> None:
    a = await _product(catalog, 5)
    ghost = str(uuid.uuid4())
    response = await catalog.reserve(uuid.uuid4(), {a: 1, ghost: 1})
    assert response.status_code == 404, response.text
    assert ghost in response.json()["detail"]
    assert await catalog.stock(a) == 5
    deleted = await _product(catalog, 5)
    await catalog.client.delete(f"/products/{deleted}", headers=catalog.admin)
    assert (await catalog.reserve(uuid.uuid4(), {deleted: 1})).status_code == 404


async def test_release_commit_and_release_after_commit(catalog: Catalog) -> None:
    a, b = await _product(catalog, 10), await _product(catalog, 10)
    order = uuid.uuid4()
    assert (await catalog.reserve(order, {a: 4, b: 1})).status_code == 201
    released = await catalog.client.post(
        f"/internal/reservations/{order}/release", headers=catalog.system
    )
    assert released.status_code == 200 and released.json()["status"] == "released"
    assert (await catalog.stock(a), await catalog.stock(b)) == (10, 10)
    again = await catalog.client.post(
        f"/internal/reservations/{order}/release", headers=catalog.system
    )
    assert again.status_code == 200
    assert (await catalog.stock(a), await catalog.stock(b)) == (10, 10)
    # A released order does not come back to life, and cannot be committed.
    assert (await catalog.reserve(order, {a: 4, b: 1})).status_code == 409
    commit = await catalog.client.post(
        f"/internal/reservations/{order}/commit", headers=catalog.system
    )
    assert commit.status_code == 409
    assert (await catalog.stock(a), await catalog.stock(b)) == (10, 10)

    paid = uuid.uuid4()
    assert (await catalog.reserve(paid, {a: 2})).status_code == 201
    committed = await catalog.client.post(
        f"/internal/reservations/{paid}/commit", headers=catalog.system
    )
    assert committed.status_code == 200 and committed.json()["status"] == "committed"
    twice = await catalog.client.post(
        f"/internal/reservations/{paid}/commit", headers=catalog.system
    )
    assert twice.status_code == 200 and twice.json()["status"] == "committed"
    replay = await catalog.reserve(paid, {a: 2})
    assert replay.status_code == 200 and replay.json()["status"] == "committed"
    assert await catalog.stock(a) == 8
    # Cancelling a paid order gives the units back.
    cancel = await catalog.client.post(
        f"/internal/reservations/{paid}/release", headers=catalog.system
    )
    assert cancel.status_code == 200 and cancel.json()["status"] == "released"
    assert await catalog.stock(a) == 10

    missing = uuid.uuid4()
    response = await catalog.client.post(
        f"/internal/reservations/{missing}/commit", headers=catalog.system
    )
    assert response.status_code == 404
    assert (
        await catalog.client.get(f"/internal/reservations/{missing}", headers=catalog.system)
    ).status_code == 404


async def test_a_release_that_overtakes_its_reserve_closes_the_order(catalog: Catalog) -> None:
    """The cart gave up on a reserve the catalog was still running and released the order
    first: the release closes the order id, and the late reserve is refused, taking nothing
    (else its units would stay held until the hold expired)."""
    a = await _product(catalog, 5)
    order = uuid.uuid4()
    released = await catalog.client.post(
        f"/internal/reservations/{order}/release", headers=catalog.system
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released" and released.json()["items"] == []
    late = await catalog.reserve(order, {a: 2})
    assert late.status_code == 409, late.text
    assert await catalog.stock(a) == 5
    again = await catalog.client.post(
        f"/internal/reservations/{order}/release", headers=catalog.system
    )
    assert again.status_code == 200 and await catalog.stock(a) == 5
    commit = await catalog.client.post(
        f"/internal/reservations/{order}/commit", headers=catalog.system
    )
    assert commit.status_code == 409


async def test_sweep_releases_expired_holds_only(catalog: Catalog) -> None:
    a = await _product(catalog, 10)
    expiring, committed, lasting = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert (await catalog.reserve(expiring, {a: 3}, ttl_seconds=1)).status_code == 201
    assert (await catalog.reserve(committed, {a: 2}, ttl_seconds=1)).status_code == 201
    assert (await catalog.reserve(lasting, {a: 1})).status_code == 201
    await catalog.client.post(f"/internal/reservations/{committed}/commit", headers=catalog.system)
    assert await catalog.stock(a) == 4
    await asyncio.sleep(1.2)
    swept = await catalog.client.post("/internal/reservations/sweep", headers=catalog.system)
    assert swept.status_code == 200 and swept.json()["released"] >= 1
    assert await catalog.stock(a) == 7
    states = {
        order: (
            await catalog.client.get(f"/internal/reservations/{order}", headers=catalog.system)
        ).json()["status"]
        for order in (expiring, committed, lasting)
    }
    assert states == {expiring: "released", committed: "committed", lasting: "held"}
    # Sweeping again finds nothing more of ours.
    await catalog.client.post("/internal/reservations/sweep", headers=catalog.system)
    assert await catalog.stock(a) == 7


async def _status(catalog: Catalog, order: uuid.UUID) -> str:
    got = await catalog.client.get(f"/internal/reservations/{order}", headers=catalog.system)
    return str(got.json()["status"])


async def test_the_catalog_sweeps_expired_holds_by_itself(catalog: Catalog) -> None:
    """No cart, no sweep call: the sweeper a catalog replica runs in its lifespan gives
    expired holds back."""
    a = await _product(catalog, 5)
    order = uuid.uuid4()
    assert (await catalog.reserve(order, {a: 3}, ttl_seconds=1)).status_code == 201
    assert await catalog.stock(a) == 2
    repo = catalog.service.repo
    replica = Reservations(
        repo, catalog.settings, CachedReads(repo, catalog.settings.read_cache_seconds)
    )
    async with replica.sweeping(0.2):

        async def returned() -> bool:
            return await catalog.stock(a) == 5

        await eventually(returned, within=30)
    assert await _status(catalog, order) == "released"


async def test_concurrent_sweepers_release_each_hold_once(catalog: Catalog) -> None:
    """Several replicas sweeping the same expired reservations at once: every unit comes
    back exactly once (a double release would push the stock above what it was)."""
    a, b = await _product(catalog, 20), await _product(catalog, 20)
    orders = [uuid.uuid4() for _ in range(8)]
    for order in orders:
        assert (await catalog.reserve(order, {a: 2, b: 1}, ttl_seconds=1)).status_code == 201
    assert (await catalog.stock(a), await catalog.stock(b)) == (4, 12)
    await asyncio.sleep(1.2)  # past every expiry
    repo = catalog.service.repo
    seconds = catalog.settings.read_cache_seconds
    replicas = [Reservations(repo, catalog.settings, CachedReads(repo, seconds)) for _ in range(4)]
    released = await asyncio.gather(*(r.release_expired() for r in replicas))
    assert sum(released) >= len(orders)
    assert (await catalog.stock(a), await catalog.stock(b)) == (20, 20)
    assert {await _status(catalog, order) for order in orders} == {"released"}


async def test_fifty_concurrent_orders_never_oversell(catalog: Catalog) -> None:
    pid = await _product(catalog, 10)
    orders = [uuid.uuid4() for _ in range(50)]
    responses = await asyncio.gather(*(catalog.reserve(o, {pid: 1}) for o in orders))
    codes = [r.status_code for r in responses]
    assert codes.count(201) == 10, codes
    assert codes.count(409) == 40, codes
    assert await catalog.stock(pid) == 0
    held = [o for o, r in zip(orders, responses, strict=True) if r.status_code == 201]
    for order in held:
        got = await catalog.client.get(f"/internal/reservations/{order}", headers=catalog.system)
        assert got.json()["status"] == "held"
    for r in responses:
        if r.status_code == 409:
            assert r.json()["short_items"][0]["product_id"] == pid


async def test_same_order_five_times_concurrently_holds_once(catalog: Catalog) -> None:
    pid, other = await _product(catalog, 10), await _product(catalog, 10)
    order = uuid.uuid4()
    responses = await asyncio.gather(
        *(catalog.reserve(order, {pid: 2, other: 1}) for _ in range(5))
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 201], [r.text for r in responses]
    assert all(r.json()["status"] == "held" for r in responses)
    assert (await catalog.stock(pid), await catalog.stock(other)) == (8, 9)


async def test_stock_edits_and_reservations_interleave(catalog: Catalog) -> None:
    """Admin stock changes are compare-and-set too: concurrent holds are never lost."""
    pid = await _product(catalog, 100)
    orders = [uuid.uuid4() for _ in range(20)]
    await asyncio.gather(*(catalog.reserve(o, {pid: 1}) for o in orders))
    assert await catalog.stock(pid) == 80
    patched = await catalog.client.patch(
        f"/products/{pid}", json={"stock": 5}, headers=catalog.admin
    )
    assert patched.json()["stock"] == 5
    await catalog.client.post(f"/internal/reservations/{orders[0]}/release", headers=catalog.system)
    assert await catalog.stock(pid) == 6
