"""Product Store / Orders: order lifecycle (pending → paid → shipped → delivered)."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import GRAPH_HEIGHT, HALF, Q, graph, quantile, rate_sum, ratio, sel
from dashboards.common import single_stat as stat
from dashboards.service import JOB, SERVICE, Service, service_dashboard

ORDERS = Service(
    name="orders",
    title="Orders",
    description="Orders and their lifecycle worker: HTTP, status transitions, delivery time, "
    "calls to catalog, and Cassandra client latency.",
    identity_metric="store_order_delivery_seconds_count",
    calls_upstreams=True,
)

ORDERS_TOTAL = "store_orders_total"
DELIVERY_BUCKET = "store_order_delivery_seconds_bucket"


def build() -> model.Dashboard:
    cancelled = rate_sum(ORDERS_TOTAL, sel(JOB, 'status="cancelled"'))
    created = rate_sum(ORDERS_TOTAL, sel(JOB, 'status="pending"'))
    business = [
        graph(
            "Order transitions by status",
            "ops",
            Q(rate_sum(ORDERS_TOTAL, SERVICE, ["status"]), "{{status}}"),
            description="Orders entering each status per second (creation counts as pending).",
            stacked=True,
        ),
        stat(
            "Orders by status (time range)",
            "short",
            Q(
                f"sum by (status) (increase({ORDERS_TOTAL}{SERVICE}[$__range]))",
                "{{status}}",
                instant=True,
            ),
            description="Orders that entered each status during the selected time range.",
            width=HALF,
            height=GRAPH_HEIGHT,
            decimals=0,
        ),
        graph(
            "Delivery time",
            "s",
            Q(quantile(0.5, DELIVERY_BUCKET, SERVICE), "P50"),
            Q(quantile(0.95, DELIVERY_BUCKET, SERVICE), "P95"),
            Q(quantile(0.99, DELIVERY_BUCKET, SERVICE), "P99"),
            description="Time from order creation to delivery, as advanced by the lifecycle "
            "worker.",
        ),
        graph(
            "Cancellation ratio",
            "percentunit",
            Q(ratio(cancelled, created), "cancelled / created"),
            description="Orders cancelled relative to orders created over the same window.",
        ),
    ]
    return service_dashboard(ORDERS, "Order lifecycle", business)
