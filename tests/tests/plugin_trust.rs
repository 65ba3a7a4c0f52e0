//! Only plugins nobody else could have replaced are loaded, and pinned plugins only
//! with their pinned SHA-256. One test: the environment is process-wide.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use spanplug_tests::{library_file_name, plugin_file};

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn load(dir: &Path, pins: &[(&str, &str)]) -> Result<(), String> {
    let mut config = spanplug_config::TracingConfig::default()
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(dir)
        .with_exporter_config("log_dir", dir.join("logs").to_string_lossy());
    for (module, digest) in pins {
        config
            .exporter_sha256
            .insert(module.to_string(), digest.to_string());
    }
    spanplug_sdk::init(config)
        .map(drop)
        .map_err(|e| e.to_string())
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
fn insecure_or_unpinned_plugins_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("plugins");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o755);
    let library = dir.join(library_file_name("console_file"));
    std::fs::copy(plugin_file("console_file"), &library).unwrap();

    set_mode(&library, 0o666);
    let error = load(&dir, &[]).unwrap_err();
    assert!(
        error.contains(&format!("refusing to load {}", library.display())),
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

    set_mode(&library, 0o755);
    set_mode(&dir, 0o775);
    let error = load(&dir, &[]).unwrap_err();
    assert!(
        error.contains(&format!(
            "plugin folder {} is writable by its group",
            dir.display()
        )),
        "{error}"
    );

    // Owned by another user (CI runs as root and can set one up).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        set_mode(&dir, 0o755);
        std::os::unix::fs::chown(&library, Some(65534), None).unwrap();
        let error = load(&dir, &[]).unwrap_err();
        assert!(
            error.contains("is owned by uid 65534, neither this user nor root"),
            "{error}"
        );
        std::os::unix::fs::chown(&library, Some(0), None).unwrap();
        set_mode(&dir, 0o775);
    }

    std::env::set_var("SPANPLUG_ALLOW_INSECURE_PLUGINS", "1");
    load(&dir, &[]).expect("the operator allowed it");
    std::env::remove_var("SPANPLUG_ALLOW_INSECURE_PLUGINS");
    set_mode(&dir, 0o755);
    load(&dir, &[]).expect("safe permissions load");

    let digest = sha256_hex(&library);
    load(&dir, &[("console_file", &digest)]).expect("the pinned digest matches");
    let wrong = "0".repeat(64);
    let error = load(&dir, &[("console_file", &wrong)]).unwrap_err();
    assert!(
        error.contains("does not match its pinned SHA-256 (exporter_sha256)"),
        "{error}"
    );
    assert!(
        error.contains(&format!("expected {wrong}, found {digest}")),
        "{error}"
    );

    // A pin that is not 64 hex digits fails as such, not later as a mismatch.
    let error = load(&dir, &[("console_file", "abc123")]).unwrap_err();
    assert_eq!(
        error,
        "the pin for console_file is not valid: exporter_sha256.console_file: expected a SHA-256 of 64 hex digits (as `sha256sum` prints), got 6 characters"
    );
    let yaml = "tracing_config:\n  exporter_sha256: {console_file: xyz}\n";
    let error = spanplug_config::TracingConfig::from_yaml_str(yaml)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(
            "tracing_config.exporter_sha256.console_file: expected a SHA-256 of 64 hex digits"
        ),
        "{error}"
    );

    // require_sha256: an unpinned plugin is refused, a pinned one loads.
    std::env::set_var("SPANPLUG_REQUIRE_SHA256", "1");
    let error = load(&dir, &[]).unwrap_err();
    std::env::remove_var("SPANPLUG_REQUIRE_SHA256");
    assert!(
        error.contains("has no SHA-256 pin and require_sha256 is set"),
        "{error}"
    );
    let yaml = "tracing_config:\n  require_sha256: true\n";
    let mut config = spanplug_config::TracingConfig::from_yaml_str(yaml).unwrap();
    assert!(config.require_sha256);
    config = config
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(&dir)
        .with_exporter_config("log_dir", dir.join("logs").to_string_lossy());
    config.exporter_sha256.insert("console_file".into(), digest);
    spanplug_sdk::init(config).expect("pinned and required");
}
