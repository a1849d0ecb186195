"""One checkout through the gateway is one trace in Jaeger across cart, catalog and orders,
with the Cassandra round trips inside it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fullstack.conftest import Observed
from tests.fullstack.shopping import checkout, sign_up
from tests.polling import eventually


def services_and_db_spans(trace: dict[str, Any]) -> tuple[set[str], int]:
    processes = {pid: p["serviceName"] for pid, p in trace["processes"].items()}
    services = {processes[span["processID"]] for span in trace["spans"]}
    db_spans = sum(
        1
        for span in trace["spans"]
        if any(t["key"] == "db.system" and t["value"] == "cassandra" for t in span["tags"])
    )
    return services, db_spans


async def test_a_checkout_is_one_trace_across_the_services(observed: Observed) -> None:
    product_id = await observed.stack.new_product(stock=5)
    async with httpx.AsyncClient(base_url=observed.cfg.url("gateway"), timeout=30) as gateway:
        headers = await sign_up(gateway)
        order = await checkout(gateway, headers, product_id)

    async def checkout_trace() -> dict[str, Any] | None:
        async with httpx.AsyncClient(base_url=observed.cfg.url("jaeger_ui"), timeout=10) as jaeger:
            response = await jaeger.get(
                "/api/traces",
                params={"service": "cart", "operation": "POST /cart/checkout", "limit": 50,
                        "lookback": "1h"},
            )  # fmt: skip
        for trace in response.json().get("data") or []:
            tags = [t for s in trace["spans"] for t in s["tags"]]
            if any(t["key"] == "order.id" and t["value"] == order["id"] for t in tags):
                services, _ = services_and_db_spans(trace)
                if {"cart", "catalog", "orders"} <= services:
                    return dict(trace)
        return None

    trace = await eventually(checkout_trace, within=60, interval=1)
    services, db_spans = services_and_db_spans(trace)
    assert {"cart", "catalog", "orders"} <= services
    assert db_spans > 0, "the trace holds no Cassandra span"
