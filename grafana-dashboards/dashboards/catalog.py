"""Product Store / Catalog: browsing traffic, product views and stock reservations."""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import HALF, Q, by_label, graph
from dashboards.promql import rate_sum
from dashboards.service import SERVICE, Service, service_dashboard

CATALOG = Service(
    name="catalog",
    title="Catalog",
    description="Products, categories and stock: HTTP, product views, stock reservations "
    "(Cassandra LWT) and Cassandra client latency.",
    identity_metric="store_product_views_total",
    calls_upstreams=False,
)


def build() -> model.Dashboard:
    business = [
        graph(
            "Product views",
            "ops",
            Q(rate_sum("store_product_views_total", SERVICE), "views/s"),
            description="Product detail views (GET /products/{id}) per second.",
            width=HALF,
        ),
        by_label(
            "Stock reservations by result",
            "ops",
            "store_stock_reservations_total",
            SERVICE,
            "result",
            description="Reservation operations per second: reserved, insufficient, "
            "idempotent (replayed), released, committed.",
        ),
    ]
    return service_dashboard(CATALOG, "Products and stock", business)
