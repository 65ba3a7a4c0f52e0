//! The compatibility promise, proven: plugins compiled against other interface
//! versions (tests/fixtures/compat, its own workspace) are built here with cargo and
//! loaded into this host. One built against the next minor (the probe build) loads;
//! one that requires the next minor's host, and those of older majors (0.2, 0.1), are
//! refused with both versions named.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use opentelemetry::trace::Tracer as _;
use spanplug_host::{InitError, LoadError, LoadErrorKind};
use spanplug_tests::{config, library_file_name, read_records};

/// Builds the fixture workspace once per test process; its libraries' folder.
fn compat_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/compat/Cargo.toml");
        // target/<profile>/deps/<test> -> target/compat-fixtures
        let target = std::env::current_exe()
            .unwrap()
            .ancestors()
            .nth(3)
            .unwrap()
            .join("compat-fixtures");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "--locked", "--manifest-path"])
            .arg(&manifest)
            .arg("--target-dir")
            .arg(&target)
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building the compatibility fixtures failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        target.join("debug")
    })
}

fn fixture(module: &str) -> String {
    compat_dir()
        .join(library_file_name(module))
        .display()
        .to_string()
}

fn load_error(import_path: &str) -> (InitError, String) {
    let dir = tempfile::tempdir().unwrap();
    let error = spanplug_host::init(config(&[import_path], dir.path()))
        .err()
        .expect("the load must fail");
    let message = error.to_string();
    (error, message)
}

#[test]
fn a_plugin_built_against_the_next_minor_loads_into_this_older_host() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&[], dir.path())
        .with_exporter_import_path(format!("{}:nothing", fixture("compat_newer")))
        .with_exporter_import_path("console_file:default_tracing_exporter");
    let guard = spanplug_host::init(config).unwrap();
    assert_eq!(
        guard.plugins()[0].api_version,
        spanplug_api::NEXT_MINOR_VERSION
    );
    guard.tracer("compat").in_span("handle", |_cx| {});
    guard.shutdown().unwrap();
    assert_eq!(read_records(dir.path()).len(), 1);
}

/// Loading `module` fails with a version error naming both versions and `reason`.
fn assert_refused(module: &str, plugin_version: &str, reason: &str) {
    let (error, message) = load_error(&format!("{}:nothing", fixture(module)));
    assert!(
        matches!(
            error,
            e if e.as_load().map(LoadError::kind) == Some(LoadErrorKind::IncompatibleVersion)
        ),
        "{message}"
    );
    assert!(
        message.contains(&format!("built against spanplug-api {plugin_version}")),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "this host (spanplug-api {})",
            spanplug_api::API_VERSION
        )),
        "{message}"
    );
    assert!(message.contains(reason), "{message}");
}

#[test]
fn a_plugin_requiring_a_newer_host_is_refused_naming_both_versions_and_the_need() {
    assert_refused(
        "compat_requires_newer",
        spanplug_api::NEXT_MINOR_VERSION,
        "it requires a host of spanplug-api 0.3.1 or newer",
    );
}

#[test]
fn a_plugin_from_the_previous_major_0_2_is_refused_asking_for_a_rebuild() {
    assert_refused(
        "compat_0_2_0",
        "0.2.0",
        "another major version (0.2.x plugins do not load into a 0.3.x host); rebuild the plugin against spanplug-api 0.3",
    );
}

#[test]
fn a_plugin_from_an_older_major_is_refused_naming_both_versions() {
    assert_refused("compat_0_1_0", "0.1.0", "another major version (0.1.x");
}

/// Canary: abi_stable's own rule still refuses an interface with more members than the
/// implementation. Its stock `init_root_module` makes the loading side the interface,
/// so a host of the next minor (the probe's layout here) loading a plugin of this one
/// is refused; the loader avoids that by making the older side the interface. If an
/// abi_stable upgrade changes the rule, this fails and the loader's reasoning must be
/// looked at again.
#[test]
fn canary_abi_stables_one_way_check_refuses_a_newer_interface() {
    use spanplug_api::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
    use spanplug_api::abi_stable::library::lib_header_from_path;
    use spanplug_api::abi_stable::StableAbi;
    let path = PathBuf::from(fixture("compat_newer"));
    let header = lib_header_from_path(&path).expect("the probe plugin loads");
    let probe = header.layout().expect("it carries its layout");
    let current = <spanplug_api::PluginModRef as StableAbi>::LAYOUT;
    let report = check_layout_compatibility(probe, current)
        .expect_err("a newer interface must be refused")
        .to_string();
    assert!(
        report.contains("too many fields"),
        "{}",
        &report[..2000.min(report.len())]
    );
    // The loader's orientation, the older side as the interface, accepts the pair.
    check_layout_compatibility(current, probe).expect("the older side as the interface loads");
}
