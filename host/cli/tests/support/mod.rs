//! What the CLI test files share: the plugins built beside them and running the
//! `spanplug` binary.
// Each test file uses only part of this.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub(crate) fn plugin_dir() -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let name = format!(
        "{}console_file{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    [deps.clone(), deps.parent().unwrap().to_path_buf()]
        .into_iter()
        .find(|dir| dir.join(&name).is_file())
        .expect("plugins built beside the test binary")
}

/// A plugin library built beside the tests.
pub(crate) fn library(name: &str) -> PathBuf {
    plugin_dir().join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ))
}

pub(crate) fn spanplug(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(args)
        .env("SPANPLUG_PLUGIN_PATH", plugin_dir())
        .env_remove("SPANPLUG_TRACING_EXPORTER_IMPORT_PATH")
        .output()
        .unwrap()
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}
