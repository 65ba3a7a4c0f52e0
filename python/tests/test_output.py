"""What reaches the outputs: console_file byte for byte as Python's
ConsoleSpanExporter, OTLP as opentelemetry-proto decodes it."""

import io
import math

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState

import spanplug
from conftest import span_files


def emit_every_kind_of_span(tracer: trace.Tracer) -> None:
    """Every attribute kind, events, links with state, each span kind, statuses."""
    remote = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "opaque"), ("other", "x")]),
    )
    parent_context = trace.set_span_in_context(trace.NonRecordingSpan(remote))
    with tracer.start_as_current_span(
        "GET /items", context=parent_context, kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "GET", "http.response.status_code": 200, "ratio": 0.25,
            "flag": True, "tags": ("a", "b"), "ints": (1, 2, 3), "floats": (1.5, -0.0),
            "bools": (True, False), "quote\"and\\slash": "line\nbreak \u00e9 \u2603",
            "nan": math.nan, "inf": math.inf, "empty": "",
        },
        links=[Link(remote, {"link.kind": "follows"})],
    ) as span:
        span.add_event("cache.miss", {"key": "items:1", "size": 3})
        span.add_event("no attributes")
        for kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.INTERNAL):
            with tracer.start_as_current_span(f"child {kind.name}", kind=kind) as child:
                child.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span("fails") as failing:
            failing.set_status(Status(StatusCode.ERROR, "database said no"))


def test_console_file_writes_the_bytes_pythons_console_exporter_writes(private_dir):
    python_output = io.StringIO()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=python_output)))
    for processor in spanplug.processors(
        ["console_file:default_tracing_exporter"], {"exporter_config": {"log_dir": str(private_dir)}}
    ):
        provider.add_span_processor(processor)
    emit_every_kind_of_span(provider.get_tracer("equivalence"))
    provider.shutdown()

    (file,) = span_files(private_dir)
    expected = python_output.getvalue()
    assert expected.count("\"kind\"") == 6, "the spans were emitted"
    assert file.read_text() == expected


def test_ray_file_names_are_used_as_given(private_dir):
    (processor,) = spanplug.processors(
        ["console_file:default_tracing_exporter"],
        exporter_defaults={"log_dir": str(private_dir), "file_name": "replica_app_Model_abc123_tracing.json"},
    )
    processor.shutdown()
    assert [p.name for p in span_files(private_dir)] == ["replica_app_Model_abc123_tracing.json"]


def test_otlp_http_delivers_what_opentelemetry_proto_decodes(receiver, provider_with):
    provider = provider_with(["otlp_http:otlp"], {"exporter_config": {"endpoint": receiver.endpoint}})
    emit_every_kind_of_span(provider.get_tracer("otlp"))
    provider.force_flush()
    spans = receiver.wait_for(6)
    by_name = {span.name: (resource, span) for resource, span in spans}
    assert len(spans) == 6
    resource, server = by_name["GET /items"]
    resource_attributes = {kv.key: kv.value for kv in resource.attributes}
    assert resource_attributes["telemetry.sdk.language"].string_value == "python"
    assert resource_attributes["service.name"].string_value.startswith("unknown_service")
    assert server.trace_id.hex() == "0af7651916cd43dd8448eb211c80319c"
    assert server.parent_span_id.hex() == "b7ad6b7169203331"
    assert server.kind == server.SPAN_KIND_SERVER
    attributes = {kv.key: kv.value for kv in server.attributes}
    assert attributes["http.response.status_code"].int_value == 200
    assert attributes["ratio"].double_value == 0.25
    assert [v.string_value for v in attributes["tags"].array_value.values] == ["a", "b"]
    assert server.trace_state == "vendor=opaque,other=x", "the incoming tracestate is kept"
    assert server.links[0].trace_state == "vendor=opaque,other=x"
    assert [e.name for e in server.events] == ["cache.miss", "no attributes"]
    _, failing = by_name["fails"]
    assert failing.status.code == failing.status.STATUS_CODE_ERROR
    assert failing.status.message == "database said no"
    assert failing.parent_span_id == server.span_id


def test_values_python_allows_are_converted_as_its_exporters_convert_them(receiver, provider_with):
    provider = provider_with(["otlp_http:otlp"], {"exporter_config": {"endpoint": receiver.endpoint}})
    span = provider.get_tracer("values").start_span("values")
    span.set_attribute("as_list", ["x", "y"])
    span.set_attribute("huge", 2**70)  # beyond 64 bits: left out, and counted
    span.end()
    provider.force_flush()
    ((_, received),) = receiver.wait_for(1)
    attributes = {kv.key: kv.value for kv in received.attributes}
    assert [v.string_value for v in attributes["as_list"].array_value.values] == ["x", "y"]
    assert "huge" not in attributes


def test_self_metrics_from_a_processors_pipeline_reach_a_receiver(receiver, provider_with):
    """spanplug's own otel.sdk.* metrics, from the same Rust code a Rust service runs:
    the exporter's figures for the spans it delivered, sent at shutdown."""
    provider = provider_with(
        ["otlp_http:otlp"],
        {
            "exporter_config": {"endpoint": receiver.endpoint, "schedule_delay": 20},
            "self_metrics": {"endpoint": receiver.endpoint + "/v1/metrics"},
        },
    )
    tracer = provider.get_tracer("self-metrics")
    for i in range(5):
        with tracer.start_as_current_span(f"span-{i}"):
            pass
    provider.shutdown()

    component = "otel.component.name=otlp_http:otlp/0"
    exported = receiver.sum_points("otel.sdk.exporter.span.exported")
    delivered = [
        value for attributes, value in exported.items()
        if component in attributes and "otel.component.type=otlp_http_span_exporter" in attributes
        and not any(a.startswith("error.type=") for a in attributes)
    ]
    assert delivered == [5], exported
    processed = receiver.sum_points("otel.sdk.processor.span.processed")
    assert processed[(component, "otel.component.type=batching_span_processor")] == 5, processed
