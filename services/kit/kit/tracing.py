"""OpenTelemetry tracing: OTLP over HTTP to Jaeger; nothing is set up without an endpoint.

What it costs is kept small (docs/performance.md measures it): one server span per request
(no per-message `http send`/`http receive` spans), one span per Cassandra query (kit's own
in kit.cassandra, over the whole round trip; the driver instrumentation would add a second),
spans exported in batches from a background thread, no query spans under a request that
sampling dropped. Sampling and batching follow the standard variables, read by the SDK:
OTEL_TRACES_SAMPLER=parentbased_traceidratio with OTEL_TRACES_SAMPLER_ARG=0.1 keeps one
trace in ten (default: every trace), OTEL_BSP_* tune the batches.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(app: FastAPI, service_name: str, endpoint: str | None) -> bool:
    """Instrument FastAPI and httpx (Cassandra: kit.cassandra) once; False when tracing is off."""
    global _provider
    if not endpoint:
        return False
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
        _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)
        HTTPXClientInstrumentor().instrument()
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=_provider,
        excluded_urls="/metrics,/health/.*",
        exclude_spans=["receive", "send"],
    )
    return True


def enabled() -> bool:
    """Whether this process traces (callers skip building spans that would be no-ops)."""
    return _provider is not None


def sampled(span: trace.Span) -> bool:
    """Whether work under `span` (the current one) is worth spans of its own: not when it
    belongs to a request that sampling dropped, whose children would be built only to be
    dropped too. Work outside any request (no valid span) starts traces of its own."""
    return span.is_recording() or not span.get_span_context().is_valid


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()


tracer = trace.get_tracer("product-store")
