"""Two Serve deployments, one calling the other through a handle, behind Ray's
HTTP proxy on 127.0.0.1; prints the answers and the session's logs folder."""

import sys
import time
import urllib.request

import ray
from ray import serve

port, trace_id, parent, state = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]


@serve.deployment
class Model:
    def __call__(self, text: str) -> str:
        return f"model saw {text!r}"


@serve.deployment
class Ingress:
    def __init__(self, model) -> None:
        self.model = model

    async def __call__(self, request) -> str:
        text = request.query_params.get("text", "")
        return await self.model.remote(text)


ray.init(num_cpus=2, include_dashboard=False)
serve.start(http_options={"host": "127.0.0.1", "port": int(port)})
serve.run(Ingress.bind(Model.bind()), name="default", route_prefix="/")
answers = []
for text in ("hi", "hi%20again"):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/?text={text}",
        headers={"traceparent": f"00-{trace_id}-{parent}-01", "tracestate": state},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answers.append(response.read().decode())
logs_dir = ray._private.worker._global_node.get_logs_dir_path()
# Serve kills its proxy and replicas (no atexit there): give their exporters, which
# batch every OTEL_BSP_SCHEDULE_DELAY (200 ms here), time to send first.
time.sleep(3)
serve.shutdown()
ray.shutdown()
print("answers: " + ", ".join(answers))
print(logs_dir)
