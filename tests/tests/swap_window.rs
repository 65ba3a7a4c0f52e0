//! A plugin file swapped between the loader's checks and `dlopen` (an attacker racing
//! the loader): what loads is the file that was checked. Its own test binary, since
//! the fault is switched on by a process-wide variable.

use std::os::unix::fs::PermissionsExt;

use spanplug_tests::{library_file_name, plugin_file};

#[test]
fn a_file_swapped_after_its_checks_is_not_what_loads() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let library = dir.join(library_file_name("console_file"));
    std::fs::copy(plugin_file("console_file"), &library).unwrap();
    // What the attacker swaps in: another plugin, without the function asked for.
    let replacement = dir.join("replacement.so");
    std::fs::copy(plugin_file("test_plugins"), &replacement).unwrap();
    std::env::set_var("SPANPLUG_FAULT_SWAP_AFTER_CHECKS", &replacement);

    let config = spanplug_config::TracingConfig::default()
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(&dir)
        .with_exporter_config("log_dir", root.path().join("logs").to_string_lossy());
    let guard = spanplug_sdk::init(config).expect("the checked file is the one loaded");
    std::env::remove_var("SPANPLUG_FAULT_SWAP_AFTER_CHECKS");
    assert!(!replacement.exists(), "the swap happened");
    assert_eq!(
        std::fs::read(&library).unwrap(),
        std::fs::read(plugin_file("test_plugins")).unwrap(),
        "the file on disk is now the other plugin"
    );
    let processors = &guard.plugins()[0].processors;
    assert!(processors[0].starts_with("console_file("), "{processors:?}");
}
