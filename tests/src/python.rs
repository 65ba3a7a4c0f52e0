//! Venvs for the Python suites: built under the target folder from a pinned
//! requirements file (from PyPI), refreshed when the pins change, with the package
//! built from this checkout installed as a user's `pip install ./python` would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace's root folder.
pub fn workspace() -> PathBuf {
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

/// Whether python3 with its venv module is here. When it is not, the suite is
/// skipped with a message, unless `require` (a variable `.ci/run` sets) is set.
pub fn python_available(suite: &str, require: &str) -> bool {
    let usable = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !usable {
        assert!(
            std::env::var_os(require).is_none(),
            "{require} is set but python3 with its venv module is not installed"
        );
        eprintln!(
            "skipped: {suite} needs python3 with venv (apt-get install python3-venv; .ci/run does)"
        );
    }
    usable
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

/// `PATH` with the venv's `bin/` first (where pip finds maturin, Ray finds `ray`).
pub fn path_with(venv: &Path) -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(venv.join("bin")).chain(std::env::split_paths(&path)))
        .expect("PATH entries")
}

/// `target/<name>` with the packages `requirements` (relative to the workspace) pins
/// and this checkout's `spanplug` package installed.
pub fn venv_with_package(name: &str, requirements: &str) -> PathBuf {
    let venv = target_dir().join(name);
    let pins = workspace().join(requirements);
    let installed = venv.join("spanplug-requirements.txt");
    let wanted = std::fs::read(&pins).unwrap_or_else(|e| panic!("{requirements}: {e}"));
    if std::fs::read(&installed).ok().as_deref() != Some(wanted.as_slice()) {
        let _ = std::fs::remove_dir_all(&venv);
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        );
        run(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--requirement"])
                .arg(&pins),
            "pip install the pinned packages",
        );
        std::fs::write(&installed, &wanted).expect("record the installed pins");
    }
    // In a target folder of its own: the running `cargo test` holds this one.
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
            .env("PATH", path_with(&venv)),
        "pip install ./python",
    );
    venv
}

/// Runs pytest on `suite` (a folder, relative to the workspace) in `venv`, with no
/// `SPANPLUG_*`/`OTEL_*` variables but `extra_env`; fails unless every test ran
/// and passed. Returns pytest's output.
pub fn pytest(venv: &Path, suite: &str, extra_env: &[(&str, &Path)]) -> Output {
    let dir = workspace().join(suite);
    let mut pytest = Command::new(venv.join("bin/python"));
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs"])
        .arg(&dir)
        .current_dir(&dir)
        .env("PATH", path_with(venv));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("SPANPLUG_") || name.starts_with("OTEL_") {
            pytest.env_remove(name.as_ref());
        }
    }
    for (name, value) in extra_env {
        pytest.env(name, value);
    }
    let output = pytest.output().expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "{suite} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed"), "pytest ran nothing: {stdout}");
    assert!(
        !stdout.contains("skipped"),
        "every test of {suite} must run here: {stdout}"
    );
    output
}
