//! Only plugins nobody else could have replaced are loaded, and pinned plugins only
//! with their pinned SHA-256.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use spanplug_config::ConfigErrorKind;
use spanplug_loader::LoadErrorKind;
use spanplug_sdk::InitErrorKind;
use spanplug_tests::{library_file_name, plugin_file};

/// The environment is process-wide: every test here takes this lock, as one that
/// sets SPANPLUG_ALLOW_INSECURE_PLUGINS would let another's refusal pass.
static ENV: Mutex<()> = Mutex::new(());

fn env_lock() -> MutexGuard<'static, ()> {
    ENV.lock().unwrap_or_else(PoisonError::into_inner)
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A plugin folder (mode 755) holding a copy of console_file (mode 755).
struct Plugins {
    _root: tempfile::TempDir,
    dir: PathBuf,
    library: PathBuf,
}

fn plugins() -> Plugins {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o755);
    let library = dir.join(library_file_name("console_file"));
    std::fs::copy(plugin_file("console_file"), &library).unwrap();
    set_mode(&library, 0o755);
    Plugins {
        _root: root,
        dir,
        library,
    }
}

fn console_file_config(dir: &Path) -> spanplug_config::TracingConfig {
    spanplug_config::TracingConfig::default()
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(dir)
        .with_exporter_config("log_dir", dir.join("logs").to_string_lossy())
}

/// Loads console_file from `dir` with `pins`; a failure is a plugin error: its kind
/// and message.
fn load(dir: &Path, pins: &[(&str, &str)]) -> Result<(), (LoadErrorKind, String)> {
    let mut config = console_file_config(dir);
    for (module, digest) in pins {
        config
            .exporter_sha256
            .insert(module.to_string(), digest.to_string());
    }
    spanplug_sdk::init(config).map(drop).map_err(|error| {
        let message = error.to_string();
        assert_eq!(error.kind(), InitErrorKind::Load, "{message}");
        (error.as_load().expect("a plugin error").kind(), message)
    })
}

fn sha256_hex(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn a_library_writable_by_every_user_is_refused() {
    let _env = env_lock();
    let plugins = plugins();
    set_mode(&plugins.library, 0o666);
    let (kind, error) = load(&plugins.dir, &[]).unwrap_err();
    assert_eq!(kind, LoadErrorKind::Untrusted, "{error}");
    assert!(
        error.contains(&format!("refusing to load {}", plugins.library.display())),
        "{error}"
    );
    assert!(
        error.contains("is writable by every user (mode 666)"),
        "{error}"
    );
    assert!(
        error.contains("SPANPLUG_ALLOW_INSECURE_PLUGINS=1"),
        "{error}"
    );
}

#[test]
fn a_group_writable_plugin_folder_is_refused() {
    let _env = env_lock();
    let plugins = plugins();
    set_mode(&plugins.dir, 0o775);
    let (kind, error) = load(&plugins.dir, &[]).unwrap_err();
    assert_eq!(kind, LoadErrorKind::Untrusted, "{error}");
    assert!(
        error.contains(&format!(
            "plugin folder {} is writable by its group",
            plugins.dir.display()
        )),
        "{error}"
    );
}

/// Only as root (as CI runs) can the test give the library another owner.
#[test]
fn a_library_owned_by_another_user_is_refused() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return;
    }
    let _env = env_lock();
    let plugins = plugins();
    std::os::unix::fs::chown(&plugins.library, Some(65534), None).unwrap();
    let (kind, error) = load(&plugins.dir, &[]).unwrap_err();
    assert_eq!(kind, LoadErrorKind::Untrusted, "{error}");
    assert!(
        error.contains("is owned by uid 65534, neither this user nor root"),
        "{error}"
    );
}

#[test]
fn the_operator_can_allow_an_insecure_plugin_folder() {
    let _env = env_lock();
    let plugins = plugins();
    set_mode(&plugins.dir, 0o775);
    std::env::set_var("SPANPLUG_ALLOW_INSECURE_PLUGINS", "1");
    let allowed = load(&plugins.dir, &[]);
    std::env::remove_var("SPANPLUG_ALLOW_INSECURE_PLUGINS");
    allowed.expect("the operator allowed it");
    set_mode(&plugins.dir, 0o755);
    load(&plugins.dir, &[]).expect("safe permissions load");
}

#[test]
fn a_pinned_plugin_loads_only_with_its_pinned_digest() {
    let _env = env_lock();
    let plugins = plugins();
    let digest = sha256_hex(&plugins.library);
    load(&plugins.dir, &[("console_file", &digest)]).expect("the pinned digest matches");
    let wrong = "0".repeat(64);
    let (kind, error) = load(&plugins.dir, &[("console_file", &wrong)]).unwrap_err();
    assert_eq!(kind, LoadErrorKind::ChecksumMismatch, "{error}");
    assert!(
        error.contains("does not match its pinned SHA-256 (exporter_sha256)"),
        "{error}"
    );
    assert!(
        error.contains(&format!("expected {wrong}, found {digest}")),
        "{error}"
    );
}

/// A pin that is not 64 hex digits fails as such, not later as a mismatch.
#[test]
fn a_pin_that_is_not_64_hex_digits_is_refused_as_such() {
    let _env = env_lock();
    let plugins = plugins();
    let (kind, error) = load(&plugins.dir, &[("console_file", "abc123")]).unwrap_err();
    assert_eq!(kind, LoadErrorKind::BadPin, "{error}");
    assert_eq!(
        error,
        "the pin for console_file is not valid: exporter_sha256.console_file: expected a SHA-256 of 64 hex digits (as `sha256sum` prints), got 6 characters"
    );
}

#[test]
fn a_pin_in_yaml_that_is_not_64_hex_digits_is_a_config_error() {
    let yaml = "tracing_config:\n  exporter_sha256: {console_file: xyz}\n";
    let error = spanplug_config::TracingConfig::from_yaml_str(yaml).unwrap_err();
    let message = error.to_string();
    assert_eq!(error.kind(), ConfigErrorKind::Yaml, "{message}");
    assert!(
        message.contains(
            "tracing_config.exporter_sha256.console_file: expected a SHA-256 of 64 hex digits"
        ),
        "{message}"
    );
}

/// require_sha256 (from the environment or the YAML): an unpinned plugin is refused,
/// a pinned one loads.
#[test]
fn require_sha256_refuses_unpinned_plugins() {
    let _env = env_lock();
    let plugins = plugins();
    std::env::set_var("SPANPLUG_REQUIRE_SHA256", "1");
    let refused = load(&plugins.dir, &[]);
    std::env::remove_var("SPANPLUG_REQUIRE_SHA256");
    let (kind, error) = refused.unwrap_err();
    assert_eq!(kind, LoadErrorKind::Unpinned, "{error}");
    assert!(
        error.contains("has no SHA-256 pin and require_sha256 is set"),
        "{error}"
    );

    let yaml = "tracing_config:\n  require_sha256: true\n";
    let mut config = spanplug_config::TracingConfig::from_yaml_str(yaml).unwrap();
    assert!(config.require_sha256);
    config = config
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(&plugins.dir)
        .with_exporter_config("log_dir", plugins.dir.join("logs").to_string_lossy());
    config
        .exporter_sha256
        .insert("console_file".into(), sha256_hex(&plugins.library));
    spanplug_sdk::init(config).expect("pinned and required");
}
