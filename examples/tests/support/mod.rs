//! Running the demo binary, shared by the demo's test files.
// Each test file uses only part of this.
#![allow(dead_code)]

use std::process::Command;

pub(crate) fn demo(
    args: &[&str],
    envs: &[(&str, &std::ffi::OsStr)],
) -> (std::process::Output, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_demo"))
        .args(args)
        .env("SPANPLUG_PLUGIN_PATH", spanplug_tests::plugin_dir())
        .env_remove("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH")
        .envs(envs.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// `demo --config <dir>/service.yaml` with `yaml` in it, span files under `<dir>/logs`.
pub(crate) fn demo_with_config(
    dir: &std::path::Path,
    yaml: &str,
) -> (std::process::Output, String, String) {
    let config = dir.join("service.yaml");
    std::fs::write(&config, yaml).unwrap();
    let logs = dir.join("logs");
    demo(
        &["--config", config.to_str().unwrap()],
        &[("SPANPLUG_LOG_DIR", logs.as_os_str())],
    )
}
