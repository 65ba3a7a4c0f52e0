//! Every way loading a plugin can fail gives an error a user can act on, and the
//! host keeps running.

use std::path::Path;

use spanplug_config::TracingConfig;
use spanplug_loader::LoadErrorKind;
use spanplug_sdk::InitErrorKind;
use spanplug_tests::{config, library_file_name, plugin_dir, plugin_file};

/// The plugin error `init` failed with: its kind and its message, which is also
/// the message `init` shows.
#[track_caller]
fn init_error(config: TracingConfig) -> (LoadErrorKind, String) {
    let error = match spanplug_sdk::init(config) {
        Ok(_) => panic!("init succeeded"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert_eq!(error.kind(), InitErrorKind::Load, "{message}");
    let load = error.as_load().expect("a plugin error");
    assert_eq!(load.to_string(), message);
    (load.kind(), message)
}

#[track_caller]
fn load_error(import_path: &str) -> (LoadErrorKind, String) {
    let dir = tempfile::tempdir().unwrap();
    init_error(config(&[import_path], dir.path()))
}

#[test]
fn malformed_import_paths_show_the_expected_form() {
    for bad in [
        "console_file",
        "console_file:",
        "a.b:c",
        "console_file:default-exporter",
    ] {
        let (kind, message) = load_error(bad);
        assert_eq!(kind, LoadErrorKind::BadImportPath, "{message}");
        assert!(
            message.contains("expected \"module:function\""),
            "{message}"
        );
        assert!(message.contains(bad), "{message}");
    }
}

#[test]
fn missing_module_lists_every_path_searched_and_what_exists() {
    let (kind, message) = load_error("otlp_htp:honeycomb");
    assert_eq!(kind, LoadErrorKind::ModuleNotFound, "{message}");
    assert!(
        message.contains("plugin module \"otlp_htp\" not found"),
        "{message}"
    );
    let searched = plugin_dir().join(library_file_name("otlp_htp"));
    assert!(
        message.contains(&searched.display().to_string()),
        "{message}"
    );
    assert!(
        message.contains("console_file"),
        "available modules listed: {message}"
    );
}

#[test]
fn missing_explicit_file_is_named() {
    let (kind, message) = load_error("/nonexistent/libfoo.so:make");
    assert_eq!(kind, LoadErrorKind::FileNotFound, "{message}");
    assert_eq!(message, "plugin file /nonexistent/libfoo.so does not exist");
}

#[test]
fn unknown_function_lists_the_module_functions() {
    let (kind, message) = load_error("console_file:default_exporter");
    assert_eq!(kind, LoadErrorKind::UnknownFunction, "{message}");
    assert!(
        message.contains("has no function \"default_exporter\""),
        "{message}"
    );
    assert!(
        message.contains("default_tracing_exporter, debug_span_processor"),
        "{message}"
    );
}

#[test]
fn shared_library_that_is_not_a_plugin_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let libm = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.is_file())
    .expect("libm present");
    let fake = dir.path().join("libnot_a_plugin.so");
    std::fs::copy(libm, &fake).unwrap();
    let (kind, message) = load_error(&format!("{}:make", fake.display()));
    assert_eq!(kind, LoadErrorKind::NotAPlugin, "{message}");
    assert!(
        message.contains("is a shared library but not a spanplug plugin"),
        "{message}"
    );
}

#[test]
fn truncated_library_is_refused_before_dlopen() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(plugin_file("console_file")).unwrap();
    for cut in [1024, 4096, 100 * 1024, bytes.len() / 2] {
        let truncated = dir.path().join(format!("libtruncated_{cut}.so"));
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let (kind, message) =
            load_error(&format!("{}:default_tracing_exporter", truncated.display()));
        assert_eq!(kind, LoadErrorKind::InvalidLibrary, "{message}");
        assert!(message.contains("truncated"), "{message}");
    }
}

#[test]
fn text_file_is_not_a_library() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("libtext.so");
    std::fs::write(
        &text,
        "not a library at all, but long enough to hold an ELF header if it were one....",
    )
    .unwrap();
    let (kind, message) = load_error(&format!("{}:f", text.display()));
    assert_eq!(kind, LoadErrorKind::InvalidLibrary, "{message}");
    assert!(message.contains("not an ELF file"), "{message}");
}

#[test]
fn incompatible_api_version_names_both_versions() {
    let (kind, message) = load_error("abi_mismatch:anything");
    assert_eq!(kind, LoadErrorKind::IncompatibleVersion, "{message}");
    assert!(
        message.contains("built against spanplug-api 0.0.1"),
        "{message}"
    );
    assert!(
        message.contains(&format!("spanplug-api {}", spanplug_api::API_VERSION)),
        "{message}"
    );
}

#[test]
fn factory_error_is_reported_with_its_message() {
    let (kind, message) = load_error("test_plugins:factory_error");
    assert_eq!(kind, LoadErrorKind::FactoryFailed, "{message}");
    assert_eq!(
        message,
        "factory test_plugins:factory_error failed: missing setting `endpoint`"
    );
}

#[test]
fn factory_panic_is_caught_and_the_host_survives() {
    let (kind, message) = load_error("test_plugins:panic_in_factory");
    assert_eq!(kind, LoadErrorKind::FactoryFailed, "{message}");
    assert!(
        message.starts_with(
            "factory test_plugins:panic_in_factory failed: panicked: fixture factory panic (at "
        ),
        "{message}"
    );
    // Still alive, and plugins still load.
    let dir = tempfile::tempdir().unwrap();
    spanplug_sdk::init(config(
        &["console_file:default_tracing_exporter"],
        dir.path(),
    ))
    .unwrap();
}

#[test]
fn factory_returning_nothing_is_an_error() {
    let (kind, message) = load_error("test_plugins:no_processors");
    assert_eq!(kind, LoadErrorKind::NoProcessors, "{message}");
    assert_eq!(
        message,
        "factory test_plugins:no_processors returned no span processors"
    );
}

#[test]
fn explicit_file_paths_load() {
    let dir = tempfile::tempdir().unwrap();
    let import_path = format!(
        "{}:default_tracing_exporter",
        plugin_file("console_file").display()
    );
    let guard = spanplug_sdk::init(config(&[&import_path], dir.path())).unwrap();
    assert_eq!(guard.plugins().len(), 1);
    assert_eq!(guard.plugins()[0].api_version, spanplug_api::API_VERSION);
}

#[test]
fn several_plugins_load_side_by_side() {
    // abi_stable's RootModule::load_from_file would return the first plugin for both.
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(
        &[
            "console_file:default_tracing_exporter",
            "test_plugins:recorder",
        ],
        dir.path(),
    );
    config = config.with_exporter_config(
        "record_file",
        dir.path().join("record.txt").to_string_lossy(),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let names: Vec<&str> = guard
        .plugins()
        .iter()
        .map(|p| p.import_path.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "console_file:default_tracing_exporter",
            "test_plugins:recorder"
        ]
    );
    assert!(guard.plugins()[1].processors[0].starts_with("recorder"));
}

#[test]
fn bad_config_values_name_the_key() {
    let (kind, message) = init_error(
        TracingConfig::default()
            .with_exporter_import_path("console_file:default_tracing_exporter")
            .with_plugin_dir(plugin_dir())
            .with_exporter_config("format", "xml"),
    );
    // The plugin's factory validates its own settings.
    assert_eq!(kind, LoadErrorKind::FactoryFailed, "{message}");
    assert!(
        message.contains("exporter_config.format: expected `pretty` or `jsonl`, got `xml`"),
        "{message}"
    );
}

#[test]
fn a_factory_that_blocks_is_abandoned_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&["test_plugins:blocking_factory"], dir.path());
    config.factory_timeout = std::time::Duration::from_millis(300);
    let started = std::time::Instant::now();
    let (kind, message) = init_error(config);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(kind, LoadErrorKind::FactoryTimeout, "{message}");
    assert_eq!(
        message,
        "factory test_plugins:blocking_factory did not return within 300ms; a factory must not block (the call was abandoned)"
    );
}

#[test]
fn consecutive_loads_never_return_an_earlier_library() {
    // Each library is loaded through the descriptor that was checked; a reused
    // descriptor number must never make the loader hand back an earlier library.
    use spanplug_sdk::loader::Plugin;
    let names = |module: &str| -> Vec<String> {
        let plugin = Plugin::load(&plugin_file(module)).unwrap();
        plugin
            .factories()
            .iter()
            .map(|f| f.name().to_string())
            .collect()
    };
    for _ in 0..3 {
        assert_eq!(
            names("console_file"),
            ["default_tracing_exporter", "debug_span_processor"]
        );
        assert_eq!(
            names("context_enricher"),
            ["serve_context", "static_attributes"]
        );
        assert!(names("test_plugins").contains(&"recorder".to_string()));
    }
}
