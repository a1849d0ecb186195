"""Prometheus metrics: HTTP histograms fine enough for P50/P95/P99, plus the default registry."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI, Response
from prometheus_client import REGISTRY, CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_fastapi_instrumentator import Instrumentator

LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.035, 0.05, 0.075,
    0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0,
)  # fmt: skip


def install_metrics(app: FastAPI) -> None:
    # Each app gets its own registry for HTTP metrics (tests build several apps per
    # process); business metrics live in the default registry and are served alongside.
    registry = CollectorRegistry()
    Instrumentator(
        should_group_status_codes=True,
        excluded_handlers=["/metrics", "/health/.*"],
        registry=registry,
    ).instrument(app, latency_lowr_buckets=LATENCY_BUCKETS)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


def labelled_counter(name: str, documentation: str, label: str, values: Iterable[str]) -> Counter:
    """A counter with one label whose known values are exported from the start at 0: a
    series born at its first event would hide that event from rate() and the dashboards."""
    counter = Counter(name, documentation, [label])
    for value in values:
        counter.labels(value)
    return counter
