//! The compatibility promise, proven: plugins compiled against other interface
//! versions (tests/fixtures/compat, its own workspace) are built here with cargo and
//! loaded into this host. One built against the frozen 0.2.0 interface must load and
//! export; one built against a newer minor, and one from the previous major, must be
//! refused with both versions named.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use opentelemetry::trace::Tracer as _;
use opentelemetry::KeyValue;
use spanplug_host::config::ExporterEntry;
use spanplug_host::{InitError, LoadError, LoadErrorKind, RequestContext};
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
fn a_plugin_built_against_the_frozen_0_2_0_interface_loads_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("witness.txt");
    let config = config(&[], dir.path())
        .with_exporter(
            ExporterEntry::new(format!("{}:witness", fixture("compat_0_2_0")))
                .with_config("out_file", out_file.to_string_lossy()),
        )
        .with_exporter_import_path("console_file:default_tracing_exporter");
    let guard = spanplug_host::init(config).unwrap();
    assert_eq!(guard.plugins()[0].api_version, "0.2.0");
    let tracer = guard.tracer("compat");
    {
        let _request = RequestContext::new().with("request_id", "r-42").attach();
        tracer.in_span("handle", |cx| {
            use opentelemetry::trace::TraceContextExt as _;
            cx.span()
                .set_attribute(KeyValue::new("compat.secret", "s3cret"));
        });
    }
    guard.shutdown().unwrap();

    // The old plugin's on_end sees its own on_start attributes, before its transform.
    let seen = std::fs::read_to_string(&out_file).unwrap();
    assert_eq!(
        seen,
        "handle exportable=true kind=INTERNAL compat.request_id=r-42,compat.secret=s3cret,compat.started=true\n"
    );
    // The exporter after it sees its transform: a new attribute, the secret removed.
    let records = read_records(dir.path());
    assert_eq!(records.len(), 1);
    let attributes = &records[0].attributes;
    assert_eq!(attributes["compat.started"], serde_json::json!(true));
    assert_eq!(attributes["compat.transformed"], serde_json::json!(1));
    assert_eq!(attributes["compat.request_id"], serde_json::json!("r-42"));
    assert!(!attributes.contains_key("compat.secret"), "{attributes:?}");
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
fn a_plugin_built_against_a_newer_minor_is_refused_naming_both_versions() {
    assert_refused("compat_newer", "0.2.999", "newer minor version");
}

#[test]
fn a_plugin_from_the_previous_major_is_refused_naming_both_versions() {
    assert_refused("compat_0_1_0", "0.1.0", "another major version");
}
