"""OpenTelemetry configuration files: ``spanplug.processors(config=...)`` and
``OTEL_CONFIG_FILE`` load the file's processors (custom components with their
properties), no other variable applies, provider-level settings are named in a
warning; and the released Python SDK's own file support (opentelemetry-configuration)
runs a spanplug plugin through the ``spanplug`` exporter entry point."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider

import spanplug
from conftest import span_files


def config_file(tmp_path: Path, log_dir: Path, extra: str = "") -> Path:
    path = tmp_path / "otel.yaml"
    path.write_text(
        'file_format: "1.1"\n'
        "tracer_provider:\n"
        "  processors:\n"
        '    - "console_file:default_tracing_exporter":\n'
        "        log_dir: ${SPANPLUG_TEST_LOG_DIR}\n"
        "        format: jsonl\n" + extra
    )
    return path


def names_written(log_dir: Path) -> list:
    return [json.loads(line)["name"] for f in span_files(log_dir) for line in f.read_text().splitlines()]


def run(processors: list) -> None:
    provider = TracerProvider()
    for processor in processors:
        provider.add_span_processor(processor)
    provider.get_tracer("t").start_span("from-file").end()
    provider.shutdown()


def test_processors_load_a_configuration_file_with_its_custom_component(tmp_path, private_dir, monkeypatch):
    monkeypatch.setenv("SPANPLUG_TEST_LOG_DIR", str(private_dir))
    processors = spanplug.processors(config=config_file(tmp_path, private_dir))
    assert processors[0].names[0].startswith("console_file:default_tracing_exporter -> "), processors[0].names
    run(processors)
    assert names_written(private_dir) == ["from-file"]


def test_otel_config_file_is_the_whole_configuration(tmp_path, private_dir, monkeypatch, capfd):
    monkeypatch.setenv("SPANPLUG_TEST_LOG_DIR", str(private_dir))
    monkeypatch.setenv("OTEL_CONFIG_FILE", str(config_file(tmp_path, private_dir, "  sampler:\n    always_on:\n")))
    # Variables a service YAML would take do not apply to a configuration file.
    monkeypatch.setenv("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH", "nowhere:nothing")
    monkeypatch.setenv("SPANPLUG_TRACING_ENABLED", "false")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    run(spanplug.processors())
    assert names_written(private_dir) == ["from-file"]
    err = capfd.readouterr().err
    assert "OTEL_CONFIG_FILE=" in err and "replaces the service's tracing_config" in err
    assert "tracer_provider.sampler: set by the configuration file but not applied here" in err


def test_a_bad_configuration_file_names_each_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text('file_format: "1.0"\ntracer_provider:\n  processors:\n    - batch:\n        exporter:\n          otlp_grpc:\n')
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors(config=path)
    assert "tracer_provider.processors[0].batch.exporter.otlp_grpc (line 6): not supported" in str(raised.value)


def test_the_python_sdk_file_support_runs_a_spanplug_plugin(tmp_path, private_dir):
    # The released SDK's file support sets the global provider: in a process of its own.
    path = tmp_path / "python-sdk.yaml"
    path.write_text(
        'file_format: "1.0"\n'
        "tracer_provider:\n"
        "  processors:\n"
        "    - simple:\n"
        "        exporter:\n"
        "          spanplug:\n"
        '            import_path: "console_file:default_tracing_exporter"\n'
        "            log_dir: ${SPANPLUG_TEST_LOG_DIR}\n"
        "            format: jsonl\n"
    )
    script = (
        "from opentelemetry import trace\n"
        "from opentelemetry.configuration import configure_sdk, load_config_file\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        f"configure_sdk(load_config_file({str(path)!r}))\n"
        "provider = trace.get_tracer_provider()\n"
        "assert isinstance(provider, TracerProvider), provider\n"
        "provider.get_tracer('sdk').start_span('through-the-python-sdk').end()\n"
        "provider.shutdown()\n"
    )
    env = {**os.environ, "SPANPLUG_TEST_LOG_DIR": str(private_dir)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert names_written(private_dir) == ["through-the-python-sdk"]
