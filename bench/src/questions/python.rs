//! The Python questions' venv and scripts.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};

/// Question 3's script: the Python SDK's exporters, one mode per run. Run by path, so
/// Python finds `bench/workload.py` beside it.
const BASELINE_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python_baseline.py");

/// The benchmark's venv (`target/bench-python-venv`): the pinned Python SDK and its
/// OTLP exporter from PyPI, and spanplug's package built from this checkout.
pub(super) fn python_venv() -> anyhow::Result<PathBuf> {
    if !spanplug_tests::python::python_available("the Python questions", "SPANPLUG_REQUIRE_PYTHON")
    {
        bail!("python3 with venv is not installed");
    }
    let venv = spanplug_tests::python::venv_with_package(
        "bench-python-venv",
        "bench/python-requirements.txt",
    );
    Ok(venv.join("bin/python"))
}

/// Spans/s of the Python SDK exporting `count` spans in `mode` (`file` or `otlp`)
/// to `target`.
pub(super) fn baseline_rate(
    python: &Path,
    mode: &str,
    target: &str,
    count: u64,
) -> anyhow::Result<f64> {
    let output = Command::new(python)
        .args([BASELINE_SCRIPT, mode, target, &count.to_string()])
        .output()?;
    if !output.status.success() {
        bail!(
            "python baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse::<f64>()
        .context("python baseline output")
}
