"""Traffic through the gateway, then every panel of the seven dashboards evaluated against
the real Prometheus scraping the running stack: none may error or come back empty."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from dashboards.queries import Problem, assert_all_panels_have_data

from tests.fullstack.conftest import Observed
from tests.fullstack.shopping import checkout, sign_up
from tests.polling import eventually


async def drive_traffic(observed: Observed) -> None:
    """What shoppers and admins do in a few minutes of a real day, through the gateway."""
    product = await observed.stack.new_product(stock=50)
    scarce = await observed.stack.new_product(stock=1)
    async with httpx.AsyncClient(base_url=observed.cfg.url("gateway"), timeout=30) as gateway:
        for _ in range(3):
            assert (await gateway.get("/api/products", params={"limit": 20})).status_code == 200
            assert (await gateway.get(f"/api/products/{product}")).status_code == 200
            assert (await gateway.get("/api/categories")).status_code == 200
        missing = await gateway.get(f"/api/products/{uuid.uuid4()}")
        assert missing.status_code == 404

        # sign-ups, sign-ins (good and bad), a refresh and a refresh-token reuse
        headers = await sign_up(gateway)
        name = f"shopper{uuid.uuid4().hex[:8]}"
        creds = {"username": name, "password": "correct-horse-battery"}
        user = {**creds, "email": f"{name}@example.com"}
        assert (await gateway.post("/user-api/register", json=user)).status_code == 201
        tokens = (await gateway.post("/user-api/login", json=creds)).json()
        bad = {"username": name, "password": "wrong-password"}
        assert (await gateway.post("/user-api/login", json=bad)).status_code == 401
        nobody = {"username": f"ghost{uuid.uuid4().hex[:8]}", "password": "whatever123"}
        assert (await gateway.post("/user-api/login", json=nobody)).status_code == 401
        refresh = {"refresh_token": tokens["refresh_token"]}
        assert (await gateway.post("/user-api/refresh", json=refresh)).status_code == 200
        assert (await gateway.post("/user-api/refresh", json=refresh)).status_code == 401

        # cart operations, checkouts that succeed and one that finds no stock
        cart_item = {"product_id": product, "quantity": 2}
        assert (
            await gateway.post("/cart-api/cart/items", json=cart_item, headers=headers)
        ).status_code == 201
        patched = await gateway.patch(
            f"/cart-api/cart/items/{product}", json={"quantity": 1}, headers=headers
        )
        assert patched.status_code == 200, patched.text
        assert (await gateway.get("/cart-api/cart", headers=headers)).status_code == 200
        assert (
            await gateway.delete(f"/cart-api/cart/items/{product}", headers=headers)
        ).status_code in (200, 204)
        orders = [await checkout(gateway, headers, product) for _ in range(2)]
        await checkout(gateway, await sign_up(gateway), scarce)
        other = await sign_up(gateway)
        late = {"product_id": scarce, "quantity": 1}
        added = await gateway.post("/cart-api/cart/items", json=late, headers=other)
        assert added.status_code == 409  # no stock left: refused already at the cart
        assert (await gateway.get("/order-api/orders", headers=headers)).status_code == 200

        async def delivered() -> bool:
            for order in orders:
                got = await gateway.get(f"/order-api/orders/{order['id']}", headers=headers)
                if got.json()["status"] != "delivered":
                    return False
            return True

        await eventually(delivered, within=90, interval=1)


async def test_every_dashboard_panel_has_data(observed: Observed) -> None:
    # Two rounds: a labelled series is born at its first event, which rate() cannot see;
    # the second round, after a scrape, moves series that now exist (as in a live store).
    await drive_traffic(observed)
    await asyncio.sleep(2.5)
    await drive_traffic(observed)
    problems: list[Problem] = []

    async def all_panels_answer() -> bool:
        nonlocal problems
        problems = await asyncio.to_thread(
            assert_all_panels_have_data, observed.cfg.url("prometheus"), window_seconds=300
        )
        return not problems

    try:
        await eventually(all_panels_answer, within=90, interval=3)
    except AssertionError:
        report = "\n".join(f"{p.dashboard} / {p.panel}: {p.reason}\n    {p.expr}" for p in problems)
        async with httpx.AsyncClient(
            base_url=observed.cfg.url("prometheus"), timeout=5
        ) as prometheus:
            targets = (await prometheus.get("/api/v1/targets")).json()["data"]
        scrapes = "\n".join(
            f"{t['labels']['job']}: {t['health']} {t.get('lastError', '')} "
            f"({t.get('lastScrapeDuration', 0):.3f}s)"
            for t in targets["activeTargets"]
        )
        raise AssertionError(
            f"{len(problems)} panels without data:\n{report}\nscrape targets:\n{scrapes}"
        ) from None
