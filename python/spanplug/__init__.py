"""spanplug's span-processor plugins under the OpenTelemetry Python SDK.

The same ``.so`` plugins a Rust service loads (``otlp_http``, ``console_file``,
``context_enricher``, ``span_filter``, ``redact`` and any user plugin), through the
same loader, search path, trust checks and config, as ordinary
``opentelemetry.sdk.trace.SpanProcessor`` objects::

    from opentelemetry.sdk.trace import TracerProvider
    import spanplug

    provider = TracerProvider()
    for processor in spanplug.processors(["otlp_http:otlp"]):
        provider.add_span_processor(processor)

Each ended span is copied once, on the calling thread, into Rust; encoding,
batching and I/O happen on the plugins' own threads, off the GIL. For Ray Serve and
Ray core, see :mod:`spanplug.ray`.
"""

from __future__ import annotations

import atexit
import contextvars
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from ._native import API_VERSION
from ._native import Pipeline as _Pipeline
from ._native import SpanplugError
from ._native import SpanResource as _SpanResource
from ._native import __version__
from ._sdk import sdk_problem as _sdk_problem

__all__ = ["API_VERSION", "__version__", "processors", "request_context", "SpanplugError", "SpanplugProcessor"]

_logger = logging.getLogger("spanplug")

#: The plugins this package carries, searched after ``SPANPLUG_PLUGIN_PATH`` and
#: ``plugin_path``.
BUILTIN_PLUGIN_DIR = Path(__file__).resolve().with_name("plugins")

_REQUEST_CONTEXT: contextvars.ContextVar[Tuple[Tuple[str, str], ...]] = contextvars.ContextVar(
    "spanplug_request_context", default=()
)

#: How long ``shutdown`` waits for the plugins (queued spans are delivered within it).
SHUTDOWN_TIMEOUT_MILLIS = 30_000


class request_context:
    """Sets the request context that ``on_start`` plugins see (``context_enricher``
    copies it onto every span), on top of the current one.

    It lives in a :mod:`contextvars` variable, so it follows ``asyncio`` tasks and
    ``contextvars.copy_context()``. Calling it sets the values for the rest of the
    current context; as a ``with`` block, they are undone at its end::

        with spanplug.request_context(request_id="r-1", app="shop"):
            handle(request)
    """

    def __init__(self, **values: Any) -> None:
        merged = dict(_REQUEST_CONTEXT.get())
        merged.update((key, str(value)) for key, value in values.items())
        self._token = _REQUEST_CONTEXT.set(tuple(merged.items()))

    def __enter__(self) -> "request_context":
        return self

    def __exit__(self, *exc_info: object) -> None:
        _REQUEST_CONTEXT.reset(self._token)


def _ray_request_items() -> List[Tuple[str, str]]:
    """Ray Serve's request and replica context, when this process is a Serve one."""
    serve_context = sys.modules.get("ray.serve.context")
    if serve_context is None:
        return []
    items: List[Tuple[str, str]] = []
    request = serve_context._serve_request_context.get()
    if request is not None and request.request_id:
        items.append(("request_id", request.request_id))
        if request.app_name:
            items.append(("app", request.app_name))
        if request.route:
            items.append(("route", request.route))
    replica = serve_context._get_internal_replica_context()
    if replica is not None:
        replica_id = replica.replica_id
        items.append(("deployment", replica_id.deployment_id.name))
        items.append(("replica_id", replica_id.unique_id))
        if not any(key == "app" for key, _ in items) and replica_id.deployment_id.app_name:
            items.append(("app", replica_id.deployment_id.app_name))
    return items


def _request_items() -> List[Tuple[str, str]]:
    items = _ray_request_items()
    own = _REQUEST_CONTEXT.get()
    if own:
        keys = {key for key, _ in own}
        items = [item for item in items if item[0] not in keys] + list(own)
    return items


class SpanplugProcessor(SpanProcessor):
    """Runs a spanplug pipeline (every processor of every configured plugin, in
    order) as one SDK processor, so that a transformer such as ``redact`` acts on
    what the exporters after it see."""

    def __init__(self, pipeline: _Pipeline) -> None:
        self._pipeline = pipeline
        self._needs_on_start = pipeline.needs_on_start
        # (the SDK resource object, its conversion): replaced as one, so threads
        # never see one without the other.
        self._resource: Union[Tuple[None, None], Tuple[Resource, _SpanResource]] = (None, None)
        self._stopped = False
        self._deliver_at_exit()
        os.register_at_fork(after_in_child=self._after_fork_in_child)

    def _deliver_at_exit(self) -> None:
        """Queued spans are delivered at interpreter exit, and at the exit of a
        ``multiprocessing`` child (which skips ``atexit``)."""
        atexit.register(self.shutdown)
        mp_util = sys.modules.get("multiprocessing.util")
        if mp_util is not None:
            mp_util.Finalize(self, SpanplugProcessor.shutdown, args=(self,), exitpriority=10)

    def _after_fork_in_child(self) -> None:
        # The parent's plugin threads do not exist here: load the plugins again.
        self._stopped = False
        self._pipeline.after_fork_in_child()
        self._deliver_at_exit()

    @property
    def names(self) -> List[str]:
        """``module:function -> processor`` for each plugin processor, in order."""
        return list(self._pipeline.processors)

    def _run_instead(self, pipeline: _Pipeline, timeout_millis: int) -> None:
        """Runs ``pipeline`` from now on, in place of the one it ran, which is shut
        down (what it holds is delivered within ``timeout_millis``)."""
        previous = self._pipeline
        self._pipeline = pipeline
        self._needs_on_start = pipeline.needs_on_start
        failure = previous.shutdown(timeout_millis)
        if failure is not None:
            _logger.warning("spanplug: the replaced processors' shutdown: %s", failure)

    def on_start(self, span: Span, parent_context: Optional[Context] = None) -> None:
        if not self._needs_on_start:
            return
        for key, value in self._pipeline.on_start(span, _request_items()):
            span.set_attribute(key, value)

    def on_end(self, span: ReadableSpan) -> None:
        resource = span._resource
        cached = self._resource
        if cached[0] is not resource:
            cached = (resource, _SpanResource(resource.attributes, resource.schema_url))
            self._resource = cached
        self._pipeline.on_end(span, cached[1])

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        failure = self._pipeline.force_flush(max(0, int(timeout_millis)))
        if failure is not None:
            _logger.warning("spanplug force_flush: %s", failure)
        return failure is None

    def shutdown(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        failure = self._pipeline.shutdown(SHUTDOWN_TIMEOUT_MILLIS)
        if failure is not None:
            _logger.warning("spanplug shutdown: %s", failure)


ConfigArg = Union[None, str, "os.PathLike[str]", Mapping[str, Any]]


def processors(
    import_paths: Optional[Union[str, Sequence[str]]] = None,
    config: ConfigArg = None,
    *,
    exporter_defaults: Optional[Mapping[str, str]] = None,
) -> List[SpanProcessor]:
    """The span processors the tracing config names, as a list for
    ``TracerProvider.add_span_processor`` (or Ray's ``exporter_import_path``).

    ``import_paths``: ``module:function`` entries (a list, or one comma-separated
    string); when given they replace the config's ``exporter_import_path``.
    ``config``: a service YAML file (path) whose ``tracing_config`` section is read,
    or that section itself as a mapping; or an OpenTelemetry configuration file (a
    path, or the document as a mapping, with ``file_format``), whose
    ``tracer_provider.processors`` are loaded; by default the file
    ``OTEL_CONFIG_FILE`` names, else the one ``SPANPLUG_CONFIG`` names, if any. The
    ``SPANPLUG_*`` and ``OTEL_*`` variables apply on top of a service YAML, as in
    every spanplug host; none applies to a configuration file. A configuration
    file's sampler, limits, propagators and resource belong to the
    ``TracerProvider``, which this function does not build: each it sets is named in
    a warning.

    ``exporter_defaults``: ``exporter_config`` values used where the config sets
    none (``spanplug.ray`` passes Ray's logs folder this way).

    Each span is exported with the resource of the provider that made it
    (``TracerProvider(resource=...)``); one processor may serve several providers.

    Returns one :class:`SpanplugProcessor` running every entry in order, or an empty
    list when tracing is disabled. Raises :class:`SpanplugError` with the host's
    message (every folder searched, both ABI versions, the key at fault) when a
    plugin cannot be loaded, unless ``on_error: warn``, or when the installed
    opentelemetry-sdk's spans lack the internals spanplug reads.
    """
    problem = _sdk_problem()
    if problem is not None:
        raise SpanplugError(problem)
    pipeline = _load_pipeline(import_paths, config, exporter_defaults)
    if pipeline is None:
        return []
    return [SpanplugProcessor(pipeline)]


def _load_pipeline(
    import_paths: Optional[Union[str, Sequence[str]]],
    config: ConfigArg,
    exporter_defaults: Optional[Mapping[str, str]],
) -> Optional[_Pipeline]:
    """The pipeline :func:`processors` runs, or None when tracing is disabled."""
    if isinstance(import_paths, str):
        import_paths = [part.strip() for part in import_paths.split(",") if part.strip()]
    config_yaml: Optional[str] = None
    config_file: Optional[str] = None
    if isinstance(config, Mapping) and "file_format" in config:
        # An OpenTelemetry configuration document; JSON is YAML.
        config_yaml = json.dumps(dict(config))
    elif isinstance(config, Mapping):
        # JSON is YAML: the host reads the section exactly as from a file.
        config_yaml = json.dumps({"tracing_config": dict(config)})
    elif config is not None:
        config_file = os.fspath(config)
    # What plugins see at load; each span then carries its own provider's resource.
    resource = Resource.create()
    return _Pipeline.load(
        list(import_paths) if import_paths is not None else None,
        config_yaml,
        config_file,
        str(BUILTIN_PLUGIN_DIR),
        resource,
        [(str(k), str(v)) for k, v in (exporter_defaults or {}).items()],
    )
