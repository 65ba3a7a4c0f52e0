# spanplug's Python package against the Python SDK's own processors.
# Usage: python bench/python_bridge.py <otlp base url> <spans dir> <count>
# Prints one JSON object, per configuration:
# - ns_per_span: creating and ending `count` spans with 5 attributes on a provider
#   with that processor (the application thread's time, including what a
#   processor's own Python thread takes from it through the GIL);
# - delivered_per_second: the same `count` ended spans handed to a fresh processor
#   as fast as the SDK would hand them, until force_flush returns.
import json
import os
import sys
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor

import spanplug
from workload import emit

endpoint, spans_dir, count = sys.argv[1], sys.argv[2], int(sys.argv[3])


def make_spans():
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}), shutdown_on_exit=False)
    tracer = provider.get_tracer("bench")
    return [emit(tracer, i) for i in range(count)]


def configurations():
    yield "none", None
    yield "python BatchSpanProcessor(OTLPSpanExporter)", lambda: BatchSpanProcessor(
        OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"), max_queue_size=count * 2
    )
    yield "spanplug otlp_http:otlp", lambda: spanplug.processors(
        ["otlp_http:otlp"], {"exporter_config": {"endpoint": endpoint, "max_queue_size": str(count * 2)}}
    )[0]
    out = open(os.path.join(spans_dir, "python.json"), "w")
    yield "python SimpleSpanProcessor(ConsoleSpanExporter)", lambda: SimpleSpanProcessor(ConsoleSpanExporter(out=out))
    yield "spanplug console_file", lambda: spanplug.processors(
        ["console_file:default_tracing_exporter"], {"exporter_config": {"log_dir": spans_dir}}
    )[0]


def app_thread(processor):
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}), shutdown_on_exit=False)
    if processor is not None:
        provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench")
    started = time.perf_counter_ns()
    for i in range(count):
        emit(tracer, i)
    elapsed = time.perf_counter_ns() - started
    provider.shutdown()
    return elapsed / count


def delivery(processor, spans):
    started = time.perf_counter_ns()
    for span in spans:
        processor.on_start(span, None)
        processor.on_end(span)
    processor.force_flush()
    delivered = time.perf_counter_ns() - started
    processor.shutdown()
    return len(spans) / (delivered / 1e9)


spans = make_spans()
results = {}
for name, make in configurations():
    if make is None:
        app_thread(None)  # warm up
        results[name] = {"ns_per_span": app_thread(None)}
        continue
    delivery(make(), spans[: max(1, count // 10)])  # warm up: caches, first connection
    results[name] = {"ns_per_span": app_thread(make()), "delivered_per_second": delivery(make(), spans)}
print(json.dumps(results))
