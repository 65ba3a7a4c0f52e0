"""Shared fixtures: a private folder, a real OTLP/HTTP receiver on loopback that
decodes with opentelemetry-proto, and providers wired to spanplug."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, List

import pytest
from opentelemetry.sdk.trace import TracerProvider

import spanplug
from otlp_receiver import receiver  # noqa: F401 (a fixture)


@pytest.fixture
def private_dir(tmp_path: Path) -> Path:
    """A folder only this user can write: console_file refuses any other."""
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o700)
    return folder


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the variables they set."""
    for name in list(os.environ):
        if name.startswith(("SPANPLUG_", "OTEL_")) and not name.startswith("SPANPLUG_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def provider_with() -> Callable[..., TracerProvider]:
    """A provider running spanplug's processors for the given import paths and config."""
    providers: List[TracerProvider] = []

    def make(import_paths=None, config=None) -> TracerProvider:
        provider = TracerProvider()
        for processor in spanplug.processors(import_paths, config):
            provider.add_span_processor(processor)
        providers.append(provider)
        return provider

    yield make
    for provider in providers:
        provider.shutdown()


def span_files(folder: Path) -> List[Path]:
    return sorted(p for p in (folder / "spans").iterdir() if p.is_file())
