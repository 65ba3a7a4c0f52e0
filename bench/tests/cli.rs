//! `spanplug-bench --help` answers without starting a benchmark run.

use std::process::Command;

#[test]
fn help_prints_usage_and_runs_nothing() {
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug-bench"))
        .arg("--help")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains("Usage: spanplug-bench [OPTIONS]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--quick") && stdout.contains("--only"),
        "{stdout}"
    );
    assert!(!stdout.contains("# Benchmarks"), "{stdout}");
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug-bench"))
        .arg("--no-such-flag")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
