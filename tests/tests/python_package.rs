//! The Python package (`python/`): its pytest suite, run against a wheel built from
//! this checkout in a venv of its own with the pinned packages of
//! `python/tests/requirements.txt` (from PyPI; the venv is kept under the target
//! folder and refreshed when the pins change).
//!
//! Without python3 (and its venv module) the suite is skipped with a message, unless
//! `SPANPLUG_REQUIRE_PYTHON` (set by `.ci/run`) makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

use spanplug_tests::plugin_file;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"))
}

/// A python3 with the venv module, or None (skipped) when the suite is optional.
fn python3() -> Option<PathBuf> {
    let usable = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !usable {
        assert!(
            std::env::var_os("SPANPLUG_REQUIRE_PYTHON").is_none(),
            "SPANPLUG_REQUIRE_PYTHON is set but python3 with its venv module is not installed"
        );
        eprintln!("skipped: the Python package's tests need python3 with venv (apt-get install python3-venv; .ci/run does)");
        return None;
    }
    Some(PathBuf::from("python3"))
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The venv with the pinned packages (and maturin, to build without isolation).
fn venv(python: &Path) -> PathBuf {
    let venv = target_dir().join("python-venv");
    let pins = workspace().join("python/tests/requirements.txt");
    let installed = venv.join("spanplug-requirements.txt");
    let wanted = std::fs::read(&pins).expect("python/tests/requirements.txt");
    if std::fs::read(&installed).ok().as_deref() != Some(wanted.as_slice()) {
        let _ = std::fs::remove_dir_all(&venv);
        run(
            Command::new(python).args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--requirement"])
                .arg(&pins),
            "pip install the pinned test packages",
        );
        std::fs::write(&installed, &wanted).expect("record the installed pins");
    }
    venv
}

/// `PATH` with the venv's `bin/` first (where pip finds maturin).
fn with_venv_on_path(venv: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(venv.join("bin")).chain(std::env::split_paths(&path)))
        .expect("PATH entries")
}

#[test]
fn the_python_package_passes_its_pytest_suite() {
    let Some(python) = python3() else {
        return;
    };
    let venv = venv(&python);
    // The wheel as a user's `pip install ./python` builds it, in a target folder of
    // its own (this test's build holds the other).
    run(
        Command::new(venv.join("bin/pip"))
            .args([
                "install",
                "--quiet",
                "--no-deps",
                "--no-build-isolation",
                "--force-reinstall",
            ])
            .arg(workspace().join("python"))
            .env("CARGO_TARGET_DIR", target_dir().join("python-wheel"))
            .env("PATH", with_venv_on_path(&venv)),
        "pip install ./python",
    );
    let mut pytest = Command::new(venv.join("bin/python"));
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(workspace().join("python/tests"))
        .current_dir(workspace().join("python/tests"));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("SPANPLUG_") || name.starts_with("OTEL_") {
            pytest.env_remove(name.as_ref());
        }
    }
    pytest.env(
        "SPANPLUG_TEST_ABI_MISMATCH_PLUGIN",
        plugin_file("abi_mismatch"),
    );
    let output = pytest.output().expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the Python suite failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed"), "pytest ran nothing: {stdout}");
    assert!(
        !stdout.contains("skipped"),
        "every Python test must run here: {stdout}"
    );
}
