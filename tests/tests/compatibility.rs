//! The compatibility promise, proven: plugins compiled against other interface
//! versions (tests/fixtures/compat, its own workspace) are built here with cargo and
//! loaded into this host, and into the probe host (tests/fixtures/probe-host: this
//! host built against the next-minor probe). Growth both ways is in `growth`; those of
//! older majors (0.2, 0.1), one that requires the next minor's host, and one whose plain
//! `SpanView` grew are refused with both versions named.

#[path = "compatibility/growth.rs"]
mod growth;
// The run the recorder plugin gets, shared with the probe host.
#[path = "../fixtures/probe-host/src/drive.rs"]
#[allow(
    unreachable_pub,
    reason = "`pub` for the probe host's binary, which declares the same module"
)]
mod drive;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use spanplug_loader::{LoadError, LoadErrorKind};
use spanplug_sdk::InitError;
use spanplug_tests::{config, library_file_name};

/// Builds the workspace `fixture` (under tests/fixtures) with `cargo build --locked`
/// into target/compat-fixtures; its output folder.
fn build(fixture: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture)
        .join("Cargo.toml");
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
        "building tests/fixtures/{fixture} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    target.join("debug")
}

/// Builds the fixture plugins once per test process; their folder.
fn compat_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build("compat"))
}

/// The 0.3.0 host (tests/fixtures/compat/host_0_3_0.rs), built with the fixtures.
fn host_0_3_0() -> PathBuf {
    compat_dir().join("spanplug-host-0-3-0")
}

/// Builds the probe host once per test process; its executable.
fn probe_host() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| build("probe-host").join("spanplug-probe-host"))
}

fn fixture(module: &str) -> String {
    compat_dir()
        .join(library_file_name(module))
        .display()
        .to_string()
}

fn load_error(import_path: &str) -> (InitError, String) {
    let dir = tempfile::tempdir().unwrap();
    let error =
        spanplug_sdk::init(config(&[import_path], dir.path())).expect_err("the load must fail");
    let message = error.to_string();
    (error, message)
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
        "it requires a host of spanplug-api 0.3.2 or newer",
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

/// Canary, on real libraries: abi_stable's stock `init_root_module` (the loading side's
/// view as the interface), run by the probe host on the 0.3.0 plugin, still refuses it.
#[test]
fn canary_abi_stables_stock_init_root_module_refuses_an_older_plugin_in_a_newer_host() {
    let output = Command::new(probe_host())
        .arg("--stock")
        .arg(fixture("compat_0_3_0"))
        .output()
        .expect("the probe host runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("refused:"), "{stdout}");
    assert!(stdout.contains("Error:too many fields"), "{stdout}");
}

#[test]
fn a_plugin_whose_plain_span_view_grew_is_refused_for_its_size() {
    use spanplug_api::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
    use spanplug_api::abi_stable::library::lib_header_from_path;
    use spanplug_api::abi_stable::StableAbi;
    let (error, message) = load_error(&format!("{}:nothing", fixture("compat_grown")));
    assert!(
        matches!(
            error,
            e if e.as_load().map(LoadError::kind) == Some(LoadErrorKind::IncompatibleLayout)
        ),
        "{message}"
    );
    assert!(message.contains("incompatible type size"), "{message}");
    assert!(message.contains("SpanView"), "{message}");
    assert!(message.contains("0.3.3"), "{message}");
    // The other orientation (the grown view as the interface) is refused as well.
    let header = lib_header_from_path(Path::new(&fixture("compat_grown"))).unwrap();
    let grown = header.layout().expect("it carries its layout");
    let current = <spanplug_api::PluginModRef as StableAbi>::LAYOUT;
    let report = check_layout_compatibility(grown, current)
        .expect_err("a grown plain struct must be refused")
        .to_string();
    assert!(
        report.contains("incompatible type size"),
        "{}",
        &report[..2000.min(report.len())]
    );
}

/// A real plugin of this interface (console_file, 0.3.1: the processor vtable grew by
/// `report_metrics` and `attach_duration_recorder`) in a host built against the frozen
/// 0.3.0 copy: it loads, writes the span it is handed, flushes and shuts down; a plugin
/// that declares it needs a newer host is refused by its declared minimum.
#[test]
fn a_0_3_1_plugin_loads_into_a_0_3_0_host_build_and_one_requiring_more_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |library: &Path, function: &str| {
        let output = Command::new(host_0_3_0())
            .arg(library)
            .arg(function)
            .arg(dir.path())
            .output()
            .expect("the 0.3.0 host runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    };
    let stdout = run(
        &spanplug_tests::plugin_file("console_file"),
        "default_tracing_exporter",
    );
    assert!(
        stdout.contains(&format!(
            "loaded spanplug-api {} into 0.3.0: processors [\"console_file(",
            spanplug_api::API_VERSION
        )),
        "{stdout}"
    );
    assert!(stdout.contains("on_end, flush, shutdown ok"), "{stdout}");
    let records = spanplug_tests::read_records(dir.path());
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].name, "from-a-0.3.0-host");

    let stdout = run(Path::new(&fixture("compat_requires_newer")), "nothing");
    assert_eq!(
        stdout.trim(),
        "refused: it requires a host of spanplug-api 0.3.2 or newer"
    );
}

/// With self metrics on, a 0.3.0 plugin (which cannot report) is still a component:
/// each of its processors named after its module, with the spans the host handed it
/// counted, and no error. (The recorder's editor and observer each see every span.)
#[test]
fn with_self_metrics_on_the_host_reports_the_spans_it_handed_a_0_3_0_plugin() {
    use opentelemetry::trace::Tracer as _;
    use spanplug_tests::otlp_receiver::{last_points, Receiver};
    let metrics = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let config = drive::config(Path::new(&fixture("compat_0_3_0")), dir.path()).with_self_metrics(
        spanplug_config::SelfMetricsConfig::default()
            .with_endpoint(format!("{}/v1/metrics", metrics.base_url())),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let names = ["compat_0_3_0:record/0", "compat_0_3_0:record/1"];
    assert_eq!(guard.plugins()[0].component_names, names);
    let tracer = guard.tracer("compat");
    for name in ["one", "two", "three"] {
        tracer.in_span(name, |_| {});
    }
    guard.shutdown().unwrap();
    let mut points = last_points(&metrics.metrics(), "otel.sdk.processor.span.processed");
    points.sort();
    let mut expected = Vec::new();
    for name in names {
        let component = [
            format!("otel.component.name={name}"),
            "otel.component.type=compat_0_3_0".to_string(),
        ];
        let mut panicked = vec!["error.type=plugin_panic".to_string()];
        panicked.extend(component.iter().cloned());
        expected.push((panicked, 0));
        expected.push((component.to_vec(), 3));
    }
    expected.sort();
    assert_eq!(points, expected);
}
