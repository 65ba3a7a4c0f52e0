//! Every error prints its cause once under anyhow's `{:#}` (the chain a binary
//! reports): an error whose message already says its inner error has no `source`,
//! and one that only wraps another is transparent.

use std::os::unix::fs::PermissionsExt;

use spanplug_config::TracingConfig;
use spanplug_loader::{ModuleRef, Plugin, PluginSearchPath};
use spanplug_sdk::{InitError, InitErrorKind};
use spanplug_tests::{config, plugin_dir, plugin_file};

/// The chain anyhow reports for `error`, checked to say `cause` exactly once.
#[track_caller]
fn report_once(error: impl std::error::Error + Send + Sync + 'static, cause: &str) -> String {
    let report = format!("{:#}", anyhow::Error::from(error));
    assert_eq!(report.matches(cause).count(), 1, "{report}");
    report
}

#[test]
fn an_init_error_from_a_factory_says_the_factorys_message_once() {
    let dir = tempfile::tempdir().unwrap();
    let Err(error) = spanplug_sdk::init(config(&["test_plugins:factory_error"], dir.path())) else {
        panic!("init succeeded");
    };
    assert_eq!(error.kind(), InitErrorKind::Load);
    let report = report_once(error, "missing setting `endpoint`");
    assert_eq!(
        report,
        "factory test_plugins:factory_error failed: missing setting `endpoint`"
    );
}

#[test]
fn an_init_error_from_the_config_says_the_config_error_once() {
    let error = TracingConfig::from_yaml_str("tracing_config: [1]\n").unwrap_err();
    let error = InitError::from(error);
    assert_eq!(error.kind(), InitErrorKind::Config);
    report_once(error, "tracing_config: expected a map of settings");
}

/// A real rlib cargo built for these tests.
fn real_rlib() -> std::path::PathBuf {
    std::fs::read_dir(plugin_dir())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("libspanplug_console_file-") && name.ends_with(".rlib")
        })
        .expect("the console_file rlib beside the tests")
}

#[test]
fn load_errors_for_an_rlib_say_build_a_cdylib_once() {
    let dir = tempfile::tempdir().unwrap();
    let rlib = dir.path().join("libaudit.rlib");
    std::fs::copy(real_rlib(), &rlib).unwrap();
    let error = Plugin::load(&rlib).unwrap_err();
    report_once(error, "crate-type = [\"cdylib\"]");
    let search = PluginSearchPath::new(&[dir.path().to_path_buf()]);
    let error = search
        .resolve(&ModuleRef::Name("audit".into()))
        .unwrap_err();
    let report = report_once(error, "crate-type = [\"cdylib\"]");
    assert!(
        report.contains(&format!("{} exists", rlib.display())),
        "{report}"
    );
}

#[test]
fn a_refusal_in_a_shared_temporary_folder_says_move_the_library_once() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("libconsole_file.so");
    std::fs::copy(plugin_file("console_file"), &copy).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let error = Plugin::load(&copy).unwrap_err();
    let report = report_once(error, "move the library to a folder of your own");
    assert!(!report.contains("chmod go-w"), "{report}");
}
