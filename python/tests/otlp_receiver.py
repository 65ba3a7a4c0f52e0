"""A real OTLP/HTTP trace (and metrics) receiver on loopback that decodes with
opentelemetry-proto (shared by the package suite and the Ray suite)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

#: The most a receiver reads of one request body.
MAX_BODY = 16 * 1024 * 1024


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: every decoded span, with the
    request headers it came with."""

    def __init__(self) -> None:
        self.requests: List[ExportTraceServiceRequest] = []
        #: `/v1/metrics` requests, decoded.
        self.metrics: List[ExportMetricsServiceRequest] = []
        self.headers: List[Dict[str, str]] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = min(int(self.headers.get("content-length", "0")), MAX_BODY)
                body = self.rfile.read(length)
                if self.path == "/v1/metrics":
                    metrics = ExportMetricsServiceRequest()
                    metrics.ParseFromString(body)
                    with receiver._arrived:
                        receiver.metrics.append(metrics)
                else:
                    request = ExportTraceServiceRequest()
                    request.ParseFromString(body)
                    with receiver._arrived:
                        receiver.requests.append(request)
                        receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                        receiver._arrived.notify_all()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _spans(self) -> list:
        return [
            (resource_spans.resource, span)
            for request in self.requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]

    def spans(self) -> list:
        """(resource, span) for every span received so far."""
        with self._arrived:
            return self._spans()

    def wait_for(self, count: int, timeout: float = 20.0) -> list:
        """The spans once `count` have arrived, or all there are after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._spans()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._arrived.wait(left)
            return self._spans()

    def sum_points(self, name: str) -> Dict[tuple, int]:
        """The last export's data points of the sum `name`: sorted attributes to value."""
        with self._arrived:
            found = [
                metric
                for request in self.metrics
                for resource_metrics in request.resource_metrics
                for scope_metrics in resource_metrics.scope_metrics
                for metric in scope_metrics.metrics
                if metric.name == name
            ]
        if not found:
            return {}
        return {
            tuple(sorted(f"{kv.key}={kv.value.string_value or kv.value.int_value}" for kv in point.attributes)): point.as_int
            for point in found[-1].sum.data_points
        }

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def receiver():
    """A receiver for one test."""
    server = Receiver()
    yield server
    server.close()
