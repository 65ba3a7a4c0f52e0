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

Both at once: the hook's provider is every worker's (Serve's own cannot replace it),
and in Serve's proxy and replicas the processors Serve asks for take over from the
hook's, so that each span is exported once, under Ray's file names. The hook's
tracers pickle by name, so a module-level ``tracer = trace.get_tracer(__name__)``
used in a task or a deployment resolves to the worker's own tracer.
"""

from __future__ import annotations

import math
import os
import sys
from types import FrameType
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple, Union

from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, Tracer, TracerProvider
from opentelemetry.util.types import Attributes

import spanplug

__all__ = ["processors", "default_tracing_exporter", "setup_tracing"]

#: How long the hook's processors have to deliver what they hold when Serve's take over.
HAND_OVER_TIMEOUT_MILLIS = 5_000


def processors() -> List[SpanProcessor]:
    """The processors of the tracing config, read as every spanplug host reads it:
    ``SPANPLUG_TRACING_EXPORTER_IMPORT_PATH``, the service YAML ``SPANPLUG_CONFIG``
    names, and the ``OTEL_*`` variables. Inside Ray Serve, ``console_file`` writes
    to Ray's spans folder under Ray's file names unless ``log_dir``/``file_name``
    are set. Where :func:`setup_tracing` set this process's provider, its
    processors run this config from now on and the list is empty (Serve would
    otherwise add a second set to the same provider)."""
    defaults = _serve_defaults()
    if defaults and _hand_over_hook_processors(defaults):
        return []
    return spanplug.processors(exporter_defaults=defaults)


def _hand_over_hook_processors(defaults: Dict[str, str]) -> bool:
    """Whether the processors of the provider :func:`setup_tracing` installed
    (still this process's provider) now run the config with Serve's defaults."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, _RayTracerProvider) or not provider.spanplug_processors:
        return False
    pipeline = spanplug._load_pipeline(None, None, defaults)
    if pipeline is None:
        return False
    (processor,) = provider.spanplug_processors
    processor._run_instead(pipeline, HAND_OVER_TIMEOUT_MILLIS)
    return True


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
    frame: Optional[FrameType] = sys._getframe(1)
    while frame is not None:
        name = frame.f_locals.get("tracing_file_name")
        if isinstance(name, str) and name and os.sep not in name:
            from ray.serve._private.logging_utils import get_serve_logs_dir

            _keep_incoming_tracestate()
            return {"log_dir": get_serve_logs_dir(), "file_name": name}
        frame = frame.f_back
    return {}


def _extract_trace_headers(pairs: Iterable[Tuple[Union[str, bytes], Union[str, bytes]]]) -> None:
    """Continues the trace of an incoming request from its ``traceparent`` and its
    ``tracestate`` (W3C Trace Context: the state travels with the parent)."""
    from ray.serve._private.tracing_utils import extract_propagated_context, set_trace_context

    carrier: Dict[str, str] = {}
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

    def asgi(self: proxy.ASGIProxyRequest) -> None:
        if is_tracing_enabled():
            _extract_trace_headers(self.headers)

    def grpc(self: proxy.gRPCProxyRequest) -> None:
        if is_tracing_enabled():
            _extract_trace_headers(self.context.invocation_metadata())

    # Patching Ray's methods is the point; where Ray (typed) is not installed the
    # ignore has nothing to ignore, hence `unused-ignore`.
    proxy.ASGIProxyRequest.populate_tracing_context = asgi  # type: ignore[method-assign, unused-ignore]
    proxy.gRPCProxyRequest.populate_tracing_context = grpc  # type: ignore[method-assign, unused-ignore]


def setup_tracing(sampling_ratio: Optional[float] = None) -> None:
    """Ray core's tracing startup hook: sets the global tracer provider, with the
    configured sampler (parent-based, ratio from ``SPANPLUG_TRACING_SAMPLING_RATIO``
    or ``sampling_ratio``, else the ``OTEL_TRACES_SAMPLER`` variables) and
    spanplug's processors."""
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
    provider = _RayTracerProvider(sampler=sampler)
    for processor in provider.spanplug_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)


class _RayTracerProvider(TracerProvider):
    """The provider :func:`setup_tracing` installs. Ray pickles tasks and
    deployments with the module globals they use (cloudpickle, by value for
    ``__main__``), and an SDK tracer holds its provider's locks: this provider's
    tracers, and the provider itself, pickle by name instead, and unpickle as the
    worker's own (Ray issue 57803)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # What `spanplug.processors()` returns, typed as spanplug's own for
        # `_hand_over_hook_processors`.
        pipeline = spanplug._load_pipeline(None, None, None)
        self.spanplug_processors: List[spanplug.SpanplugProcessor] = (
            [] if pipeline is None else [spanplug.SpanplugProcessor(pipeline)]
        )

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        tracer = super().get_tracer(*args, **kwargs)
        # The SDK builds (and caches) plain `Tracer`s; this one differs only in how
        # it pickles, so the class is changed in place rather than the object copied.
        if type(tracer) is Tracer:
            tracer.__class__ = _TracerByName
        return tracer

    def __reduce__(self) -> Tuple[Callable[[], trace.TracerProvider], Tuple[()]]:
        return (trace.get_tracer_provider, ())


#: What `_tracer_named` takes: a scope's name, version, schema URL and attributes.
_ScopeArgs = Tuple[str, Optional[str], Optional[str], Attributes]


class _TracerByName(Tracer):
    """An SDK tracer that pickles as the name, version, schema URL and attributes of
    its instrumentation scope."""

    def __reduce__(self) -> Tuple[Callable[..., trace.Tracer], _ScopeArgs]:
        scope = self._instrumentation_scope
        attributes = dict(scope.attributes) if scope.attributes else None
        return (_tracer_named, (scope.name, scope.version or None, scope.schema_url, attributes))


def _tracer_named(
    name: str, version: Optional[str], schema_url: Optional[str], attributes: Attributes
) -> trace.Tracer:
    """This process's tracer for the scope (a pickled tracer, unpickled)."""
    return trace.get_tracer(name, version, schema_url=schema_url, attributes=attributes)
