"""spanplug plugins inside the OpenTelemetry Python SDK's own configuration file.

The SDK's file support (the ``opentelemetry-configuration`` package, with
``OTEL_CONFIG_FILE``) builds ``batch``/``simple`` processors around exporters and
loads an exporter it does not know from the ``opentelemetry_traces_exporter`` entry
point group by name. This package registers ``spanplug`` there, so one file runs the
same plugin under the Python SDK and under spanplug's Rust host::

    tracer_provider:
      processors:
        - batch:
            exporter:
              spanplug:
                import_path: "otlp_http:otlp"   # the plugin to run
                compression: gzip               # its properties, structured

Under the Python SDK the plugin sees the spans the SDK's batch processor hands to an
exporter: ``on_end`` only (an exporter has no ``on_start``, so ``context_enricher``
adds nothing there).
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

import spanplug

__all__ = ["SpanplugExporter"]


class SpanplugExporter(SpanExporter):
    """Runs the spanplug plugin ``import_path`` (``module:function``) with
    ``properties`` as its settings (structured, as in a spanplug configuration
    file) over every batch the SDK exports."""

    def __init__(self, import_path: Optional[str] = None, **properties: Any) -> None:
        if not import_path:
            raise spanplug.SpanplugError("spanplug exporter: needs import_path: module:function, the plugin to run")
        document = {
            "file_format": "1.0",
            "tracer_provider": {"processors": [{import_path: properties or None}]},
        }
        found = spanplug.processors(config=document)
        self._processor = found[0] if found else None

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._processor is not None:
            for span in spans:
                self._processor.on_end(span)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._processor is None or self._processor.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self._processor is not None:
            self._processor.shutdown()
