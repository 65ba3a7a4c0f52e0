//! With the `bundle-plugins` feature (which `pip install` turns on through
//! pyproject.toml), builds the shipped plugins and copies them into
//! `spanplug/plugins/`, so that the wheel carries them and the package finds them
//! with no setting. Cargo cannot depend on a cdylib's file, so this runs a cargo of
//! its own, in a target folder of its own (no lock shared with the outer build).
//! `scripts/dist.sh` sets `SPANPLUG_PREBUILT_PLUGINS` to the folder of the plugins it
//! built for the glibc floor: those are copied instead, so the wheel carries the very
//! files of the bundle.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shipped plugins: (package, library file).
const PLUGINS: [(&str, &str); 5] = [
    ("console-file", "libconsole_file.so"),
    ("otlp-http", "libotlp_http.so"),
    ("context-enricher", "libcontext_enricher.so"),
    ("span-filter", "libspan_filter.so"),
    ("redact", "libredact.so"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_BUNDLE_PLUGINS").is_none() {
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let workspace = manifest.parent().expect("python/ is inside the workspace");
    for watched in ["plugins", "plugin-api", "Cargo.lock"] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }
    println!("cargo:rerun-if-env-changed=SPANPLUG_PREBUILT_PLUGINS");
    let built = match std::env::var_os("SPANPLUG_PREBUILT_PLUGINS") {
        Some(prebuilt) => {
            let prebuilt = PathBuf::from(prebuilt);
            for (_, file) in PLUGINS {
                println!("cargo:rerun-if-changed={}", prebuilt.join(file).display());
            }
            prebuilt
        }
        None => build_plugins(workspace),
    };
    let bundle = python_package(&manifest).join("plugins");
    std::fs::create_dir_all(&bundle).expect("create spanplug/plugins");
    for (_, file) in PLUGINS {
        let bundled = bundle.join(file);
        copy(&built.join(file), &bundled);
        // The copies live outside OUT_DIR: a checkout whose copies are missing (a
        // second clone sharing this target folder) must run this script again.
        println!("cargo:rerun-if-changed={}", bundled.display());
    }
}

/// The Python package's folder: beside this crate in a clone, at the root of an sdist
/// (maturin moves pyproject.toml and the package there, and the crate to `python/`).
fn python_package(manifest: &Path) -> PathBuf {
    let beside = manifest.join("spanplug");
    let sdist_root = manifest.parent().map(|root| root.join("spanplug"));
    match sdist_root {
        Some(root)
            if !beside.join("__init__.py").is_file() && root.join("__init__.py").is_file() =>
        {
            root
        }
        _ => beside,
    }
}

/// Builds the shipped plugins for this machine; the folder holding them.
fn build_plugins(workspace: &Path) -> PathBuf {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let target = out.join("plugins-target");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(workspace)
        .args(["build", "--release", "--locked"])
        // What ships is stripped: a wheel a tenth of the size.
        .args(["--config", "profile.release.strip=true", "--target-dir"])
        .arg(&target);
    for (package, _) in PLUGINS {
        build.args(["-p", package]);
    }
    // The outer build's settings for this crate are not the plugins' settings.
    for variable in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
    ] {
        build.env_remove(variable);
    }
    let status = build.status().expect("cargo runs");
    assert!(
        status.success(),
        "building the shipped plugins failed: {status}"
    );
    target.join("release")
}

/// Copies through a temporary name, so an interrupted build never leaves half a library
/// where the loader would find it.
fn copy(from: &Path, to: &Path) {
    let partial = to.with_extension("so.partial");
    std::fs::copy(from, &partial).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    // The copy keeps the library's own time: a library this run did not rebuild is
    // older than the run, so its copy does not look changed (which would run this
    // script on every build); one it rebuilt costs a single extra run.
    let built = std::fs::metadata(from)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    std::fs::File::options()
        .write(true)
        .open(&partial)
        .and_then(|f| f.set_modified(built))
        .unwrap_or_else(|e| panic!("{}: {e}", partial.display()));
    std::fs::rename(&partial, to).unwrap_or_else(|e| panic!("install {}: {e}", to.display()));
}
