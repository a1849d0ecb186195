"""Which work gets spans of its own (kit.tracing.sampled), on real SDK spans."""

from __future__ import annotations

from kit.tracing import sampled
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON


def test_queries_get_spans_under_a_sampled_request_only() -> None:
    kept = TracerProvider(sampler=ALWAYS_ON).get_tracer("test")
    dropped = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    with kept.start_as_current_span("request") as span:
        assert sampled(span) and sampled(trace.get_current_span())
    with dropped.start_as_current_span("request") as span:
        assert not span.is_recording() and span.get_span_context().is_valid
        assert not sampled(span)
    # Outside any request (a worker's own loop): a trace of its own.
    assert sampled(trace.get_current_span()) and sampled(trace.INVALID_SPAN)
