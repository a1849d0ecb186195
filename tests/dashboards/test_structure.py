"""Shape of the seven dashboards: uids, titles, variables, panels, targets, units, grid."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from dashboards.queries import panel_queries
from kit.topology import TOPOLOGY

EXPECTED = {
    "store-catalog": "Product Store / Catalog",
    "store-cart": "Product Store / Cart",
    "store-orders": "Product Store / Orders",
    "store-users": "Product Store / Users",
    "store-gateway": "Product Store / Gateway",
    "store-cassandra": "Product Store / Cassandra",
    "store-tracing": "Product Store / Tracing",
}
SERVICES = TOPOLOGY.names
UNITS = {"s", "ms", "reqps", "ops", "cps", "percentunit", "bytes", "short", "none"}


def all_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for p in panels:
        yield p
        yield from all_panels(p.get("panels", []))


def content_panels(dash: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in all_panels(dash["panels"]) if p["type"] != "row"]


def test_exactly_seven_dashboards_with_unique_uids(dashboards: list[dict[str, Any]]) -> None:
    uids = [d["uid"] for d in dashboards]
    assert len(dashboards) == 7
    assert len(set(uids)) == 7
    assert {d["uid"]: d["title"] for d in dashboards} == EXPECTED


def test_metadata(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        assert "product-store" in d["tags"] and len(d["tags"]) >= 2, d["uid"]
        assert d["description"]
        assert d["time"] == {"from": "now-1h", "to": "now"}
        variables = {v["name"]: v for v in d["templating"]["list"]}
        ds = variables["datasource"]
        assert ds["type"] == "datasource" and ds["query"] == "prometheus"


def test_every_panel_has_a_real_query(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        panels = content_panels(d)
        assert len(panels) >= 8, d["uid"]
        for p in panels:
            where = f"{d['uid']} / {p.get('title')}"
            assert p.get("title"), where
            assert p.get("description"), where
            assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, where
            targets = p.get("targets", [])
            assert targets, where
            for t in targets:
                assert t["expr"].strip(), where
                assert t["datasource"]["uid"] == "${datasource}", where
            ref_ids = [t["refId"] for t in targets]
            assert len(set(ref_ids)) == len(ref_ids), where


def test_units_and_legends(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        for p in content_panels(d):
            where = f"{d['uid']} / {p['title']}"
            defaults = p["fieldConfig"]["defaults"]
            if p["type"] in ("timeseries", "stat"):
                assert defaults.get("unit") in UNITS, where
            if p["type"] in ("timeseries", "state-timeline"):
                assert p["options"]["legend"]["showLegend"] is True, where
            title = p["title"].lower()
            if "latency" in title or "duration" in title or "delivery time" in title:
                assert defaults["unit"] in ("s", "ms"), where
            if re.search(r"\bratio\b", title):
                assert defaults["unit"] == "percentunit", where


def test_panel_ids_and_grid(dashboards: list[dict[str, Any]]) -> None:
    for d in dashboards:
        panels = list(all_panels(d["panels"]))
        ids = [p["id"] for p in panels]
        assert len(set(ids)) == len(ids), d["uid"]
        cells: set[tuple[int, int]] = set()
        for p in panels:
            g = p["gridPos"]
            assert g["x"] >= 0 and g["x"] + g["w"] <= 24, (d["uid"], p.get("title"))
            covered = {
                (x, y)
                for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])
            }
            assert not covered & cells, f"{d['uid']}: {p.get('title')} overlaps"
            cells |= covered


@pytest.mark.parametrize("service", SERVICES)
def test_service_dashboards_share_the_http_and_cassandra_panels(
    dashboards: list[dict[str, Any]], service: str
) -> None:
    d = next(d for d in dashboards if d["uid"] == f"store-{service}")
    titles = {p["title"] for p in content_panels(d)}
    for shared in (
        "Request rate by route",
        "5xx ratio by route",
        "P50 latency by route",
        "P95 latency by route",
        "P99 latency by route",
        "Cassandra query P95 latency by query",
    ):
        assert shared in titles
    exprs = " ".join(q.expr for q in panel_queries(d))
    assert f'job="{service}"' in exprs
    p95 = "histogram_quantile(0.95, sum by (le, handler) (rate(http_request_duration_seconds_bucket"
    assert f'{p95}{{job="{service}"' in exprs
    has_upstreams = "Circuit breaker state" in titles
    assert has_upstreams == (service in ("cart", "orders"))


def test_metric_names_the_services_export(dashboards: list[dict[str, Any]]) -> None:
    exprs = " ".join(q.expr for d in dashboards for q in panel_queries(d))
    for metric in (
        "http_request_duration_seconds_bucket",
        "http_requests_total",
        "store_cassandra_query_duration_seconds_bucket",
        "store_upstream_request_duration_seconds_bucket",
        "store_circuit_breaker_state",
        "store_product_views_total",
        "store_stock_reservations_total",
        "store_cart_operations_total",
        "store_checkouts_total",
        "store_checkout_duration_seconds_bucket",
        "store_orders_total",
        "store_order_delivery_seconds_bucket",
        "store_registrations_total",
        "store_logins_total",
        "store_login_failures_total",
        "store_token_refreshes_total",
        "store_refresh_reuse_detected_total",
        "nginx_up",
        "nginx_connections_active",
        "nginx_connections_accepted",
        "nginx_connections_handled",
        "nginx_http_requests_total",
        "nginx_connections_reading",
        "nginx_connections_writing",
        "nginx_connections_waiting",
        "cassandra_clientrequest_latency",
        "jvm_memory_used_bytes",
        "traces_span_metrics_calls_total",
        "traces_span_metrics_duration_milliseconds_bucket",
        'status_code="STATUS_CODE_ERROR"',
    ):
        assert metric in exprs, metric
