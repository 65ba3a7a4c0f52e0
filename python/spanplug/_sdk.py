"""Whether the installed OpenTelemetry SDK's spans have the internals the native
bridge reads (``python/src/record.rs`` reads them by name: they are not API). An SDK
whose internals differ is refused with a clear error, never turned into wrong spans."""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata
from typing import Any, List, Optional, Tuple

#: The opentelemetry-sdk versions the package is tested with (oldest, newest).
TESTED_SDK: Tuple[str, str] = ("1.20.0", "1.45.2")

#: What the bridge reads of each SDK object, by the object's role.
_INTERNALS = {
    "Span": (
        "_name", "_context", "_parent", "_kind", "_start_time", "_end_time", "_attributes",
        "_events", "_links", "_status", "_instrumentation_scope",
    ),
    "Event": ("_name", "_attributes", "_timestamp"),
    "Link": ("_context", "_attributes"),
    "Status": ("_status_code", "_description"),
    "InstrumentationScope": ("_name", "_version", "_schema_url"),
}


def _samples() -> List[Tuple[str, Any]]:
    """One object of each kind the bridge reads, made as the SDK makes them (looked up
    at call time, so a test can swap one)."""
    from opentelemetry.sdk import trace as sdk_trace
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import Link, SpanContext
    from opentelemetry.trace.status import Status

    context = SpanContext(trace_id=1, span_id=1, is_remote=False)
    # The class a Tracer makes (`Span` itself refuses to be made directly); made here
    # so that no sampler or OTEL_SDK_DISABLED stands in the way. Never started.
    span_class = getattr(sdk_trace, "_Span", sdk_trace.Span)
    return [
        ("Span", span_class("spanplug-probe", context)),
        ("Event", sdk_trace.Event("spanplug-probe")),
        ("Link", Link(context)),
        ("Status", Status()),
        ("InstrumentationScope", InstrumentationScope("spanplug-probe")),
    ]


@lru_cache(maxsize=1)
def sdk_problem() -> Optional[str]:
    """Why the installed SDK cannot be bridged, or None when it can."""
    try:
        missing = [
            f"{role}.{name}"
            for role, sample in _samples()
            for name in _INTERNALS[role]
            if not hasattr(sample, name)
        ]
    except Exception as error:  # an SDK whose constructors differ
        missing = [f"(the SDK's objects cannot be made as spanplug expects: {error!r})"]
    if not missing:
        return None
    try:
        version = metadata.version("opentelemetry-sdk")
    except metadata.PackageNotFoundError:
        version = "(unknown version)"
    oldest, newest = TESTED_SDK
    return (
        f"opentelemetry-sdk {version} is not supported: its spans lack the internals "
        f"spanplug reads ({', '.join(missing)}); spanplug is tested with opentelemetry-sdk "
        f"{oldest} to {newest}: install one of those (pip install 'opentelemetry-sdk=={newest}')"
    )
