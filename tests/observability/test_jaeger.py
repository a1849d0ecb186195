"""Jaeger v2 (built from the Go module proxy) receives an OTLP span and serves it back."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from devstack import observability as obs
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def test_otlp_span_is_found_through_the_query_api(jaeger_ports: obs.Config) -> None:
    service = f"store-test-{secrets.token_hex(4)}"
    trace_id, now = secrets.token_hex(16), time.time_ns()
    span = {
        "traceId": trace_id,
        "spanId": secrets.token_hex(8),
        "name": "checkout.reserve_stock",
        "kind": 2,
        "startTimeUnixNano": str(now - 5_000_000),
        "endTimeUnixNano": str(now),
        "attributes": [{"key": "order.id", "value": {"stringValue": "o-1"}}],
    }
    payload = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                },
                "scopeSpans": [{"scope": {"name": "tests"}, "spans": [span]}],
            }
        ]
    }
    sent = httpx.post(f"{jaeger_ports.url('jaeger_otlp_http')}/v1/traces", json=payload)
    assert sent.status_code == 200, sent.text

    query = f"{jaeger_ports.url('jaeger_ui')}/api/traces"

    def found() -> list[dict[str, object]]:
        response = httpx.get(query, params={"service": service, "lookback": "1h"})
        return list(response.json().get("data") or []) if response.status_code == 200 else []

    traces = wait_for(f"trace of {service} in Jaeger", found, timeout=30)
    assert traces[0]["traceID"] == trace_id
    spans = traces[0]["spans"]
    assert isinstance(spans, list) and spans[0]["operationName"] == "checkout.reserve_stock"


def test_jaeger_exposes_its_own_metrics(jaeger_ports: obs.Config) -> None:
    metrics = httpx.get(f"{jaeger_ports.url('jaeger_metrics')}/metrics")
    assert metrics.status_code == 200 and "otelcol_" in metrics.text
    ui = httpx.get(f"{jaeger_ports.url('jaeger_ui')}/")
    assert ui.status_code == 200
