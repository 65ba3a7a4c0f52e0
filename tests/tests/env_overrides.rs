//! Environment overrides, in one test because the environment is process-wide.

use opentelemetry::trace::Tracer as _;
use spanplug_host::TracingConfig;
use spanplug_tests::{plugin_dir, read_records, span_files};

fn set(vars: &[(&str, &str)]) {
    for (name, value) in vars {
        std::env::set_var(name, value);
    }
}

fn clear(vars: &[&str]) {
    for name in vars {
        std::env::remove_var(name);
    }
}

#[test]
fn environment_overrides_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "tracing_config:\n  enabled: false\n  sampling_ratio: 0.0\n  exporter_import_path: test_plugins:factory_error\n";

    // Everything the YAML says is overridden, and the OpenTelemetry resource
    // variables name the service.
    set(&[
        ("SPANPLUG_TRACING_ENABLED", "true"),
        ("SPANPLUG_TRACING_SAMPLING_RATIO", "1"),
        (
            "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
            "console_file:default_tracing_exporter",
        ),
        ("SPANPLUG_LOG_DIR", dir.path().to_str().unwrap()),
        ("SPANPLUG_PLUGIN_PATH", plugin_dir().to_str().unwrap()),
        ("OTEL_SERVICE_NAME", "from-env"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=staging,service.version=2.0",
        ),
    ]);
    let guard = spanplug_host::init(TracingConfig::from_yaml_str(yaml).unwrap()).unwrap();
    assert!(guard.is_enabled());
    guard.tracer("env").in_span("configured_by_env", |_| {});
    guard.shutdown().unwrap();
    let files = span_files(dir.path());
    let file_name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(file_name, format!("from-env_{}.json", std::process::id()));
    let records = read_records(dir.path());
    assert_eq!(records[0].name, "configured_by_env");
    assert_eq!(records[0].resource["deployment.environment"], "staging");
    assert_eq!(records[0].resource["service.version"], "2.0");

    // Bad values name the variable.
    set(&[("SPANPLUG_TRACING_SAMPLING_RATIO", "2")]);
    let error = spanplug_host::init(TracingConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        "SPANPLUG_TRACING_SAMPLING_RATIO: must be a number between 0 and 1, got 2"
    );
    set(&[
        ("SPANPLUG_TRACING_SAMPLING_RATIO", "1"),
        ("SPANPLUG_TRACING_ENABLED", "maybe"),
    ]);
    let error = spanplug_host::init(TracingConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.starts_with("SPANPLUG_TRACING_ENABLED: expected true or false"),
        "{error}"
    );

    // Without a ratio anywhere, OTEL_TRACES_SAMPLER decides.
    clear(&[
        "SPANPLUG_TRACING_SAMPLING_RATIO",
        "SPANPLUG_TRACING_ENABLED",
    ]);
    set(&[("OTEL_TRACES_SAMPLER", "always_off")]);
    let quiet = tempfile::tempdir().unwrap();
    set(&[("SPANPLUG_LOG_DIR", quiet.path().to_str().unwrap())]);
    let guard = spanplug_host::init(TracingConfig::default()).unwrap();
    guard.tracer("env").in_span("never_sampled", |_| {});
    guard.shutdown().unwrap();
    assert!(read_records(quiet.path()).is_empty());

    clear(&[
        "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
        "SPANPLUG_LOG_DIR",
        "SPANPLUG_PLUGIN_PATH",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
    ]);
}
