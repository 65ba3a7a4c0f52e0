"""What `spanplug.processors()` returns, and what Ray checks of its entry points."""

import inspect

import pytest
from opentelemetry.sdk.trace import SpanProcessor

import spanplug
import spanplug.ray


def test_processors_returns_one_sdk_processor_running_every_entry_in_order(private_dir):
    processors = spanplug.processors(
        ["context_enricher:serve_context", "console_file:default_tracing_exporter"],
        {"exporter_config": {"log_dir": str(private_dir)}},
    )
    assert len(processors) == 1
    assert isinstance(processors[0], SpanProcessor)
    names = processors[0].names
    assert names[0] == "context_enricher:serve_context -> context_enricher:serve_context"
    assert names[1].startswith("console_file:default_tracing_exporter -> console_file(")
    processors[0].shutdown()


def test_import_paths_may_be_one_comma_separated_string(private_dir):
    (processor,) = spanplug.processors(
        "context_enricher:serve_context, console_file:default_tracing_exporter",
        {"exporter_config": {"log_dir": str(private_dir)}},
    )
    assert len(processor.names) == 2
    processor.shutdown()


def test_the_environment_names_the_plugins_when_code_does_not(monkeypatch, private_dir):
    monkeypatch.setenv("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH", "console_file:default_tracing_exporter")
    monkeypatch.setenv("SPANPLUG_LOG_DIR", str(private_dir))
    (processor,) = spanplug.processors()
    assert processor.names[0].startswith("console_file:default_tracing_exporter")
    processor.shutdown()


def test_a_service_yaml_named_by_spanplug_config_is_read(monkeypatch, private_dir):
    yaml = private_dir / "service.yaml"
    yaml.write_text(
        "tracing_config:\n"
        "  exporter_import_path: [console_file:default_tracing_exporter]\n"
        f"  exporter_config: {{log_dir: {private_dir}}}\n"
    )
    monkeypatch.setenv("SPANPLUG_CONFIG", str(yaml))
    (processor,) = spanplug.processors()
    assert str(private_dir) in processor.names[0]
    processor.shutdown()


@pytest.mark.parametrize(
    "variable, value", [("OTEL_SDK_DISABLED", "true"), ("SPANPLUG_TRACING_ENABLED", "false")]
)
def test_disabled_tracing_returns_no_processors(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert spanplug.processors(["otlp_http:otlp"]) == []


def test_ray_entry_points_are_plain_functions_without_parameters():
    # Ray Serve's checks, word for word: inspect.isfunction and no parameters.
    for entry in (spanplug.ray.processors, spanplug.ray.default_tracing_exporter, spanplug.ray.setup_tracing):
        assert inspect.isfunction(entry), entry
        required = [
            p for p in inspect.signature(entry).parameters.values() if p.default is inspect.Parameter.empty
        ]
        assert required == [], entry
    assert len(inspect.signature(spanplug.ray.processors).parameters) == 0
    assert len(inspect.signature(spanplug.ray.default_tracing_exporter).parameters) == 0
