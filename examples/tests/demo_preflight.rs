//! The demo checks every factory before it starts a process, and finds span files
//! wherever an entry's own `log_dir` sent them.

mod support;

use support::demo_with_config;

#[test]
fn span_files_an_entry_sends_to_its_own_log_dir_are_found_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        "tracing_config:\n  exporter_import_path:\n    - {import_path: \"console_file:default_tracing_exporter\", config: {log_dir: own-logs}}\n",
    );
    assert!(output.status.success(), "{stdout}\n{stderr}");
    // Relative to the YAML's folder, not the demo's shared log folder.
    let spans = std::path::absolute(dir.path().join("own-logs/spans")).unwrap();
    assert_eq!(std::fs::read_dir(&spans).unwrap().count(), 5);
    assert!(!dir.path().join("logs/spans").exists());
    assert!(
        stdout.contains(&format!("49 spans from 5 processes in {}", spans.display())),
        "{stdout}"
    );
    assert!(!stdout.contains("No exporter reported"), "{stdout}");
    assert!(
        stdout.contains("Trace 0x4bf92f3577b34da6a3ce929d0e0e4736 (10 spans"),
        "{stdout}"
    );
}

#[test]
fn a_factory_error_stops_the_demo_before_any_process_starts() {
    let dir = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = demo_with_config(
        dir.path(),
        "tracing_config:\n  exporter_import_path:\n    - {import_path: \"console_file:default_tracing_exporter\", config: {log_dri: x}}\n",
    );
    assert!(!output.status.success(), "{stdout}");
    assert_eq!(
        stderr.matches("unknown config key `log_dri`").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("could not start its tracing, so the demo started nothing"),
        "{stderr}"
    );
    assert!(!stdout.contains("started proxy"), "{stdout}");
    // No process ran: none relayed a line, none wrote anything.
    assert!(!stderr.contains("[proxy]"), "{stderr}");
    assert!(!dir.path().join("logs").exists());
}
