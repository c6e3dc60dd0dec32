"""The benchmark's OTLP receiver takes a real exporter's batch and counts it."""

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from backend.scripts.bench.otlp_sink import OtlpSink


def test_an_exported_span_is_counted() -> None:
    sink = OtlpSink().start()
    try:
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{sink.endpoint}/v1/traces")))
        with provider.get_tracer("bench-test").start_as_current_span("one"):
            pass
        provider.shutdown()
    finally:
        sink.stop()
    assert sink.exports == 1
    assert sink.bytes > 0


def test_a_sink_never_started_stops_cleanly() -> None:
    sink = OtlpSink()
    sink.stop()
    assert sink.exports == 0
