"""The panels every Product Store service shares, and the service dashboard layout.

catalog, cart, orders and users all run on ``kit``: the same HTTP histograms
(prometheus-fastapi-instrumentator), the same Cassandra client histogram and, where a
service calls others, the same upstream histogram and breaker gauge. Their dashboards are
this module plus a row of business panels each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import (
    GREEN,
    ORANGE,
    RED,
    THIRD,
    PanelBuilder,
    Q,
    alert_steps,
    by_label,
    graph,
    percentiles,
    single_stat,
    states,
)
from dashboards.layout import add_row, finalize, label_variable, new_dashboard
from dashboards.promql import quantile, rate_sum, ratio, sel

HTTP_BUCKET = "http_request_duration_seconds_bucket"
HTTP_TOTAL = "http_requests_total"
CASSANDRA_BUCKET = "store_cassandra_query_duration_seconds_bucket"
UPSTREAM_BUCKET = "store_upstream_request_duration_seconds_bucket"
BREAKER_STATE = "store_circuit_breaker_state"

JOB = 'job="$job"'
HANDLER = 'handler=~"$handler"'
SERVICE = sel(JOB)
ROUTES = sel(JOB, HANDLER)
ERRORS_5XX = sel(JOB, HANDLER, 'status="5xx"')

# Alert thresholds (DESIGN §4: P99 > 500 ms pages), mirrored as panel colours.
LATENCY_STEPS = alert_steps(orange=0.25, red=0.5)
ERROR_RATIO_STEPS = alert_steps(orange=0.01, red=0.05)

BREAKER_STATES = {0: ("closed", GREEN), 1: ("open", RED), 2: ("half-open", ORANGE)}


@dataclass(frozen=True)
class Service:
    """A kit-based service. ``name`` is its Prometheus job (and dashboard uid suffix)."""

    name: str
    title: str
    description: str
    # A metric only this service exports and that exists from start-up: the job variable
    # is discovered from it, so the dashboard works with any job naming (kube-prometheus
    # ServiceMonitors name jobs after the Service).
    identity_metric: str
    calls_upstreams: bool


# ---------------------------------------------------------------------------------------
# Shared panels
# ---------------------------------------------------------------------------------------


def overview_stats() -> list[PanelBuilder]:
    """Request rate, 5xx ratio, P99 latency, Cassandra P99: the four numbers that page."""
    return [
        single_stat(
            "Request rate",
            "reqps",
            Q(rate_sum(HTTP_TOTAL, ROUTES)),
            description="HTTP requests per second served (health and /metrics excluded).",
        ),
        single_stat(
            "5xx ratio",
            "percentunit",
            Q(ratio(rate_sum(HTTP_TOTAL, ERRORS_5XX), rate_sum(HTTP_TOTAL, ROUTES))),
            description="Share of responses with a 5xx status.",
            steps=ERROR_RATIO_STEPS,
            decimals=2,
        ),
        single_stat(
            "P99 latency",
            "s",
            Q(quantile(0.99, HTTP_BUCKET, ROUTES)),
            description="99th percentile HTTP latency over all selected routes.",
            steps=LATENCY_STEPS,
        ),
        single_stat(
            "Cassandra P99 query latency",
            "s",
            Q(quantile(0.99, CASSANDRA_BUCKET, SERVICE)),
            description="99th percentile Cassandra query latency as seen by the driver.",
            steps=alert_steps(orange=0.05, red=0.1),
        ),
    ]


def latency_by(
    q: float, bucket_metric: str, selector: str, label: str, title: str, what: str
) -> PanelBuilder:
    """One latency percentile per value of ``label``; ``{pct}`` in the texts is filled in."""
    pct = round(q * 100)
    return graph(
        title.format(pct=pct),
        "s",
        Q(quantile(q, bucket_metric, selector, [label]), f"{{{{{label}}}}}"),
        description=what.format(pct=pct),
        width=THIRD,
    )  # fmt: skip


def latency_by_route(q: float) -> PanelBuilder:
    return latency_by(
        q, HTTP_BUCKET, ROUTES, "handler", "P{pct} latency by route",
        "{pct}th percentile request duration per route template.",
    )  # fmt: skip


def share_of(metric: str, matcher: str) -> str:
    """The fraction of the service's ``metric`` rate whose series match ``matcher``."""
    return ratio(rate_sum(metric, sel(JOB, matcher)), rate_sum(metric, SERVICE))


def http_panels() -> list[PanelBuilder]:
    """Rate per route, 5xx ratio per route, responses by status class, P50/P95/P99."""
    per_route_5xx = ratio(
        rate_sum(HTTP_TOTAL, ERRORS_5XX, ["handler"]),
        rate_sum(HTTP_TOTAL, ROUTES, ["handler"]),
        ["handler"],
    )
    return [
        graph(
            "Request rate by route",
            "reqps",
            Q(rate_sum(HTTP_TOTAL, ROUTES, ["handler", "method"]), "{{method}} {{handler}}"),
            description="Requests per second per method and route template.",
        ),
        graph(
            "5xx ratio by route",
            "percentunit",
            Q(per_route_5xx, "{{handler}}"),
            description="Share of 5xx responses per route (0 where a route had none).",
        ),
        latency_by_route(0.5),
        latency_by_route(0.95),
        latency_by_route(0.99),
        by_label(
            "Responses by status class",
            "reqps",
            HTTP_TOTAL,
            ROUTES,
            "status",
            description="Responses per second grouped by status class (2xx, 4xx, 5xx).",
        ),
        percentiles(
            "Latency percentiles (all routes)",
            "s",
            HTTP_BUCKET,
            ROUTES,
            description="Service-wide P50/P95/P99 over the selected routes.",
        ),
    ]


def query_latency(q: float) -> PanelBuilder:
    return latency_by(
        q, CASSANDRA_BUCKET, SERVICE, "query", "Cassandra query P{pct} latency by query",
        "{pct}th percentile latency per repository query, measured by the service.",
    )  # fmt: skip


def cassandra_client_panels() -> list[PanelBuilder]:
    """Driver-side query latency and rate, per named query (repository statement)."""
    return [
        query_latency(0.95),
        query_latency(0.99),
        by_label(
            "Cassandra queries by query",
            "ops",
            "store_cassandra_query_duration_seconds_count",
            SERVICE,
            "query",
            description="Queries per second per repository query.",
            width=THIRD,
        ),
    ]


def upstream_panels() -> list[PanelBuilder]:
    """Calls to other services: latency, outcomes and circuit breaker state."""
    return [
        graph(
            "Upstream P95 latency",
            "s",
            Q(quantile(0.95, UPSTREAM_BUCKET, SERVICE, ["upstream"]), "{{upstream}}"),
            description="95th percentile latency of calls to each upstream service "
            "(retries included).",
            width=THIRD,
        ),
        graph(
            "Upstream calls by outcome",
            "reqps",
            Q(
                rate_sum(
                    "store_upstream_request_duration_seconds_count",
                    SERVICE,
                    ["upstream", "outcome"],
                ),
                "{{upstream}} {{outcome}}",
            ),
            description="Calls per second to each upstream, by outcome.",
            width=THIRD,
            stacked=True,
        ),
        states(
            "Circuit breaker state",
            Q(f"max by (upstream) ({BREAKER_STATE}{SERVICE})", "{{upstream}}"),
            description="Breaker per upstream: closed (calls flow), open (calls fail fast), "
            "half-open (probing).",
            mapping=BREAKER_STATES,
            width=THIRD,
        ),
    ]


# ---------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------


def service_dashboard(
    svc: Service, business_title: str, business: Sequence[PanelBuilder]
) -> model.Dashboard:
    """Overview → HTTP → business → Cassandra → upstreams (if the service calls any)."""
    dash = new_dashboard(
        f"store-{svc.name}",
        f"Product Store / {svc.title}",
        ["service", svc.name],
        svc.description,
    )
    dash.with_variable(
        label_variable(
            "job",
            "Job",
            f"label_values({svc.identity_metric}, job)",
            default=svc.name,
            description=f"Prometheus job of the {svc.name} service.",
        )
    )
    dash.with_variable(
        label_variable(
            "handler",
            "Route",
            f"label_values({HTTP_TOTAL}{SERVICE}, handler)",
            multi=True,
            description="Route templates to include in the HTTP panels.",
        )
    )
    add_row(dash, "Overview", overview_stats())
    add_row(dash, "HTTP", http_panels())
    add_row(dash, business_title, business)
    add_row(dash, "Cassandra (client side)", cassandra_client_panels())
    if svc.calls_upstreams:
        add_row(dash, "Upstream services", upstream_panels())
    return finalize(dash)
