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
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from bench.rss import cpu_seconds
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
    # What each meter counted while the orders were placed, per order created
    per_order: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# A count that only grows (CPU time, requests served), read now; None: cannot tell.
Meter = Callable[[], float | None]


def cpu_ms(pid: Callable[[], int | None]) -> Meter:
    """The CPU time (ms) the process has used so far."""

    def read() -> float | None:
        p = pid()
        return None if p is None else cpu_seconds(p) * 1000

    return read


def cassandra_meters(metrics_url: str) -> dict[str, Meter]:
    """The node's lightweight transactions so far, from its exporter (devstack.cassandra):
    Paxos reads (SERIAL) and writes (IF ...), and how many of them met contention."""
    wanted = {
        "Paxos reads": 'cassandra_clientrequest_latency_count{operation="CASRead"}',
        "Paxos writes": 'cassandra_clientrequest_latency_count{operation="CASWrite"}',
        "contended Paxos ops": "cassandra_clientrequest_contentionhistogram_count{",
    }

    def meter(prefix: str) -> Meter:
        def read() -> float | None:
            try:
                text = httpx.get(metrics_url, timeout=10).text
            except httpx.HTTPError:
                return None
            values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                      if line.startswith(prefix)]  # fmt: skip
            return sum(values) if values else None

        return read

    return {name: meter(prefix) for name, prefix in wanted.items()}


async def run(
    stack: Stack,
    count: int,
    concurrency: int,
    pool: int = 20,
    meters: Mapping[str, Meter] | None = None,
    during: Callable[[], AbstractContextManager[object]] = nullcontext,
) -> CheckoutResult:
    """`meters`: what to count per order while the orders are placed (CPU ms of each
    process, the node's Paxos operations); `during`: a context to be in meanwhile (py-spy)."""
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
        meters = meters or {}
        start = {name: value for name, read in meters.items() if (value := read()) is not None}
        with during():
            began = time.perf_counter()
            ids = await asyncio.gather(*(checkout(h, k) for h, k in zip(buyers, keys, strict=True)))
            took = time.perf_counter() - began
        counted = {name: (meters[name]() or value) - value for name, value in start.items()}
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
        per_order={k: round(v / max(1, len(created)), 2) for k, v in counted.items()},
    )
