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
        "OTEL_TRACES_SAMPLER",
        "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
    ]);

    opentelemetry_switches();
    on_error_warn_skips_what_cannot_load();

    clear(&[
        "SPANPLUG_LOG_DIR",
        "SPANPLUG_PLUGIN_PATH",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
    ]);
}

/// The import paths a guard loaded.
fn loaded(guard: &spanplug_host::TracingGuard) -> Vec<&str> {
    guard
        .plugins()
        .iter()
        .map(|p| p.import_path.as_str())
        .collect()
}

fn init_error(config: TracingConfig) -> String {
    spanplug_host::init(config).err().unwrap().to_string()
}

/// OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER, OTEL_PROPAGATORS and the sampler
/// variables, each validated with an error naming it and the valid values.
fn opentelemetry_switches() {
    let failing =
        || TracingConfig::default().with_exporter_import_path("test_plugins:factory_error");

    set(&[("OTEL_SDK_DISABLED", "TRUE")]);
    let guard = spanplug_host::init(failing()).unwrap();
    assert!(
        !guard.is_enabled() && guard.plugins().is_empty(),
        "nothing loads"
    );
    drop(guard);
    clear(&["OTEL_SDK_DISABLED"]);

    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("OTEL_TRACES_SAMPLER", "traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "5")],
            "OTEL_TRACES_SAMPLER_ARG: must be a number between 0 and 1, got 5",
        ),
        (
            &[("OTEL_TRACES_SAMPLER_ARG", "x")],
            "OTEL_TRACES_SAMPLER_ARG: expected a number between 0 and 1, got \"x\"",
        ),
        (
            &[("OTEL_TRACES_SAMPLER", "sometimes")],
            "OTEL_TRACES_SAMPLER: \"sometimes\" is not supported; valid: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio",
        ),
        (
            &[("OTEL_PROPAGATORS", "tracecontext,b3")],
            "OTEL_PROPAGATORS: \"b3\" is not supported; valid: tracecontext, baggage, none",
        ),
        (
            &[("OTEL_TRACES_EXPORTER", "zipkin")],
            "OTEL_TRACES_EXPORTER: \"zipkin\" is not supported; valid: otlp, console, none (or name plugins in SPANPLUG_TRACING_EXPORTER_IMPORT_PATH)",
        ),
        (
            &[("SPANPLUG_TRACING_ON_ERROR", "ignore")],
            "SPANPLUG_TRACING_ON_ERROR: expected fail or warn, got \"ignore\"",
        ),
    ];
    for (vars, expected) in cases {
        set(vars);
        assert_eq!(init_error(TracingConfig::default()), expected);
        clear(&vars.iter().map(|(name, _)| *name).collect::<Vec<_>>());
    }

    // OTEL_TRACES_EXPORTER applies only when no import path is configured.
    set(&[("OTEL_TRACES_EXPORTER", "none")]);
    let guard = spanplug_host::init(TracingConfig::default()).unwrap();
    assert!(guard.is_enabled() && guard.plugins().is_empty());
    drop(guard);
    set(&[("OTEL_TRACES_EXPORTER", "otlp")]);
    let guard = spanplug_host::init(
        TracingConfig::default().with_exporter_import_path("console_file:default_tracing_exporter"),
    )
    .unwrap();
    assert_eq!(loaded(&guard), ["console_file:default_tracing_exporter"]);
    drop(guard);
    set(&[("OTEL_TRACES_EXPORTER", "console")]);
    let guard = spanplug_host::init(TracingConfig::default()).unwrap();
    assert_eq!(loaded(&guard), ["console_file:default_tracing_exporter"]);
    drop(guard);
    clear(&["OTEL_TRACES_EXPORTER"]);
}

/// `on_error: warn`: an entry that cannot load is logged once with its full message
/// and skipped; the others run; with none left, tracing runs with no processors.
fn on_error_warn_skips_what_cannot_load() {
    spanplug_tests::log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    set(&[("SPANPLUG_LOG_DIR", dir.path().to_str().unwrap())]);
    let config = || {
        TracingConfig::default()
            .with_exporter_import_path("no_such_plugin:exporter")
            .with_exporter_import_path("test_plugins:factory_error")
            .with_exporter_import_path("console_file:default_tracing_exporter")
    };
    let error = init_error(config());
    assert!(
        error.starts_with("plugin module \"no_such_plugin\" not found"),
        "{error}"
    );

    set(&[("SPANPLUG_TRACING_ON_ERROR", "warn")]);
    let guard = spanplug_host::init(config()).unwrap();
    assert_eq!(loaded(&guard), ["console_file:default_tracing_exporter"]);
    guard.tracer("warn").in_span("still_traced", |_| {});
    guard.shutdown().unwrap();
    assert_eq!(read_records(dir.path())[0].name, "still_traced");
    let skipped = spanplug_tests::log_capture::lines_containing("skipped (on_error: warn)");
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(
        skipped.iter().all(|line| line.starts_with("ERROR ")),
        "{skipped:?}"
    );
    assert!(
        skipped[0].contains("plugin module \"no_such_plugin\" not found; searched:"),
        "{skipped:?}"
    );
    assert!(
        skipped[1].contains("factory test_plugins:factory_error failed"),
        "{skipped:?}"
    );

    let guard = spanplug_host::init(
        TracingConfig::default().with_exporter_import_path("no_such_plugin:exporter"),
    )
    .unwrap();
    assert!(guard.is_enabled() && guard.plugins().is_empty());
    drop(guard);
    assert_eq!(
        spanplug_tests::log_capture::lines_containing(
            "none of the 1 exporter import paths could be loaded"
        )
        .len(),
        1
    );
    clear(&["SPANPLUG_TRACING_ON_ERROR"]);
}
