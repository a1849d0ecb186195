"""Product Store / Orders: order lifecycle (pending → paid → shipped → delivered)."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import GRAPH_HEIGHT, HALF, Q, by_label, graph, percentiles
from dashboards.common import single_stat as stat
from dashboards.promql import rate_sum, ratio, sel
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
        by_label(
            "Order transitions by status",
            "ops",
            ORDERS_TOTAL,
            SERVICE,
            "status",
            description="Orders entering each status per second (creation counts as pending).",
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
        percentiles(
            "Delivery time",
            "s",
            DELIVERY_BUCKET,
            SERVICE,
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
