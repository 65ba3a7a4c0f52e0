//! Relative path settings mean the config file's folder: the host tells every factory
//! that folder (`PluginContext::config_dir`) and the shipped plugins resolve their own
//! settings against it.

use std::path::Path;

use opentelemetry::trace::Tracer as _;
use spanplug_config::TracingConfig;
use spanplug_tests::{plugin_dir, read_records};

/// A `service.yaml` in `dir` whose one entry is `entry` (YAML flow text).
fn yaml_file(dir: &Path, entry: &str) -> std::path::PathBuf {
    let file = dir.join("service.yaml");
    let yaml = format!(
        "tracing_config:\n  plugin_path: {}\n  exporter_import_path:\n    - {entry}\n",
        plugin_dir().display()
    );
    std::fs::write(&file, yaml).unwrap();
    file
}

#[test]
fn console_file_writes_under_a_relative_log_dir_beside_the_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let file = yaml_file(
        dir.path(),
        "{import_path: \"console_file:default_tracing_exporter\", config: {log_dir: logs}}",
    );
    let config = TracingConfig::from_yaml_file(&file)
        .unwrap()
        .with_service_name("paths-test");
    let guard = spanplug_sdk::init(config).unwrap();
    guard.tracer("test").in_span("beside_the_yaml", |_| {});
    guard.shutdown().unwrap();
    let records = read_records(&dir.path().join("logs"));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].name, "beside_the_yaml");
    assert!(
        !Path::new("logs").exists(),
        "nothing under the working folder"
    );
}

#[test]
fn a_factory_is_told_the_yaml_folder_and_resolves_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = yaml_file(dir.path(), "test_plugins:tell_config_dir");
    let config = TracingConfig::from_yaml_file(&file).unwrap();
    let error = spanplug_sdk::init(config).unwrap_err().to_string();
    let folder = std::path::absolute(dir.path()).unwrap();
    assert_eq!(
        error,
        format!(
            "factory test_plugins:tell_config_dir failed: config_dir {}; data {}",
            folder.display(),
            folder.join("data").display()
        )
    );
}

#[test]
fn a_config_from_text_tells_no_folder() {
    let yaml = format!(
        "tracing_config:\n  plugin_path: {}\n  exporter_import_path: test_plugins:tell_config_dir\n",
        plugin_dir().display()
    );
    let config = TracingConfig::from_yaml_str(&yaml).unwrap();
    let error = spanplug_sdk::init(config).unwrap_err().to_string();
    assert!(error.ends_with("config_dir none; data data"), "{error}");
}

/// `SPANPLUG_LOG_DIR` was given in the working folder: a relative one means it, not
/// the YAML's folder, so the host makes it absolute before any plugin resolves it.
#[test]
fn a_relative_spanplug_log_dir_means_the_working_folder() {
    let dir = tempfile::tempdir().unwrap();
    let output = spanplug_tests::child_test("spanplug_log_dir_in_a_child")
        .current_dir(dir.path())
        .env("SPANPLUG_LOG_DIR", "env-logs")
        .env("SPANPLUG_TEST_YAML_DIR", dir.path().join("conf"))
        .output()
        .unwrap();
    spanplug_tests::assert_child_passed(&output);
}

#[test]
#[ignore = "run by a_relative_spanplug_log_dir_means_the_working_folder"]
fn spanplug_log_dir_in_a_child() {
    spanplug_tests::assert_in_child();
    let conf = std::path::PathBuf::from(std::env::var_os("SPANPLUG_TEST_YAML_DIR").unwrap());
    std::fs::create_dir(&conf).unwrap();
    let file = yaml_file(&conf, "console_file:default_tracing_exporter");
    let config = TracingConfig::from_yaml_file(file)
        .unwrap()
        .with_env_overrides()
        .unwrap();
    let expected = std::env::current_dir().unwrap().join("env-logs");
    assert_eq!(
        config.exporter_config.get("log_dir"),
        Some(expected.to_str().unwrap())
    );
}
