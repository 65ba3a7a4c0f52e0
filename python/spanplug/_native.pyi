"""The Rust half of ``spanplug`` (``python/src/lib.rs``): a plugin pipeline loaded
from a tracing config, and what it needs of the SDK's spans. Use it through
:func:`spanplug.processors`; this module is not a stable API of its own."""

import os
from collections.abc import Mapping, Sequence
from typing import Final, final

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span
from opentelemetry.util.types import AttributeValue

__all__ = ["Pipeline", "SpanResource", "SpanplugError", "API_VERSION", "__version__"]

#: The spanplug-api version the bundled plugins and the loader were built against.
API_VERSION: Final[str]
#: This package's version (the crate's, which the wheel's metadata also carries).
__version__: Final[str]

class SpanplugError(Exception):
    """A tracing config or plugin that cannot be used; the message says what was
    searched or expected and what to do."""

@final
class SpanResource:
    """An SDK resource converted once, for the spans that carry it."""

    def __new__(
        cls, attributes: Mapping[str, AttributeValue], schema_url: str | None
    ) -> SpanResource: ...

@final
class Pipeline:
    """The loaded plugins of one ``spanplug.processors()`` call."""

    @staticmethod
    def load(
        import_paths: Sequence[str] | None,
        config_yaml: str | None,
        config_file: str | os.PathLike[str] | None,
        builtin_dir: str | os.PathLike[str],
        resource: Resource,
        exporter_defaults: Sequence[tuple[str, str]],
    ) -> Pipeline | None:
        """Loads the configured plugins, their factories given ``resource``;
        ``builtin_dir`` is searched last, ``exporter_defaults`` fill unset
        ``exporter_config`` keys. None when tracing is disabled or nothing is
        configured. Raises :class:`SpanplugError`."""

    @property
    def needs_on_start(self) -> bool:
        """Whether any plugin wants ``on_start``."""

    @property
    def processors(self) -> list[str]:
        """``module:function -> processor name`` for every processor, in order."""

    def on_start(
        self, span: Span, request: Sequence[tuple[str, str]]
    ) -> list[tuple[str, AttributeValue]]:
        """Runs the plugins' ``on_start`` over a starting span with the request
        context ``request``; returns the attributes they set, for the caller to set."""

    def on_end(self, span: ReadableSpan, resource: SpanResource) -> None:
        """Runs the pipeline over an ended span whose resource is ``resource``."""

    def force_flush(self, timeout_millis: int) -> str | None:
        """Flushes every plugin within ``timeout_millis``, without the GIL; the
        failures, or None."""

    def shutdown(self, timeout_millis: int) -> str | None:
        """Flushes and stops every plugin within ``timeout_millis``, without the
        GIL; the failures, or None."""

    def after_fork_in_child(self) -> None:
        """Loads the plugins again in a child after ``fork()``."""
