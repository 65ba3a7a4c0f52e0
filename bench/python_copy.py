# The Python bridge's copy per span (BENCHMARKS.md "The Python bridge"): time in the
# native `on_end` for a Python SDK span with 5 attributes, a loop calling it directly
# over the same ended spans, the pipeline running one plugin that does nothing.
# Usage: python bench/python_copy.py <path to libbench_noop.so> [count] [repeats]
# Prints the median (min-max) of the repeats, in ns per span.
import statistics
import sys
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import spanplug
from spanplug._native import SpanResource
from workload import emit

plugin = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 15

provider = TracerProvider(resource=Resource.create({"service.name": "bench"}), shutdown_on_exit=False)
tracer = provider.get_tracer("bench")
spans = [emit(tracer, i) for i in range(count)]
pipeline = spanplug.processors([f"{plugin}:noop"])[0]._pipeline
resource = SpanResource(spans[0].resource.attributes, spans[0].resource.schema_url)
on_end = pipeline.on_end
samples = []
for _ in range(repeats + 1):
    started = time.perf_counter_ns()
    for span in spans:
        on_end(span, resource)
    samples.append((time.perf_counter_ns() - started) / count)
samples = samples[1:]  # the first warms up
print(f"{statistics.median(samples):.0f} ({min(samples):.0f}-{max(samples):.0f}) ns per span")
pipeline.shutdown(1000)
