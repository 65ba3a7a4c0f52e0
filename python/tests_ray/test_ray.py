"""Real Ray: Ray Serve with `RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH=spanplug.ray:processors`,
and Ray core with `_tracing_startup_hook="spanplug.ray:setup_tracing"`.

Ray reads `RAY_SERVE_TRACING_*` when it is imported, in every process, so the
variables are set before anything imports Ray; each test starts and stops its own
local cluster.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from otlp_receiver import receiver  # noqa: E402,F401 (a fixture)

INCOMING_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING_PARENT = "00f067aa0ba902b7"
INCOMING_STATE = "vendor=opaque"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_processes() -> list:
    """Ray's own processes still running (raylet, GCS, workers)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if ("raylet" in line or "gcs_server" in line or "ray::" in line)]


@pytest.fixture
def ray_env(receiver, monkeypatch):
    for name in list(os.environ):
        if name.startswith(("SPANPLUG_", "OTEL_", "RAY_SERVE_TRACING_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "200")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    yield receiver
    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True, timeout=120)


CHAIN = "context_enricher:serve_context,console_file:default_tracing_exporter,otlp_http:otlp"


def run_serve_app(monkeypatch, exporter_import_path: str) -> Path:
    """Runs the two-deployment app with this exporter entry point and spanplug's
    chain; returns the session's logs folder."""
    monkeypatch.setenv("RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH", exporter_import_path)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    monkeypatch.setenv("RAY_SERVE_TRACING_SAMPLING_RATIO", "1.0")
    monkeypatch.setenv("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH", CHAIN)
    port = free_port()
    script = Path(__file__).with_name("serve_app.py")
    result = subprocess.run(
        [sys.executable, str(script), str(port), INCOMING_TRACE_ID, INCOMING_PARENT, INCOMING_STATE],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answers, logs_dir = result.stdout.strip().splitlines()[-2:]
    assert answers == "answers: model saw 'hi', model saw 'hi again'"
    return Path(logs_dir)


def test_ray_serve_spans_from_proxy_and_replicas_reach_the_plugins(ray_env, monkeypatch):
    receiver = ray_env
    logs_dir = run_serve_app(monkeypatch, "spanplug.ray:processors")
    spans = receiver.wait_for(6, timeout=60)
    # Let late exporters arrive (each process exports on its own schedule).
    time.sleep(2)
    spans = receiver.spans()
    assert len(spans) >= 6, [s.name for _, s in spans]

    def attrs(kvs):
        return {kv.key: kv.value.string_value or kv.value.int_value for kv in kvs}

    ours = [span for _, span in spans if span.trace_id.hex() == INCOMING_TRACE_ID]
    assert len(ours) >= 6, "every span continues the incoming trace"
    for span in ours:
        assert attrs(span.attributes).get("request_id"), f"{span.name} has no request_id"
        assert span.trace_state == INCOMING_STATE, f"{span.name} lost the tracestate"
    by_id = {span.span_id: span for span in ours}
    for span in ours:
        assert span.parent_span_id in by_id or span.parent_span_id.hex() == INCOMING_PARENT, span.name

    # Which process made a span: the proxy's carry no replica_id; each replica's
    # carry its own (context_enricher copies Ray's replica context).
    def process(span) -> str:
        return attrs(span.attributes).get("replica_id") or "proxy"

    proxy = [span for span in ours if span.name.startswith("proxy_")]
    assert proxy and all(process(span) == "proxy" for span in proxy)
    assert all(span.parent_span_id.hex() == INCOMING_PARENT for span in proxy)
    handled = {attrs(s.attributes)["deployment"]: process(s) for s in ours if s.name.startswith("replica_handle_request")}
    assert set(handled) == {"Ingress", "Model"}
    assert len({handled["Ingress"], handled["Model"], "proxy"}) == 3, "three processes"
    crossings = [
        span for span in ours if span.parent_span_id in by_id and process(by_id[span.parent_span_id]) != process(span)
    ]
    assert {process(span) for span in crossings} == {handled["Ingress"], handled["Model"]}, "parents link across processes"

    # console_file wrote Ray's files, under Ray's names, in Ray's spans folder.
    names = sorted(p.name for p in (logs_dir / "serve" / "spans").iterdir())
    assert any(n.startswith("proxy_") and n.endswith("_tracing.json") for n in names), names
    assert any(n.startswith("replica_default_Model_") and n.endswith("_tracing.json") for n in names), names
    assert any(n.startswith("replica_default_Ingress_") and n.endswith("_tracing.json") for n in names), names

    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True, timeout=120)
    deadline = time.monotonic() + 30
    while ray_processes() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert ray_processes() == [], "ray stop leaves nothing running"


def test_ray_serve_with_otel_config_file_takes_the_file_alone(ray_env, monkeypatch, tmp_path):
    # OTEL_CONFIG_FILE is the whole configuration in every Serve process: the chain
    # run_serve_app sets in SPANPLUG_TRACING_EXPORTER_IMPORT_PATH and the
    # OTEL_EXPORTER_OTLP_ENDPOINT of ray_env do not apply; the file's processors do.
    receiver = ray_env
    config = tmp_path / "otel.yaml"
    config.write_text(
        'file_format: "1.1"\n'
        "tracer_provider:\n"
        "  processors:\n"
        '    - "context_enricher:serve_context":\n'
        "    - batch:\n"
        "        schedule_delay: 200\n"
        "        exporter:\n"
        "          otlp_http:\n"
        "            endpoint: ${SPANPLUG_TEST_OTLP_TRACES}\n"
    )
    monkeypatch.setenv("OTEL_CONFIG_FILE", str(config))
    monkeypatch.setenv("SPANPLUG_TEST_OTLP_TRACES", receiver.endpoint.rstrip("/") + "/v1/traces")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    logs_dir = run_serve_app(monkeypatch, "spanplug.ray:processors")
    receiver.wait_for(6, timeout=60)
    time.sleep(2)
    ours = [span for _, span in receiver.spans() if span.trace_id.hex() == INCOMING_TRACE_ID]
    assert len(ours) >= 6, [span.name for _, span in receiver.spans()]
    for span in ours:
        keys = {kv.key for kv in span.attributes}
        assert "request_id" in keys, f"{span.name} has no request_id"
    # No console_file: the chain of SPANPLUG_TRACING_EXPORTER_IMPORT_PATH was not loaded.
    spans_dir = logs_dir / "serve" / "spans"
    assert not spans_dir.exists() or not any(p.name.startswith(("proxy_", "replica_")) for p in spans_dir.iterdir())


def test_span_files_are_the_bytes_rays_default_exporter_writes(ray_env, monkeypatch):
    # spanplug.ray:processors and Ray's own default exporter, over the same spans
    # in every process (both_exporters.py), each writing its own file.
    logs_dir = run_serve_app(monkeypatch, "both_exporters:processors")
    span_dir = logs_dir / "serve" / "spans"
    names = sorted(p.name for p in span_dir.iterdir())
    ours = [n for n in names if not n.startswith("ray_")]
    assert len(ours) == 3, names
    for name in ours:
        written = (span_dir / name).read_bytes()
        assert written.count(b'"trace_id"') >= 2, name
        assert written == (span_dir / f"ray_{name}").read_bytes(), f"{name} differs from Ray's own file"


def test_ray_core_setup_tracing_traces_a_remote_task(ray_env, monkeypatch):
    receiver = ray_env
    monkeypatch.setenv("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH", "otlp_http:otlp")
    script = Path(__file__).with_name("core_task.py")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    spans = receiver.wait_for(2, timeout=60)
    names = [span.name for _, span in spans]
    assert any("my_function" in name for name in names), names


def test_a_module_level_tracer_deploys_and_traces_with_both_hooks(ray_env, monkeypatch):
    # Ray core's hook and Serve's exporter both spanplug's; `tracer` is a module
    # global of `__main__`, which Ray pickles by value with the task and the
    # deployments (it failed with "cannot pickle '_thread.lock'", Ray issue 57803).
    receiver = ray_env
    monkeypatch.setenv("RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH", "spanplug.ray:processors")
    monkeypatch.setenv("RAY_SERVE_TRACING_SAMPLING_RATIO", "1.0")
    monkeypatch.setenv("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH", CHAIN)
    script = Path(__file__).with_name("module_tracer_app.py")
    result = subprocess.run(
        [sys.executable, str(script), str(free_port()), INCOMING_TRACE_ID, INCOMING_PARENT],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answer, driver_trace, logs_dir = result.stdout.strip().splitlines()[-3:]
    assert answer == "answer: model saw 'hi'"
    receiver.wait_for(12, timeout=60)
    time.sleep(2)  # late exporters
    spans = [span for _, span in receiver.spans()]
    by_id = {span.span_id: span for span in spans}
    assert len(by_id) == len(spans), "each span is exported once (the hook's processors and Serve's are one set)"
    named = {}
    for span in spans:
        named.setdefault(span.name, []).append(span)

    def only(name):
        assert len(named.get(name, [])) == 1, (name, sorted(named))
        return named[name][0]

    def ancestors(span):
        names = []
        while span.parent_span_id in by_id:
            span = by_id[span.parent_span_id]
            names.append(span.name)
        return names

    task = only("task work")
    assert task.trace_id.hex() == driver_trace
    assert ancestors(task) == ["__main__.add_one ray.remote_worker", "__main__.add_one ray.remote", "driver"]

    ingress, model = only("ingress work"), only("model work")
    for work, deployment in ((ingress, "Ingress"), (model, "Model")):
        assert work.trace_id.hex() == INCOMING_TRACE_ID
        assert {kv.key: kv.value.string_value for kv in work.attributes}["deployment"] == deployment
    assert ancestors(ingress) == [
        "replica_handle_request Ingress __call__", "route_to_replica Ingress __call__", "proxy_http_request Ingress GET /",
    ]
    assert ancestors(model) == [
        "replica_handle_request Model __call__", "route_to_replica Model __call__", "ingress work",
    ] + ancestors(ingress)
    assert by_id[only("proxy_http_request Ingress GET /").span_id].parent_span_id.hex() == INCOMING_PARENT

    # Serve's processes wrote Ray's files with Serve's settings, not the hook's.
    span_dir = Path(logs_dir) / "serve" / "spans"
    for deployment, work in (("Ingress", "ingress work"), ("Model", "model work")):
        (file,) = span_dir.glob(f"replica_default_{deployment}_*_tracing.json")
        assert f'"name": "{work}"' in file.read_text(), file
