"""The package's version, and the SDKs it claims: one whose span internals differ is
refused at ``spanplug.processors()`` with a clear error, never bridged into wrong spans."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
from opentelemetry.sdk import trace as sdk_trace

import spanplug
from spanplug import _sdk

CARGO_TOML = Path(__file__).resolve().parents[1] / "Cargo.toml"


def test_version_is_the_wheels_and_the_crates() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", spanplug.__version__), spanplug.__version__
    assert spanplug.__version__ == metadata.version("spanplug")
    if CARGO_TOML.is_file():  # a clone; the chroot test has only the installed wheel
        crate = re.search(r'^version = "([^"]+)"$', CARGO_TOML.read_text(), re.M)
        assert crate is not None and crate.group(1) == spanplug.__version__


def test_installed_sdk_has_every_internal_the_bridge_reads() -> None:
    _sdk.sdk_problem.cache_clear()
    assert _sdk.sdk_problem() is None


def test_sdk_whose_spans_lack_an_internal_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class RenamedEvents(sdk_trace._Span):  # the class the SDK's tracers make
        """A span as a future SDK might keep it: `_events` under another name."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            self._span_events = self.__dict__.pop("_events")

    monkeypatch.setattr(sdk_trace, "_Span", RenamedEvents)
    _sdk.sdk_problem.cache_clear()
    try:
        with pytest.raises(spanplug.SpanplugError) as raised:
            spanplug.processors(["console_file:default_tracing_exporter"])
    finally:
        _sdk.sdk_problem.cache_clear()
    message = str(raised.value)
    sdk_version = metadata.version("opentelemetry-sdk")
    assert f"opentelemetry-sdk {sdk_version} is not supported" in message
    assert "(Span._events)" in message
    assert f"{_sdk.TESTED_SDK[0]} to {_sdk.TESTED_SDK[1]}" in message
