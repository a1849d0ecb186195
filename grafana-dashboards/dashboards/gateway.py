"""Product Store / Gateway: nginx in front of the four services.

prometheus-nginx-exporter reads ``stub_status``, which has no per-status or per-location
counters; the per-service breakdown therefore comes from the services' own HTTP metrics.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import (
    GREEN,
    HALF,
    RED,
    THIRD,
    Q,
    alert_steps,
    by_label,
    graph,
    single_stat,
    states,
    value_text,
)
from dashboards.layout import add_row, finalize, label_variable, new_dashboard
from dashboards.promql import rate_sum, ratio, sel

NGINX = sel('job=~"$job"')
UP = {0: ("down", RED), 1: ("up", GREEN)}


def build() -> model.Dashboard:
    dash = new_dashboard(
        "store-gateway",
        "Product Store / Gateway",
        ["gateway", "nginx"],
        "nginx gateway (prometheus-nginx-exporter, stub_status): availability, request rate, "
        "connections; plus the per-service traffic behind it.",
    )
    dash.with_variable(
        label_variable(
            "job",
            "Job",
            "label_values(nginx_up, job)",
            multi=True,
            description="Prometheus job(s) of the nginx exporter.",
        )
    )
    accepted = rate_sum("nginx_connections_accepted", NGINX)
    handled = rate_sum("nginx_connections_handled", NGINX)
    add_row(
        dash,
        "Overview",
        [
            single_stat(
                "nginx up",
                "none",
                Q(f"min(nginx_up{NGINX})"),
                description="1 when the exporter can read nginx's stub_status.",
                steps=((None, RED), (1, GREEN)),
                mappings=value_text(UP),
            ),
            single_stat(
                "Request rate",
                "reqps",
                Q(rate_sum("nginx_http_requests_total", NGINX)),
                description="Requests per second handled by nginx (all locations).",
            ),
            single_stat(
                "Active connections",
                "short",
                Q(f"sum(nginx_connections_active{NGINX})"),
                description="Open client connections, including idle keep-alive ones.",
            ),
            single_stat(
                "Dropped connections",
                "cps",
                Q(f"{accepted} - {handled}"),
                description="Accepted minus handled connections per second; above 0 means "
                "nginx hit a resource limit (worker_connections).",
                steps=alert_steps(orange=0.001, red=1),
            ),
        ],
    )
    add_row(
        dash,
        "Traffic",
        [
            by_label(
                "Request rate",
                "reqps",
                "nginx_http_requests_total",
                NGINX,
                "instance",
                description="Requests per second per nginx instance.",
                stacked=False,
            ),
            graph(
                "Requests per connection",
                "short",
                Q(
                    f"{rate_sum('nginx_http_requests_total', NGINX)} / {accepted}",
                    "requests / connection",
                ),
                description="Keep-alive reuse: requests served per accepted connection.",
            ),
            graph(
                "Connections by state",
                "short",
                Q(f"sum(nginx_connections_reading{NGINX})", "reading"),
                Q(f"sum(nginx_connections_writing{NGINX})", "writing"),
                Q(f"sum(nginx_connections_waiting{NGINX})", "waiting (keep-alive)"),
                description="Connections reading a request, writing a response, or idle.",
                stacked=True,
                width=THIRD,
            ),
            graph(
                "Connections accepted vs handled",
                "cps",
                Q(accepted, "accepted"),
                Q(handled, "handled"),
                description="New connections per second; the lines diverge when nginx drops "
                "connections.",
                width=THIRD,
            ),
            states(
                "nginx availability",
                Q(f"min by (instance) (nginx_up{NGINX})", "{{instance}}"),
                description="stub_status reachable (up) or not (down) per instance.",
                mapping=UP,
                width=THIRD,
            ),
        ],
    )
    http = "http_requests_total"
    add_row(
        dash,
        "Behind the gateway",
        [
            by_label(
                "Backend request rate by service",
                "reqps",
                http,
                "",
                "job",
                description="Requests per second reaching each service (from the services' "
                "own metrics: stub_status has no per-location counters).",
            ),
            graph(
                "Backend 5xx ratio by service",
                "percentunit",
                Q(
                    ratio(
                        rate_sum(http, sel('status="5xx"'), ["job"]),
                        rate_sum(http, "", ["job"]),
                        ["job"],
                    ),
                    "{{job}}",
                ),
                description="Share of 5xx responses per service; nginx answers 502/504 "
                "itself when a service is down.",
                width=HALF,
            ),
        ],
    )
    return finalize(dash)
