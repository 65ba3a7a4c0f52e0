//! The `spanplug` binary end to end (`install-plugins` in install_plugins.rs).

mod support;

use std::path::Path;
use std::process::Command;

use support::{plugin_dir, spanplug, stderr, stdout};

#[test]
fn list_marks_functions_that_return_transformers() {
    let output = spanplug(&["list", "span_filter"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("    drop  [transformer] Drops spans matching any rule"),
        "{text}"
    );
    let text = stdout(&spanplug(&["list", "console_file"]));
    assert!(!text.contains("[transformer]"), "{text}");
}

#[test]
fn list_shows_functions_descriptions_and_api_version() {
    let output = spanplug(&["list", "console_file"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "built against spanplug-api {}",
            spanplug_api::API_VERSION
        )),
        "{text}"
    );
    assert!(
        text.contains("    default_tracing_exporter  Writes each span as JSON"),
        "{text}"
    );
    assert!(
        text.contains("    debug_span_processor      Writes each span as JSON"),
        "{text}"
    );
}

#[test]
fn check_loads_every_plugin_and_fails_on_any_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.yaml");
    let log_dir = dir.path().join("logs");
    std::fs::write(
        &config,
        format!(
            "applications: []\ntracing_config:\n  sampling_ratio: 0.01\n  exporter_import_path:\n    - console_file:default_tracing_exporter\n    - test_plugins:recorder\n    - test_plugins:factory_error\n  exporter_config:\n    log_dir: {}\n    record_file: {}\n",
            log_dir.display(),
            dir.path().join("record.txt").display()
        ),
    )
    .unwrap();
    let output = spanplug(&[
        "check",
        config.to_str().unwrap(),
        "--service-name",
        "checked",
    ]);
    let text = stdout(&output);
    assert!(!output.status.success());
    assert!(
        text.contains("warning: sampling_ratio 0.01 keeps fewer than 1 in 10 traces"),
        "{text}"
    );
    assert!(
        text.contains("ok    console_file:default_tracing_exporter"),
        "{text}"
    );
    assert!(text.contains("processor: console_file("), "{text}");
    // Each processor's self-metrics component: its types and its unique name.
    assert!(text.contains("component: batching_span_processor + console_file_span_exporter console_file:default_tracing_exporter/0"), "{text}");
    assert!(
        text.contains("component: test_plugins test_plugins:recorder/0"),
        "{text}"
    );
    assert!(text.contains("FAIL  test_plugins:factory_error\n        factory test_plugins:factory_error failed: missing setting `endpoint`"), "{text}");
    assert!(stderr(&output).contains("error: 1 of 3 exporter import paths failed"));
    // Each plugin load is logged once, with its path and API version.
    let log = stderr(&output);
    assert_eq!(
        log.matches("loaded span processor plugin console_file:default_tracing_exporter")
            .count(),
        1,
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "(spanplug-api {}): 1 processor(s)",
            spanplug_api::API_VERSION
        )),
        "{log}"
    );
    // A check has no side effects: console_file was asked for a dry run.
    assert!(!log_dir.exists(), "check created {}", log_dir.display());
}

#[test]
fn check_resolves_relative_paths_against_the_yaml_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    let config = dir.path().join("conf/service.yaml");
    std::fs::write(
        &config,
        "tracing_config:\n  exporter_import_path: console_file:default_tracing_exporter\n  exporter_config: {log_dir: ../var/logs}\n",
    )
    .unwrap();
    // Run from elsewhere: the YAML's folder decides, not the working directory.
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(["check", config.to_str().unwrap(), "--service-name", "rel"])
        .current_dir(std::env::temp_dir())
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env_remove("SPANPLUG_LOG_DIR")
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    let expected = dir.path().join("conf/../var/logs/spans");
    assert!(
        text.contains(&format!(
            "processor: console_file({}/rel_",
            expected.display()
        )),
        "{text}"
    );
    assert!(text.contains(", dry run)"), "{text}");
    assert!(!dir.path().join("var").exists());

    // A folder the spans could not be written to fails the check, still creating nothing.
    std::fs::write(dir.path().join("var"), "a file, not a folder").unwrap();
    let output = spanplug(&["check", config.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stdout(&output).contains("is not a directory"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn config_errors_name_the_key_and_print_os_errors_once() {
    let dir = tempfile::tempdir().unwrap();
    let output = spanplug(&["check", dir.path().to_str().unwrap()]);
    let text = stderr(&output);
    assert!(!output.status.success());
    assert_eq!(
        text.matches("is a directory, not a regular file").count(),
        1,
        "{text}"
    );
    for (yaml, expected) in [
        (
            "tracing_config:\n  exporter_import_path: 5\n",
            "tracing_config.exporter_import_path[0]: expected a \"module:function\" string or a map with `import_path` and `config`, got a number",
        ),
        (
            "tracing_config:\n  sampling_ratio: x\n",
            "tracing_config.sampling_ratio: expected a number between 0 and 1, got a string",
        ),
        (
            "tracing_config:\n  plugin_path: {a: 1}\n",
            "tracing_config.plugin_path: expected a string, got a map",
        ),
        (
            "tracing_config:\n  exporter_config: {a: {b: 1}}\n",
            "tracing_config.exporter_config.a: expected a string, number or boolean, got a map",
        ),
        (
            "tracing_config: true\n",
            "tracing_config: expected a map of settings, got a boolean",
        ),
        (
            "tracing_config:\n  on_error: maybe\n",
            "tracing_config.on_error: expected fail or warn, got \"maybe\"",
        ),
    ] {
        let config = dir.path().join("service.yaml");
        std::fs::write(&config, yaml).unwrap();
        let output = spanplug(&["check", config.to_str().unwrap()]);
        let text = stderr(&output);
        assert!(!output.status.success());
        assert!(text.contains(expected), "{yaml}: {text}");
        assert!(!text.contains("untagged") && !text.contains("f64"), "{text}");
    }
}

#[test]
fn check_reports_unknown_config_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.yaml");
    std::fs::write(
        &config,
        "tracing_config:\n  exporter_import_paths: console_file:default_tracing_exporter\n",
    )
    .unwrap();
    let output = spanplug(&["check", config.to_str().unwrap()]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(text.contains("unknown field `exporter_import_paths`, expected one of `enabled`, `sampling_ratio`, `exporter_import_path`"), "{text}");
}

/// Each console_file factory refuses keys of its entry's own `config` it does not
/// read, naming the key and the valid ones; the shared `exporter_config` is not checked.
#[test]
fn check_refuses_a_misspelt_console_file_key_naming_it_and_the_valid_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("service.yaml");
    for (entry, expected) in [
        (
            "{import_path: console_file:default_tracing_exporter, config: {log_dri: /tmp/x}}",
            "unknown config key `log_dri` for console_file:default_tracing_exporter; valid keys: log_dir, file_name, format, flush_interval_ms",
        ),
        (
            "{import_path: console_file:debug_span_processor, config: {log_dir: /tmp/x}}",
            "unknown config key `log_dir` for console_file:debug_span_processor; valid keys: format, flush_interval_ms",
        ),
    ] {
        std::fs::write(
            &config,
            format!("tracing_config:\n  exporter_import_path: [{entry}]\n  exporter_config: {{shared_by_others: 1}}\n"),
        )
        .unwrap();
        let output = spanplug(&["check", config.to_str().unwrap()]);
        let text = stdout(&output);
        assert!(!output.status.success(), "{text}");
        assert!(text.contains(expected), "{text}");
    }
}

/// `spanplug check` is a dry run: wherever console_file would write (the default
/// folder under `$XDG_RUNTIME_DIR`, an entry's own `log_dir`, stdout), nothing is
/// created or written.
#[test]
fn a_console_file_check_creates_nothing_wherever_spans_would_go() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = dir.path().join("runtime");
    std::fs::create_dir(&runtime).unwrap();
    let config = dir.path().join("service.yaml");
    std::fs::write(
        &config,
        format!(
            "tracing_config:\n  exporter_import_path:\n    - console_file:default_tracing_exporter\n    - {{import_path: console_file:default_tracing_exporter, config: {{log_dir: {}, format: jsonl}}}}\n    - console_file:debug_span_processor\n",
            dir.path().join("entry/logs").display()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(["check", config.to_str().unwrap(), "--service-name", "dry"])
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("SPANPLUG_LOG_DIR")
        .env_remove("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH")
        .output()
        .unwrap();
    let text = stdout(&output);
    assert!(output.status.success(), "{text}{}", stderr(&output));
    assert!(
        text.contains(&format!(
            "console_file({}/spanplug/logs/spans/dry_",
            runtime.display()
        )) && text.contains("console_file(stdout, dry run)"),
        "{text}"
    );
    assert_eq!(text.matches(", dry run)").count(), 3, "{text}");
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["runtime", "service.yaml"]);
    assert_eq!(std::fs::read_dir(&runtime).unwrap().count(), 0);
}

#[test]
fn tree_prints_the_python_reference_spans() {
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json");
    let output = spanplug(&["tree", reference.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = "\
Trace 0xbc2564d2e265a6dbf1bcb79e2e4904c8 (3 spans, 495µs)
1. GET /orders (peers-reference) - Duration: 495µs
   └── 2. load-orders (peers-reference) - Duration: 332µs
       └── 3. SELECT orders (peers-reference) - Duration: 14µs [ERROR: connection reset by peer]

Trace 0x4bf92f3577b34da6a3ce929d0e0e4736 (1 span, 22µs)
1. GET /user/{id} (gateway) - Duration: 22µs [remote parent 0x00f067aa0ba902b7]

";
    assert_eq!(stdout(&output), expected);
}

#[test]
fn tree_reports_bad_records_by_line_and_shows_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/reference/python-console-spans.json");
    let text = std::fs::read_to_string(reference).unwrap();
    let damaged = dir.path().join("damaged.json");
    std::fs::write(&damaged, format!("{{\"name\": \"cut off\n{text}")).unwrap();
    let output = spanplug(&["tree", damaged.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(
        stderr(&output).contains("damaged.json:1: not a span record"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("3. SELECT orders"));
}

#[test]
fn every_command_has_help() {
    for command in ["list", "check", "tree", "view", "install-plugins"] {
        let output = spanplug(&[command, "--help"]);
        assert!(output.status.success());
        assert!(stdout(&output).contains("Usage: spanplug"), "{command}");
    }
}
