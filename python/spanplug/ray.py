"""Entry points for Ray Serve's ``exporter_import_path`` and Ray core's tracing hook.

Ray Serve (each proxy and replica process calls the entry point itself)::

    RAY_SERVE_TRACING_EXPORTER_IMPORT_PATH=spanplug.ray:processors
    SPANPLUG_TRACING_EXPORTER_IMPORT_PATH=context_enricher:serve_context,otlp_http:otlp

Ray core::

    ray.init(_tracing_startup_hook="spanplug.ray:setup_tracing")
    ray start --head --tracing-startup-hook=spanplug.ray:setup_tracing

Ray checks that an entry point is a plain function taking no arguments and that it
returns ``SpanProcessor`` instances, so these are ordinary ``def``s. Set the
variables before ``ray start`` / ``ray.init``: Ray reads ``RAY_SERVE_TRACING_*`` when
it is imported.
"""

from __future__ import annotations

import math
import os
import sys
from typing import Dict, List, Optional

from opentelemetry.sdk.trace import SpanProcessor

import spanplug

__all__ = ["processors", "default_tracing_exporter", "setup_tracing"]


def processors() -> List[SpanProcessor]:
    """The processors of the tracing config, read as every spanplug host reads it:
    ``SPANPLUG_TRACING_EXPORTER_IMPORT_PATH``, the service YAML ``SPANPLUG_CONFIG``
    names, and the ``OTEL_*`` variables. Inside Ray Serve, ``console_file`` writes
    to Ray's spans folder under Ray's file names unless ``log_dir``/``file_name``
    are set."""
    return spanplug.processors(exporter_defaults=_serve_defaults())


def default_tracing_exporter() -> List[SpanProcessor]:
    """``console_file`` into Ray Serve's spans folder (``<session>/logs/serve/spans/``)
    under Ray's own file names, in the bytes Ray's default exporter writes."""
    return spanplug.processors(
        ["console_file:default_tracing_exporter"], exporter_defaults=_serve_defaults()
    )


def _serve_defaults() -> Dict[str, str]:
    """Where Ray Serve's own exporter would write this process's spans, when this
    is a Ray Serve process (Ray names the file just before calling the exporter:
    ``_load_span_processors(path, tracing_file_name)``)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_locals.get("tracing_file_name")
        if isinstance(name, str) and name and os.sep not in name:
            from ray.serve._private.logging_utils import get_serve_logs_dir

            _keep_incoming_tracestate()
            return {"log_dir": get_serve_logs_dir(), "file_name": name}
        frame = frame.f_back
    return {}


def _extract_trace_headers(pairs) -> None:
    """Continues the trace of an incoming request from its ``traceparent`` and its
    ``tracestate`` (W3C Trace Context: the state travels with the parent)."""
    from ray.serve._private.tracing_utils import extract_propagated_context, set_trace_context

    carrier = {}
    for key, value in pairs:
        key = key.decode() if isinstance(key, bytes) else key
        if key.lower() in ("traceparent", "tracestate"):
            carrier[key.lower()] = value.decode() if isinstance(value, bytes) else value
    if "traceparent" in carrier:
        set_trace_context(extract_propagated_context(carrier))


def _keep_incoming_tracestate() -> None:
    """Ray Serve's proxy reads only ``traceparent`` from HTTP headers and gRPC
    metadata, so a caller's ``tracestate`` is lost (reported on the PR that added
    Serve tracing); this process's proxy reads both from here on."""
    from ray.serve._private import proxy_request_response as proxy
    from ray.serve._private.tracing_utils import is_tracing_enabled

    def asgi(self) -> None:
        if is_tracing_enabled():
            _extract_trace_headers(self.headers)

    def grpc(self) -> None:
        if is_tracing_enabled():
            _extract_trace_headers(self.context.invocation_metadata())

    proxy.ASGIProxyRequest.populate_tracing_context = asgi
    proxy.gRPCProxyRequest.populate_tracing_context = grpc


def setup_tracing(sampling_ratio: Optional[float] = None) -> None:
    """Ray core's tracing startup hook: sets the global tracer provider, with the
    configured sampler (parent-based, ratio from ``SPANPLUG_TRACING_SAMPLING_RATIO``
    or ``sampling_ratio``, else the ``OTEL_TRACES_SAMPLER`` variables) and
    spanplug's processors."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    ratio = os.environ.get("SPANPLUG_TRACING_SAMPLING_RATIO")
    if ratio is not None:
        try:
            sampling_ratio = float(ratio)
        except ValueError:
            sampling_ratio = math.nan
        if not 0.0 <= sampling_ratio <= 1.0:
            raise spanplug.SpanplugError(
                f"SPANPLUG_TRACING_SAMPLING_RATIO: must be a number between 0 and 1, got {ratio!r}"
            )
    # None: the SDK's choice from OTEL_TRACES_SAMPLER(_ARG).
    sampler = None if sampling_ratio is None else ParentBasedTraceIdRatio(sampling_ratio)
    provider = TracerProvider(sampler=sampler)
    for processor in spanplug.processors():
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
