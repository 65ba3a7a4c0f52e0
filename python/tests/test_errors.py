"""Bad input raises SpanplugError with the host's own message."""

import os

import pytest

import spanplug


def test_a_missing_module_names_every_folder_searched_and_what_exists(tmp_path):
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors(["no_such_plugin:otlp"], {"plugin_path": [str(tmp_path)]})
    message = str(raised.value)
    assert 'plugin module "no_such_plugin" not found; searched:' in message
    assert str(tmp_path) in message
    assert str(spanplug.BUILTIN_PLUGIN_DIR) in message
    assert "console_file" in message, "the plugins that do exist are listed"


def test_a_missing_function_lists_the_functions_the_plugin_exports():
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors(["otlp_http:nope"])
    message = str(raised.value)
    assert 'has no function "nope"' in message
    assert "otlp" in message and "honeycomb" in message


def test_a_bad_import_path_says_what_is_expected():
    with pytest.raises(spanplug.SpanplugError, match="invalid exporter import path"):
        spanplug.processors(["no-colon-here"])


def test_a_bad_config_value_names_the_key():
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors(["otlp_http:otlp"], {"sampling_ratio": "lots"})
    assert "sampling_ratio" in str(raised.value)


def test_a_bad_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("SPANPLUG_TRACING_ON_ERROR", "sometimes")
    with pytest.raises(spanplug.SpanplugError, match="SPANPLUG_TRACING_ON_ERROR"):
        spanplug.processors(["otlp_http:otlp"])


def test_a_factory_error_carries_the_plugins_words(private_dir):
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors(
            ["console_file:default_tracing_exporter"],
            {"exporter_config": {"log_dir": str(private_dir), "file_name": "../escape.json"}},
        )
    assert "exporter_config.file_name" in str(raised.value)
    assert "names a folder" in str(raised.value)


def test_on_error_warn_runs_untraced_and_says_why_once(capfd):
    (processor,) = spanplug.processors(["no_such_plugin:otlp"], {"on_error": "warn"})
    assert processor.names == []
    err = capfd.readouterr().err
    assert err.count('plugin module "no_such_plugin" not found') == 1
    processor.shutdown()


def test_spanplug_error_is_an_exception_type_of_the_package():
    assert issubclass(spanplug.SpanplugError, Exception)
    assert spanplug.SpanplugError.__module__ == "spanplug"


def test_an_abi_mismatch_names_both_versions():
    # A plugin built against spanplug-api 0.0.1 (tests/fixtures/abi-mismatch), which
    # the cargo test that runs this suite builds and names.
    library = os.environ.get("SPANPLUG_TEST_ABI_MISMATCH_PLUGIN")
    if library is None:
        pytest.skip("SPANPLUG_TEST_ABI_MISMATCH_PLUGIN is not set (cargo test sets it)")
    with pytest.raises(spanplug.SpanplugError) as raised:
        spanplug.processors([f"{library}:anything"])
    message = str(raised.value)
    assert "built against spanplug-api 0.0.1" in message
    assert f"spanplug-api {spanplug.API_VERSION}" in message


def test_ray_cores_hook_names_a_bad_sampling_ratio(monkeypatch):
    import spanplug.ray

    monkeypatch.setenv("SPANPLUG_TRACING_SAMPLING_RATIO", "lots")
    with pytest.raises(spanplug.SpanplugError, match="SPANPLUG_TRACING_SAMPLING_RATIO: must be a number between 0 and 1"):
        spanplug.ray.setup_tracing()
