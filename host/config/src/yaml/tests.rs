//! Reading sections: keys, entries, setting maps and relative paths.

use spanplug_loader::ProcessorEntry;

use crate::{ConfigErrorKind, TracingConfig};

#[test]
fn reads_a_service_file_section() {
    let config = TracingConfig::from_yaml_str(
        "name: svc\ntracing_config:\n  sampling_ratio: 0.5\n  exporter_import_path: [a:b, c:d]\n  exporter_config: {format: jsonl, flush_interval_ms: 50}\n",
    )
    .unwrap();
    assert!(config.enabled);
    assert_eq!(config.sampling_ratio, Some(0.5));
    assert_eq!(
        config.exporter_import_path,
        [ProcessorEntry::new("a:b"), ProcessorEntry::new("c:d")]
    );
    assert_eq!(config.exporter_config.get("flush_interval_ms"), Some("50"));
}

#[test]
fn unknown_keys_name_the_valid_ones() {
    let error = TracingConfig::from_yaml_str("tracing_config:\n  sampling: 1\n").unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Yaml);
    assert_eq!(error.path(), None, "text has no file");
    let error = error.to_string();
    assert!(error.contains("unknown field `sampling`"), "{error}");
    assert!(error.contains("sampling_ratio"), "{error}");
    assert!(error.contains("exporter_import_path"), "{error}");
}

#[test]
fn ratios_outside_zero_to_one_are_rejected() {
    for bad in ["1.5", "-0.1", ".nan"] {
        let error =
            TracingConfig::from_yaml_str(&format!("tracing_config:\n  sampling_ratio: {bad}\n"))
                .unwrap_err();
        assert_eq!(error.kind(), ConfigErrorKind::Yaml);
        let error = error.to_string();
        assert!(error.contains("tracing_config.sampling_ratio"), "{error}");
    }
}

#[test]
fn host_settings_cannot_come_from_a_file() {
    let error = TracingConfig::from_yaml_str(
        "tracing_config:\n  exporter_config: {spanplug.dry_run: true}\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("tracing_config.exporter_config.spanplug.dry_run: names starting with `spanplug.` are reserved for the host"),
        "{error}"
    );
}

#[test]
fn plugin_path_resolves_against_the_yaml_folder_and_plugins_are_told_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("service.yaml");
    std::fs::write(
        &file,
        "tracing_config:\n  plugin_path: plugins\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {certificate: certs/ca.pem, endpoint: x}\n  exporter_config: {log_dir: logs, format: jsonl}\n",
    )
    .unwrap();
    let config = TracingConfig::from_yaml_file(&file).unwrap();
    assert_eq!(config.plugin_path, [dir.path().join("plugins")]);
    assert_eq!(config.config_dir.as_deref(), Some(dir.path()));
    // Plugin settings stay as written: each plugin resolves its own against config_dir.
    assert_eq!(config.exporter_config.get("log_dir"), Some("logs"));
    let entry = &config.exporter_import_path[0].config;
    assert_eq!(entry.get("certificate"), Some("certs/ca.pem"));
    assert_eq!(entry.get("endpoint"), Some("x"));
}

#[test]
fn a_config_from_text_names_no_folder() {
    let config = TracingConfig::from_yaml_str("tracing_config:\n  plugin_path: plugins\n").unwrap();
    assert_eq!(config.config_dir, None);
    assert_eq!(config.plugin_path, [std::path::PathBuf::from("plugins")]);
}

#[test]
fn no_section_means_disabled() {
    assert!(
        !TracingConfig::from_yaml_str("applications: []\n")
            .unwrap()
            .enabled
    );
}

#[test]
fn entries_take_their_own_config() {
    std::env::set_var("SPANPLUG_TEST_CONFIG_KEY", "k-123");
    let config = TracingConfig::from_yaml_str(
        "tracing_config:\n  exporter_import_path:\n    - context_enricher:serve_context\n    - import_path: otlp_http:otlp\n      config: {endpoint: \"http://a:4318\", headers: \"x-api-key=${env:SPANPLUG_TEST_CONFIG_KEY}\", timeout: 5}\n  exporter_config: {log_dir: /tmp/x}\n",
    )
    .unwrap();
    let entries = config.entries();
    assert_eq!(
        entries[0],
        ProcessorEntry::new("context_enricher:serve_context")
    );
    assert_eq!(entries[1].import_path, "otlp_http:otlp");
    assert_eq!(entries[1].config.get("headers"), Some("x-api-key=k-123"));
    assert_eq!(entries[1].config.get("timeout"), Some("5"));
    let merged = entries[1].config.over(&config.exporter_config);
    assert_eq!(merged.get("log_dir"), Some("/tmp/x"));
    assert_eq!(merged.get("endpoint"), Some("http://a:4318"));
    let debug = format!("{config:?}");
    assert!(
        !debug.contains("k-123") && !debug.contains("/tmp/x"),
        "{debug}"
    );
    assert!(debug.contains("headers"), "{debug}");
}

#[test]
fn bad_entries_name_their_position_and_the_valid_keys() {
    let error = |yaml: &str| TracingConfig::from_yaml_str(yaml).unwrap_err().to_string();
    let e = error("tracing_config:\n  exporter_import_path: [a:b, {config: {x: 1}}]\n");
    assert!(
        e.contains("exporter_import_path[1]") && e.contains("needs `import_path`"),
        "{e}"
    );
    let e = error("tracing_config:\n  exporter_import_path: [{import_path: a:b, confg: {}}]\n");
    assert!(
        e.contains("unknown key `confg`; valid keys: import_path, config"),
        "{e}"
    );
    let e = error("tracing_config:\n  exporter_import_path: 5\n");
    assert!(e.contains("got a number"), "{e}");
    let e = error("tracing_config:\n  exporter_config: {a: {b: c}}\n");
    assert!(
        e.contains("exporter_config.a: expected a string, number or boolean, got a map"),
        "{e}"
    );
}

#[test]
fn a_file_that_cannot_be_read_is_a_read_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.yaml");
    let error = TracingConfig::from_yaml_file(&missing).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Read);
    assert_eq!(error.path(), Some(missing.as_path()));
    let text = dir.path().join("latin1.yaml");
    std::fs::write(&text, b"tracing_config: {}\n# caf\xe9\n").unwrap();
    let error = TracingConfig::from_yaml_file(&text).unwrap_err();
    assert_eq!(error.kind(), ConfigErrorKind::Read);
    assert!(error.to_string().contains("is not UTF-8 text"), "{error}");
}
