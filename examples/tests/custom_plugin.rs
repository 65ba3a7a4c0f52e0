//! The example user plugin (`examples/custom-plugin`, what `spanplug new-plugin
//! custom-plugin` writes), installed in a service through `spanplug_sdk::init` like any other.

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use serde_json::Value;
use spanplug_config::TracingConfig;
use spanplug_tests::plugin_dir;

#[test]
fn a_service_writes_its_failed_and_slow_spans_through_the_example_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("spans.jsonl");
    let config = TracingConfig::default()
        .with_exporter_import_path("custom_plugin:span_log")
        .with_plugin_dir(plugin_dir())
        .with_service_name("custom-plugin-test")
        .with_exporter_config("file", file.to_string_lossy())
        .with_exporter_config("min_duration_ms", "0");
    let guard = spanplug_sdk::init(config).unwrap();
    assert_eq!(
        guard.plugins()[0].processors,
        [format!("span_log({})", file.display())]
    );
    let tracer = guard.tracer("custom");
    let mut failed = tracer.start("POST /login");
    failed.set_attribute(KeyValue::new("user.name", "alice"));
    failed.set_status(Status::error("invalid credentials"));
    failed.end();
    guard.shutdown().unwrap();

    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["name"], "POST /login");
    assert_eq!(lines[0]["error"], "invalid credentials");
    assert_eq!(lines[0]["service"], "custom-plugin-test");
    assert_eq!(lines[0]["attributes"]["user.name"], "alice");
}
