//! The example user plugin (`examples/custom-plugin`), loaded by the host like any other.

use opentelemetry::trace::{Span as _, Status, Tracer as _};
use opentelemetry::KeyValue;
use serde_json::Value;
use spanplug_config::TracingConfig;
use spanplug_tests::plugin_dir;

#[test]
fn failed_spans_are_logged_without_health_checks_or_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let error_file = dir.path().join("errors.jsonl");
    let config = TracingConfig::default()
        .with_exporter_import_path("error_spans:error_log")
        .with_plugin_dir(plugin_dir())
        .with_service_name("custom-plugin-test")
        .with_exporter_config("error_log_file", error_file.to_string_lossy());
    let guard = spanplug_sdk::init(config).unwrap();
    assert_eq!(
        guard.plugins()[0].processors,
        [format!("error_log({})", error_file.display())]
    );
    let tracer = guard.tracer("custom");

    let mut ok = tracer.start("GET /user/1");
    ok.set_attribute(KeyValue::new("http.response.status_code", 200));
    ok.end();
    let mut health = tracer.start("GET /health");
    health.set_attribute(KeyValue::new("url.path", "/health"));
    health.set_status(Status::error("database unreachable"));
    health.end();
    let mut failed = tracer.start("POST /login");
    failed.set_attribute(KeyValue::new("user.name", "alice"));
    failed.set_attribute(KeyValue::new("user.password", "hunter2"));
    failed.set_attribute(KeyValue::new(
        "http.request.header.authorization",
        "Bearer abc",
    ));
    failed.set_status(Status::error("invalid credentials"));
    failed.end();
    let mut server_error = tracer.start("GET /orders");
    server_error.set_attribute(KeyValue::new("http.response.status_code", 503));
    server_error.end();
    guard.shutdown().unwrap();

    let text = std::fs::read_to_string(&error_file).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("Bearer abc"),
        "{text}"
    );
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["POST /login", "GET /orders"]);
    assert_eq!(lines[0]["error"], "invalid credentials");
    assert_eq!(lines[0]["service"], "custom-plugin-test");
    assert_eq!(lines[0]["attributes"]["user.name"], "alice");
    assert_eq!(lines[0]["attributes"]["user.password"], "[redacted]");
    assert_eq!(
        lines[0]["attributes"]["http.request.header.authorization"],
        "[redacted]"
    );
}
