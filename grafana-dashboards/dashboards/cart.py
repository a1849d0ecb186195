"""Product Store / Cart: cart operations and the checkout saga."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import Q, by_label, graph, percentiles
from dashboards.service import SERVICE, Service, service_dashboard, share_of

CART = Service(
    name="cart",
    title="Cart",
    description="Carts and checkout: HTTP, cart operations, checkout results and duration, "
    "calls to catalog and orders, and Cassandra client latency.",
    identity_metric="store_checkout_duration_seconds_count",
    calls_upstreams=True,
)

CHECKOUTS = "store_checkouts_total"
CHECKOUT_BUCKET = "store_checkout_duration_seconds_bucket"


def build() -> model.Dashboard:
    business = [
        by_label(
            "Cart operations",
            "ops",
            "store_cart_operations_total",
            SERVICE,
            "operation",
            description="Cart operations per second by kind (get, add, update, remove, "
            "clear, checkout).",
        ),
        by_label(
            "Checkouts by result",
            "ops",
            CHECKOUTS,
            SERVICE,
            "result",
            description="Checkouts per second: success, insufficient_stock, unavailable, "
            "error, replayed (same Idempotency-Key).",
        ),
        percentiles(
            "Checkout duration",
            "s",
            CHECKOUT_BUCKET,
            SERVICE,
            description="End-to-end checkout saga duration (reserve stock, create order, "
            "clear cart).",
        ),
        graph(
            "Checkout success ratio",
            "percentunit",
            Q(share_of(CHECKOUTS, 'result="success"'), "success"),
            description="Share of checkouts that created an order.",
        ),
    ]
    return service_dashboard(CART, "Cart and checkout", business)
