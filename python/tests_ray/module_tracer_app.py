"""Ray core's hook and Ray Serve's exporter both set to spanplug, and the standard
module-level tracer used in a remote task and in two deployments (cloudpickle
takes it with the task's and the deployments' globals, as this is `__main__`).
Prints the answer, the driver span's trace id and the session's logs folder."""

import sys
import time
import urllib.request

from opentelemetry import trace

import ray
from ray import serve

tracer = trace.get_tracer(__name__)

port, trace_id, parent = sys.argv[1], sys.argv[2], sys.argv[3]


@ray.remote
def add_one(x: int) -> int:
    with tracer.start_as_current_span("task work"):
        return x + 1


@serve.deployment
class Model:
    def __call__(self, text: str) -> str:
        with tracer.start_as_current_span("model work"):
            return f"model saw {text!r}"


@serve.deployment
class Ingress:
    def __init__(self, model) -> None:
        self.model = model

    async def __call__(self, request) -> str:
        with tracer.start_as_current_span("ingress work"):
            return await self.model.remote(request.query_params.get("text", ""))


ray.init(num_cpus=2, include_dashboard=False, _tracing_startup_hook="spanplug.ray:setup_tracing")
with tracer.start_as_current_span("driver") as driver:
    assert ray.get(add_one.remote(1)) == 2
serve.start(http_options={"host": "127.0.0.1", "port": int(port)})
serve.run(Ingress.bind(Model.bind()), name="default", route_prefix="/")
request = urllib.request.Request(
    f"http://127.0.0.1:{port}/?text=hi", headers={"traceparent": f"00-{trace_id}-{parent}-01"}
)
with urllib.request.urlopen(request, timeout=60) as response:
    answer = response.read().decode()
logs_dir = ray._private.worker._global_node.get_logs_dir_path()
# Serve kills its proxy and replicas without atexit: let their exporters send first.
time.sleep(3)
serve.shutdown()
ray.shutdown()
print("answer: " + answer)
print(format(driver.get_span_context().trace_id, "032x"))
print(logs_dir)
