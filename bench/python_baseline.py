# The Python OpenTelemetry SDK on the benchmark's workload: spans with 5 attributes
# and 1 event. Usage: python bench/python_baseline.py file <path> <count> | otlp <url> <count>
# Prints spans per second (for otlp: until every span is exported, via force_flush).
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor
from workload import emit

mode, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
if mode == "file":
    out = open(target, "w")
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=out)))
else:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=target),
            max_queue_size=count * 2,
            max_export_batch_size=512,
            schedule_delay_millis=100,
        )
    )
tracer = provider.get_tracer("bench")

started = time.perf_counter()
for i in range(count):
    emit(tracer, i, event=True)
provider.force_flush()
elapsed = time.perf_counter() - started
provider.shutdown()
if mode == "file":
    out.close()
print(count / elapsed)
