"""A short headless Locust run of loadtest/ against the services as real processes.

Guests, shoppers and the admin for about half a minute: no request may fail (expected
business answers such as 409 for sold-out stock count as successes in the locustfile),
orders get created, no checkout made two orders, and every unit of stock that left the
shelves is in exactly one order that was not cancelled.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.polling import eventually
from tests.service_stack import Stack

pytestmark = pytest.mark.integration
LOCUSTFILE = Path(__file__).resolve().parents[2] / "loadtest" / "loadtest" / "locustfile.py"


async def stock_levels(stack: Stack) -> dict[str, int]:
    """Every product's stock, walking the listing."""
    levels: dict[str, int] = {}
    params: dict[str, Any] = {"limit": 100}
    async with stack.client("catalog") as catalog:
        while True:
            page = (await catalog.get("/products", params=params)).json()
            levels |= {p["id"]: p["stock"] for p in page["items"]}
            if not page["next_cursor"]:
                return levels
            params["cursor"] = page["next_cursor"]


def units_by_product(orders: list[dict[str, Any]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for order in orders:
        if order["status"] != "cancelled":
            for item in order["items"]:
                units[item["product_id"]] = units.get(item["product_id"], 0) + item["quantity"]
    return units


async def test_locust_shoppers(stack: Stack, tmp_path: Path) -> None:
    await stack.new_product(stock=100_000)  # the listing has something to sample at least
    orders_before = {o["id"] for o in await stack.all_orders()}
    stock_before = await stock_levels(stack)
    env = os.environ | {
        **{f"STORE_{name.upper()}_URL": stack.url(name) for name in ("catalog", "cart", "orders")},
        "STORE_USERS_URL": stack.url("users"),
        "STORE_ADMIN_PASSWORD": stack.admin_password,
    }
    report = tmp_path / "locust.json"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", "10", "--spawn-rate", "10", "--run-time", "25s", "--stop-timeout", "20",
        "--think-time", "0.1,0.4", "--min-products", "30", "--only-summary",
        "--json-file", str(report.with_suffix("")),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output = (await proc.communicate())[0].decode(errors="replace")
    assert proc.returncode == 0, output[-4000:]

    stats = {entry["name"]: entry for entry in json.loads(report.read_text())}
    assert sum(e["num_failures"] for e in stats.values()) == 0, output[-4000:]
    assert stats["catalog: list filtered"]["num_requests"] > 0
    checkouts = stats["cart: checkout"]["num_requests"]

    new_orders = [o for o in await stack.all_orders() if o["id"] not in orders_before]
    # Every order came from one checkout request (replays with the same key make none).
    assert 0 < len(new_orders) <= checkouts, (len(new_orders), checkouts)

    async def stock_adds_up() -> bool:
        """Sold units of each product that existed before = its units in live orders.

        Cancellations give units back in the background, hence polling."""
        sold = units_by_product(
            [o for o in await stack.all_orders() if o["id"] not in orders_before]
        )
        after = await stock_levels(stack)
        return all(
            stock_before[p] - after.get(p, 0) == sold.get(p, 0) for p in stock_before if p in after
        )

    assert await eventually(stock_adds_up, within=60)
