"""Product Store / Tracing: RED metrics derived from spans.

Jaeger v2 (an OpenTelemetry Collector) runs the spanmetrics connector and exposes
``traces_span_metrics_calls_total{service_name,span_name,span_kind,status_code}`` and
``traces_span_metrics_duration_milliseconds_bucket{...}`` (names checked against Jaeger
v2.13.0 with devstack/jaeger/config.yaml). Milliseconds is the connector's default unit
today; upstream plans to switch the default to seconds, which would rename the histogram,
so ``histogram.unit: ms`` in the connector config keeps it stable. The exporter also
attaches ``job=<service.name>`` (it becomes ``exported_job`` unless honor_labels), so no
panel here filters on ``job``.
"""

from __future__ import annotations

from grafana_foundation_sdk.models import dashboard as model

from dashboards.common import (
    HALF,
    QUARTER,
    Q,
    alert_steps,
    by_label,
    graph,
    single_stat,
)
from dashboards.layout import add_row, finalize, label_variable, new_dashboard
from dashboards.promql import quantile, rate_sum, ratio, sel

CALLS = "traces_span_metrics_calls_total"
DURATION_BUCKET = "traces_span_metrics_duration_milliseconds_bucket"
SERVICES = 'service_name=~"$service"'
ERROR = 'status_code="STATUS_CODE_ERROR"'
SERVER = 'span_kind="SPAN_KIND_SERVER"'
ALL_SPANS = sel(SERVICES)


def build() -> model.Dashboard:
    dash = new_dashboard(
        "store-tracing",
        "Product Store / Tracing",
        ["tracing", "jaeger"],
        "Span metrics from Jaeger (OpenTelemetry spanmetrics connector): span rate, error "
        "ratio and latency per service and operation. Open Jaeger for the traces themselves.",
    )
    dash.with_variable(
        label_variable(
            "service",
            "Service",
            f"label_values({CALLS}, service_name)",
            multi=True,
            description="Services (OpenTelemetry service.name) to include.",
        )
    )
    spans_by_service = rate_sum(CALLS, ALL_SPANS, ["service_name"])
    errors_by_service = rate_sum(CALLS, sel(SERVICES, ERROR), ["service_name"])
    add_row(
        dash,
        "Overview",
        [
            single_stat(
                "Span rate",
                "ops",
                Q(rate_sum(CALLS, ALL_SPANS)),
                description="Spans per second recorded for the selected services.",
                width=QUARTER,
            ),
            single_stat(
                "Span error ratio",
                "percentunit",
                Q(ratio(rate_sum(CALLS, sel(SERVICES, ERROR)), rate_sum(CALLS, ALL_SPANS))),
                description="Share of spans with status ERROR.",
                steps=alert_steps(orange=0.01, red=0.05),
                width=QUARTER,
                decimals=2,
            ),
            single_stat(
                "Server span P95",
                "ms",
                Q(quantile(0.95, DURATION_BUCKET, sel(SERVICES, SERVER))),
                description="95th percentile duration of server (request-handling) spans.",
                steps=alert_steps(orange=250, red=500),
                width=QUARTER,
            ),
            single_stat(
                "Services reporting",
                "short",
                Q(f"count(count by (service_name) ({CALLS}{ALL_SPANS}))"),
                description="Services that sent spans (within the last staleness window).",
                width=QUARTER,
            ),
        ],
    )
    add_row(
        dash,
        "Per service",
        [
            graph(
                "Span rate by service",
                "ops",
                Q(spans_by_service, "{{service_name}}"),
                description="Spans per second per service (all span kinds).",
                stacked=True,
            ),
            graph(
                "Span error ratio by service",
                "percentunit",
                Q(ratio(errors_by_service, spans_by_service, ["service_name"]), "{{service_name}}"),
                description="Share of spans with status ERROR per service "
                '(status_code="STATUS_CODE_ERROR").',
            ),
            graph(
                "Server span P95 latency by service",
                "ms",
                Q(
                    quantile(0.95, DURATION_BUCKET, sel(SERVICES, SERVER), ["service_name"]),
                    "{{service_name}}",
                ),
                description="95th percentile duration of server spans (one per handled "
                "request) per service.",
            ),
            graph(
                "Span P99 latency by service",
                "ms",
                Q(
                    quantile(0.99, DURATION_BUCKET, ALL_SPANS, ["service_name"]),
                    "{{service_name}}",
                ),
                description="99th percentile duration of all spans per service.",
            ),
        ],
    )
    by_op = ["service_name", "span_name"]
    add_row(
        dash,
        "Per operation",
        [
            graph(
                "Slowest operations (P95)",
                "ms",
                Q(
                    f"topk(10, {quantile(0.95, DURATION_BUCKET, ALL_SPANS, by_op)})",
                    "{{service_name}}: {{span_name}}",
                ),
                description="Top 10 span names by 95th percentile duration (checkout steps, "
                "Cassandra queries, upstream calls…).",
                width=HALF,
            ),
            graph(
                "Busiest operations",
                "ops",
                Q(
                    f"topk(10, {rate_sum(CALLS, ALL_SPANS, by_op)})",
                    "{{service_name}}: {{span_name}}",
                ),
                description="Top 10 span names by rate.",
                width=HALF,
            ),
            graph(
                "Operations with errors",
                "ops",
                Q(
                    f"topk(10, {rate_sum(CALLS, sel(SERVICES, ERROR), by_op)})"
                    f" or {rate_sum(CALLS, sel(SERVICES, SERVER), ['service_name'])} * 0",
                    "{{service_name}}: {{span_name}}",
                ),
                description="Top 10 span names by error rate (a flat 0 per service when "
                "there are none).",
                width=HALF,
            ),
            by_label(
                "Span rate by kind",
                "ops",
                CALLS,
                ALL_SPANS,
                "span_kind",
                description="Spans per second by kind: server, client, internal, producer, "
                "consumer.",
            ),
        ],
    )
    return finalize(dash)
