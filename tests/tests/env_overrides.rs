//! Environment overrides, one behaviour a test, each holding the environment (it is
//! process-wide); values that are not UTF-8 in child processes of their own.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use opentelemetry::trace::Tracer as _;
use spanplug_config::{ConfigErrorKind, TracingConfig};
use spanplug_loader::LoadErrorKind;
use spanplug_sdk::InitErrorKind;
use spanplug_tests::{library_file_name, plugin_dir, read_records, span_files};

static ENV: Mutex<()> = Mutex::new(());

/// The process environment, held by one test at a time; what the test set is
/// removed when it is dropped, also when the test fails.
struct Env {
    set: Vec<String>,
    _held: MutexGuard<'static, ()>,
}

impl Env {
    fn hold() -> Env {
        Env {
            set: Vec::new(),
            _held: ENV.lock().unwrap_or_else(PoisonError::into_inner),
        }
    }

    fn set(&mut self, vars: &[(&str, &str)]) {
        for (name, value) in vars {
            std::env::set_var(name, value);
            self.set.push(name.to_string());
        }
    }

    fn clear(&mut self, names: &[&str]) {
        for name in names {
            std::env::remove_var(name);
        }
    }

    /// Plugins from this build's folder, console_file writing under `log_dir`.
    fn with_plugins(mut self, log_dir: &std::path::Path) -> Env {
        self.set(&[
            ("SPANPLUG_LOG_DIR", log_dir.to_str().unwrap()),
            ("SPANPLUG_PLUGIN_PATH", plugin_dir().to_str().unwrap()),
        ]);
        self
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for name in &self.set {
            std::env::remove_var(name);
        }
    }
}

/// Everything the YAML says is overridden, and the OpenTelemetry resource
/// variables name the service.
#[test]
fn the_environment_overrides_the_yaml_and_names_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "tracing_config:\n  enabled: false\n  sampling_ratio: 0.0\n  exporter_import_path: test_plugins:factory_error\n";
    let mut env = Env::hold().with_plugins(dir.path());
    env.set(&[
        ("SPANPLUG_TRACING_ENABLED", "true"),
        ("SPANPLUG_TRACING_SAMPLING_RATIO", "1"),
        (
            "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
            "console_file:default_tracing_exporter",
        ),
        ("OTEL_SERVICE_NAME", "from-env"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment=staging,service.version=2.0",
        ),
    ]);
    let guard = spanplug_sdk::init(TracingConfig::from_yaml_str(yaml).unwrap()).unwrap();
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
}

#[test]
fn a_bad_ratio_or_switch_is_an_invalid_value_naming_its_variable() {
    let mut env = Env::hold();
    env.set(&[("SPANPLUG_TRACING_SAMPLING_RATIO", "2")]);
    let error = invalid_variable(TracingConfig::default(), "SPANPLUG_TRACING_SAMPLING_RATIO");
    assert_eq!(
        error,
        "SPANPLUG_TRACING_SAMPLING_RATIO: must be a number between 0 and 1, got 2"
    );
    env.set(&[
        ("SPANPLUG_TRACING_SAMPLING_RATIO", "1"),
        ("SPANPLUG_TRACING_ENABLED", "maybe"),
    ]);
    let error = invalid_variable(TracingConfig::default(), "SPANPLUG_TRACING_ENABLED");
    assert!(
        error.starts_with("SPANPLUG_TRACING_ENABLED: expected true or false"),
        "{error}"
    );
}

/// Without a ratio anywhere, OTEL_TRACES_SAMPLER decides.
#[test]
fn without_a_ratio_otel_traces_sampler_decides() {
    let quiet = tempfile::tempdir().unwrap();
    let mut env = Env::hold().with_plugins(quiet.path());
    env.set(&[
        (
            "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
            "console_file:default_tracing_exporter",
        ),
        ("OTEL_TRACES_SAMPLER", "always_off"),
    ]);
    let guard = spanplug_sdk::init(TracingConfig::default()).unwrap();
    guard.tracer("env").in_span("never_sampled", |_| {});
    guard.shutdown().unwrap();
    assert!(read_records(quiet.path()).is_empty());
}

/// The import paths a guard loaded.
fn loaded(guard: &spanplug_sdk::TracingGuard) -> Vec<&str> {
    guard
        .plugins()
        .iter()
        .map(|p| p.import_path.as_str())
        .collect()
}

/// The config error `init` failed with, which must be an invalid value of
/// `variable`; its message.
#[track_caller]
fn invalid_variable(config: TracingConfig, variable: &str) -> String {
    let error = spanplug_sdk::init(config).expect_err("init failed");
    let message = error.to_string();
    assert_eq!(error.kind(), InitErrorKind::Config, "{message}");
    let config_error = error.as_config().expect("a config error");
    assert_eq!(
        config_error.kind(),
        ConfigErrorKind::InvalidValue,
        "{message}"
    );
    assert_eq!(config_error.key(), Some(variable), "{message}");
    message
}

#[test]
fn otel_sdk_disabled_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Env::hold().with_plugins(dir.path());
    env.set(&[("OTEL_SDK_DISABLED", "TRUE")]);
    let guard = spanplug_sdk::init(
        TracingConfig::default().with_exporter_import_path("test_plugins:factory_error"),
    )
    .unwrap();
    assert!(
        !guard.is_enabled() && guard.plugins().is_empty(),
        "nothing loads"
    );
}

/// OTEL_TRACES_SAMPLER(_ARG), OTEL_PROPAGATORS, OTEL_TRACES_EXPORTER and spanplug's
/// switches, each validated with an error naming it and the valid values.
#[test]
fn each_bad_variable_is_named_with_its_valid_values() {
    let cases: [(&[(&str, &str)], &str); 7] = [
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
        (
            &[("SPANPLUG_REQUIRE_SHA256", "sometimes")],
            "SPANPLUG_REQUIRE_SHA256: expected true or false (or 1/0, yes/no, on/off, in any case), got \"sometimes\"",
        ),
    ];
    let mut env = Env::hold();
    for (vars, expected) in cases {
        env.set(vars);
        let (variable, _) = expected.split_once(':').unwrap();
        assert_eq!(
            invalid_variable(TracingConfig::default(), variable),
            expected
        );
        env.clear(&vars.iter().map(|(name, _)| *name).collect::<Vec<_>>());
    }
}

/// OTEL_TRACES_EXPORTER applies only when no import path is configured.
#[test]
fn otel_traces_exporter_applies_only_without_an_import_path() {
    let dir = tempfile::tempdir().unwrap();
    let mut env = Env::hold().with_plugins(dir.path());
    env.set(&[("OTEL_TRACES_EXPORTER", "none")]);
    let guard = spanplug_sdk::init(TracingConfig::default()).unwrap();
    assert!(guard.is_enabled() && guard.plugins().is_empty());
    drop(guard);
    env.set(&[("OTEL_TRACES_EXPORTER", "otlp")]);
    let guard = spanplug_sdk::init(
        TracingConfig::default().with_exporter_import_path("console_file:default_tracing_exporter"),
    )
    .unwrap();
    assert_eq!(loaded(&guard), ["console_file:default_tracing_exporter"]);
    drop(guard);
    env.set(&[("OTEL_TRACES_EXPORTER", "console")]);
    let guard = spanplug_sdk::init(TracingConfig::default()).unwrap();
    assert_eq!(loaded(&guard), ["console_file:default_tracing_exporter"]);
}

/// `on_error: warn`: an entry that cannot load is logged once with its full message
/// and skipped; the others run; with none left, tracing runs with no processors.
#[test]
fn on_error_warn_skips_what_cannot_load() {
    spanplug_tests::log_capture::install();
    let dir = tempfile::tempdir().unwrap();
    let mut env = Env::hold().with_plugins(dir.path());
    let config = || {
        TracingConfig::default()
            .with_exporter_import_path("no_such_plugin:exporter")
            .with_exporter_import_path("test_plugins:factory_error")
            .with_exporter_import_path("console_file:default_tracing_exporter")
    };
    let error = spanplug_sdk::init(config()).expect_err("init failed");
    assert_eq!(
        error.as_load().map(|e| e.kind()),
        Some(LoadErrorKind::ModuleNotFound),
        "{error}"
    );
    let error = error.to_string();
    assert!(
        error.starts_with("plugin module \"no_such_plugin\" not found"),
        "{error}"
    );

    env.set(&[("SPANPLUG_TRACING_ON_ERROR", "warn")]);
    let guard = spanplug_sdk::init(config()).unwrap();
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

    let guard = spanplug_sdk::init(
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
}

/// A value that is not UTF-8, with a secret in it that must never be shown.
const NOT_UTF8: &[u8] = b"s3cret-\xff";

/// Every variable the host reads as text (the SDK's resource and span limits
/// included): each is removed from the children, which then get one of them.
const HOST_VARIABLES: [&str; 17] = [
    "SPANPLUG_TRACING_ENABLED",
    "SPANPLUG_TRACING_SAMPLING_RATIO",
    "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
    "SPANPLUG_TRACING_ON_ERROR",
    "SPANPLUG_LOG_DIR",
    "SPANPLUG_REQUIRE_SHA256",
    "SPANPLUG_ALLOW_INSECURE_PLUGINS",
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_TRACES_EXPORTER",
    "OTEL_PROPAGATORS",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
];

/// Runs `init` in a child process with `vars` set and nothing else of the host's;
/// returns its stdout and stderr, checked free of the secret.
fn init_in_a_child(vars: &[(&str, &OsStr)]) -> (String, String) {
    let mut child = spanplug_tests::child_test("init_with_the_environment_it_is_given");
    for other in HOST_VARIABLES
        .iter()
        .chain(&["SPANPLUG_PLUGIN_PATH", "SPANPLUG_LOG"])
    {
        child.env_remove(other);
    }
    let output = child.envs(vars.iter().copied()).output().unwrap();
    let stdout = spanplug_tests::assert_child_passed(&output);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stdout.contains("s3cret") && !stderr.contains("s3cret"),
        "{vars:?}: the value was shown: {stdout}{stderr}"
    );
    (stdout, stderr)
}

#[test]
#[ignore = "run by the tests below, in a child process with its own environment"]
fn init_with_the_environment_it_is_given() {
    spanplug_tests::assert_in_child();
    spanplug_loader::stderr_log::init();
    // Given a plugin folder, the child looks for a module that is nowhere, so that
    // the error lists the folders searched.
    let config = match std::env::var_os("SPANPLUG_PLUGIN_PATH") {
        Some(_) => TracingConfig::default().with_exporter_import_path("no_such_plugin:exporter"),
        None => TracingConfig::default()
            .with_exporter_import_path("test_plugins:factory_error")
            .with_plugin_dir(plugin_dir()),
    };
    match spanplug_sdk::init(config) {
        Ok(guard) => println!("init: ok, {} plugins", guard.plugins().len()),
        Err(error) => println!("init: {error}"),
    }
}

#[test]
fn a_setting_that_is_not_utf8_is_an_error_naming_its_variable() {
    for name in HOST_VARIABLES {
        let (stdout, _) = init_in_a_child(&[(name, OsStr::from_bytes(NOT_UTF8))]);
        assert!(
            stdout.contains(&format!(
                "init: {name}: the value is not valid UTF-8 (its bytes are not shown)"
            )),
            "{name}: {stdout}"
        );
    }
    // A pin requirement that reads as neither on nor off is not taken as off.
    let (stdout, _) = init_in_a_child(&[("SPANPLUG_REQUIRE_SHA256", OsStr::new("1 please"))]);
    assert!(
        stdout.contains("init: SPANPLUG_REQUIRE_SHA256: expected true or false"),
        "{stdout}"
    );
}

#[test]
fn a_fact_or_log_level_that_is_not_utf8_is_named_in_a_warning_and_tracing_runs() {
    for (name, warning) in [
        ("K8S_POD_NAME", "left out of the resource"),
        ("SPANPLUG_LOG", "logging at info"),
    ] {
        let (stdout, stderr) = init_in_a_child(&[(name, OsStr::from_bytes(NOT_UTF8))]);
        assert!(
            stderr.contains(&format!(
                "spanplug warn: {name}: the value is not valid UTF-8 (its bytes are not shown); set it to UTF-8 text or unset it; {warning}"
            )),
            "{name}: {stderr}"
        );
        // Past the environment: the plugin's own failure.
        assert!(
            stdout.contains("init: factory test_plugins:factory_error"),
            "{name}: {stdout}"
        );
    }
}

#[test]
fn a_plugin_folder_whose_name_is_not_utf8_is_still_searched() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join(OsStr::from_bytes(b"plugins-\xff"));
    std::fs::create_dir(&folder).unwrap();
    let (stdout, _) = init_in_a_child(&[("SPANPLUG_PLUGIN_PATH", folder.as_os_str())]);
    assert!(
        stdout.contains("init: plugin module \"no_such_plugin\" not found")
            && stdout.contains("plugins-\u{fffd}"),
        "{stdout}"
    );
}

/// spanplug's own booleans spelt `on`, `Off` or ` YES ` take effect, not only parse.
#[test]
fn booleans_spelt_on_off_or_yes_take_effect() {
    let (stdout, _) = init_in_a_child(&[("SPANPLUG_REQUIRE_SHA256", OsStr::new("on"))]);
    assert!(
        stdout.contains("has no SHA-256 pin and require_sha256 is set"),
        "{stdout}"
    );
    let (stdout, _) = init_in_a_child(&[("SPANPLUG_TRACING_ENABLED", OsStr::new("Off"))]);
    assert!(stdout.contains("init: ok, 0 plugins"), "{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("group-writable");
    std::fs::create_dir(&folder).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o775)).unwrap();
    let library = library_file_name("test_plugins");
    std::fs::copy(plugin_dir().join(&library), folder.join(&library)).unwrap();
    let mut vars = vec![
        ("SPANPLUG_PLUGIN_PATH", folder.as_os_str()),
        (
            "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
            OsStr::new("test_plugins:factory_error"),
        ),
    ];
    let (stdout, _) = init_in_a_child(&vars);
    assert!(stdout.contains("is writable by its group"), "{stdout}");
    vars.push(("SPANPLUG_ALLOW_INSECURE_PLUGINS", OsStr::new(" YES ")));
    let (stdout, _) = init_in_a_child(&vars);
    // Loaded: its factory ran (and fails, as this test plugin's does).
    assert!(
        stdout.contains("init: factory test_plugins:factory_error"),
        "{stdout}"
    );
}
