"""Product Store / Cart: cart operations and the checkout saga."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import HALF, Q, graph, quantile, rate_sum, ratio, sel
from dashboards.service import JOB, SERVICE, Service, service_dashboard

CART = Service(
    name="cart",
    title="Cart",
    description="Carts and checkout: HTTP, cart operations, checkout results and duration, "
    "calls to catalog and orders, and Cassandra client latency.",
    identity_metric="store_checkout_duration_seconds_count",
    calls_upstreams=True,
)

CHECKOUT_BUCKET = "store_checkout_duration_seconds_bucket"


def build() -> model.Dashboard:
    success = rate_sum("store_checkouts_total", sel(JOB, 'result="success"'))
    business = [
        graph(
            "Cart operations",
            "ops",
            Q(rate_sum("store_cart_operations_total", SERVICE, ["operation"]), "{{operation}}"),
            description="Cart operations per second by kind (get, add, update, remove, "
            "clear, checkout).",
            width=HALF,
            stacked=True,
        ),
        graph(
            "Checkouts by result",
            "ops",
            Q(rate_sum("store_checkouts_total", SERVICE, ["result"]), "{{result}}"),
            description="Checkouts per second: success, insufficient_stock, unavailable, "
            "error, replayed (same Idempotency-Key).",
            width=HALF,
            stacked=True,
        ),
        graph(
            "Checkout duration",
            "s",
            Q(quantile(0.5, CHECKOUT_BUCKET, SERVICE), "P50"),
            Q(quantile(0.95, CHECKOUT_BUCKET, SERVICE), "P95"),
            Q(quantile(0.99, CHECKOUT_BUCKET, SERVICE), "P99"),
            description="End-to-end checkout saga duration (reserve stock, create order, "
            "clear cart).",
            width=HALF,
        ),
        graph(
            "Checkout success ratio",
            "percentunit",
            Q(ratio(success, rate_sum("store_checkouts_total", SERVICE)), "success"),
            description="Share of checkouts that created an order.",
            width=HALF,
        ),
    ]
    return service_dashboard(CART, "Cart and checkout", business)
