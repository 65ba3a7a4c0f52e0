# Ray Serve request latency with a tracing exporter. Usage:
#   python -c <this> <exporter import path> <port> <requests>
# Starts a local Ray cluster with RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH set to the
# given entry point (sampling 1.0), two deployments (one calling the other through a
# handle), sends the requests one after another after a warm-up, prints the
# latencies in microseconds as JSON.
import json
import os
import sys
import time
import urllib.request

exporter, port, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.environ["RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH"] = exporter
os.environ["RAY_SERVE_TRACING_SAMPLING_RATIO"] = "1.0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

import ray  # noqa: E402  (Ray reads the variables at import)
from ray import serve  # noqa: E402


@serve.deployment
class Model:
    def __call__(self, text: str) -> str:
        return text.upper()


@serve.deployment
class Ingress:
    def __init__(self, model) -> None:
        self.model = model

    async def __call__(self, request) -> str:
        return await self.model.remote(request.query_params.get("text", ""))


ray.init(num_cpus=2, include_dashboard=False)
serve.start(http_options={"host": "127.0.0.1", "port": port})
serve.run(Ingress.bind(Model.bind()), name="default", route_prefix="/")
url = f"http://127.0.0.1:{port}/?text=hello"
for _ in range(max(10, requests // 10)):
    urllib.request.urlopen(url, timeout=60).read()
latencies = []
for _ in range(requests):
    started = time.perf_counter_ns()
    urllib.request.urlopen(url, timeout=60).read()
    latencies.append((time.perf_counter_ns() - started) / 1000)
serve.shutdown()
ray.shutdown()
print(json.dumps(latencies))
