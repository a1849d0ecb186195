"""OpenTelemetry tracing: OTLP over HTTP to Jaeger; nothing is set up without an endpoint."""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.cassandra import CassandraInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_provider: TracerProvider | None = None


def setup_tracing(app: FastAPI, service_name: str, endpoint: str | None) -> bool:
    """Instrument FastAPI, httpx and Cassandra once per process; False when tracing is off."""
    global _provider
    if not endpoint:
        return False
    if _provider is None:
        _provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
        exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")
        _provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(_provider)
        HTTPXClientInstrumentor().instrument()
        CassandraInstrumentor().instrument()
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls="/metrics,/health/.*"
    )
    return True


def shutdown_tracing() -> None:
    if _provider is not None:
        _provider.force_flush()


tracer = trace.get_tracer("product-store")
