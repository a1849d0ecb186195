"""Checkout throughput, with the two guarantees checked on what it produced.

`shoppers` signed-in users each put one unit of a product from a pool in their cart, then
check out `concurrency` at a time against the cart service with an Idempotency-Key. Then:
every key replayed must return its order and make none (no duplicates), and the pool's
stock must have dropped by exactly the units in the new orders (no oversell, none lost).
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from tests.service_stack import Stack, fill, shoppers, units_in_orders


@dataclass(frozen=True)
class CheckoutResult:
    shoppers: int
    concurrency: int
    created: int
    orders_per_s: float
    p50_ms: float
    p99_ms: float
    duplicates: int  # replays that returned another order, or orders beyond one per key
    oversold_units: int  # units sold beyond what left the shelves (must be 0)
    lost_units: int  # units that left the shelves without an order (must be 0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def run(stack: Stack, count: int, concurrency: int, pool: int = 20) -> CheckoutResult:
    products = [await stack.new_product(stock=1_000_000, price="3.50") for _ in range(pool)]
    before = {p: await stack.stock(p) for p in products}
    print(f"[bench] checkout: signing up {count} shoppers", flush=True)
    buyers = await shoppers(stack, count)
    keys = [str(uuid.uuid4()) for _ in buyers]
    rng = random.Random(3)
    async with stack.client("cart", timeout=120) as cart:
        await asyncio.gather(*(fill(cart, h, rng.choice(products), 1) for h in buyers))
        limit = asyncio.Semaphore(concurrency)
        latencies: list[float] = []

        async def checkout(headers: dict[str, str], key: str) -> str | None:
            async with limit:
                began = time.perf_counter()
                response = await cart.post(
                    "/cart/checkout", headers=headers | {"Idempotency-Key": key}
                )
                latencies.append(time.perf_counter() - began)
            return str(response.json()["id"]) if response.status_code == 201 else None

        print(f"[bench] checkout: {count} orders, {concurrency} at a time", flush=True)
        began = time.perf_counter()
        ids = await asyncio.gather(*(checkout(h, k) for h, k in zip(buyers, keys, strict=True)))
        took = time.perf_counter() - began
        replays = await asyncio.gather(*(checkout(h, k) for h, k in zip(buyers, keys, strict=True)))
    created = {i for i in ids if i}
    orders = [o for o in await stack.all_orders() if o["id"] in created]
    duplicates = sum(1 for a, b in zip(ids, replays, strict=True) if a != b)
    duplicates += len(created) - len([i for i in ids if i])  # two keys, one order: impossible
    sold = sum(units_in_orders(orders, p) for p in products)
    after = {p: await stack.stock(p) for p in products}
    left = sum(before[p] - after[p] for p in products)
    ms = sorted(t * 1000 for t in latencies[: len(buyers)])
    return CheckoutResult(
        shoppers=count,
        concurrency=concurrency,
        created=len(created),
        orders_per_s=len(created) / took,
        p50_ms=statistics.median(ms),
        p99_ms=ms[min(len(ms) - 1, int(len(ms) * 0.99))],
        duplicates=duplicates,
        oversold_units=max(0, sold - left),
        lost_units=max(0, left - sold),
    )
