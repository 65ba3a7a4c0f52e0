//! `spanplug install-plugins` with a bundle: `--write-manifest` records what it
//! installed, a bundle folder (or its manifest) installs every library it lists once
//! each checksum matches, all or nothing, and the pins printed load under
//! `require_sha256`.

mod support;

use std::path::Path;
use std::process::Command;

use spanplug_cli::manifest::{Manifest, FORMAT, MANIFEST_FILE};
use support::{library, spanplug, stderr, stdout};

/// A bundle folder made as scripts/dist.sh makes one: `plugins/` and its manifest.
fn bundle(dir: &Path) -> std::path::PathBuf {
    let bundle = dir.join("bundle");
    let output = spanplug(&[
        "install-plugins",
        "--write-manifest",
        bundle.join(MANIFEST_FILE).to_str().unwrap(),
        bundle.join("plugins").to_str().unwrap(),
        library("console_file").to_str().unwrap(),
        library("span_filter").to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    bundle
}

fn sha256sum(path: &Path) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_manifest_lists_each_library_with_its_checksum_api_and_factories() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = bundle(dir.path());
    let manifest = Manifest::read(&bundle.join(MANIFEST_FILE)).unwrap();
    assert_eq!(manifest.format, FORMAT);
    assert_eq!(manifest.spanplug, env!("CARGO_PKG_VERSION"));
    let files: Vec<&str> = manifest.libraries.iter().map(|l| l.file.as_str()).collect();
    assert_eq!(
        files,
        ["plugins/libconsole_file.so", "plugins/libspan_filter.so"]
    );
    let console = &manifest.libraries[0];
    assert_eq!(console.module, "console_file");
    assert_eq!(console.spanplug_api, spanplug_api::API_VERSION);
    assert_eq!(
        console.factories,
        ["default_tracing_exporter", "debug_span_processor"]
    );
    assert_eq!(console.sha256, sha256sum(&library("console_file")));
}

#[test]
fn a_bundle_installs_every_library_it_lists_and_prints_pins_that_load() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = bundle(dir.path());
    let dest = dir.path().join("opt/plugins");
    let output = spanplug(&[
        "install-plugins",
        dest.to_str().unwrap(),
        bundle.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let console_pin = format!(
        "    console_file: {}\n",
        sha256sum(&library("console_file"))
    );
    assert!(
        printed.contains("  require_sha256: true\n  exporter_sha256:\n"),
        "{printed}"
    );
    assert!(printed.contains(&console_pin), "{printed}");
    assert!(dest.join("libspan_filter.so").is_file());

    // The printed section, pasted under tracing_config, loads what was installed.
    let pins = printed
        .split_once("pin them (tracing_config):\n")
        .unwrap()
        .1;
    let config = dir.path().join("service.yaml");
    let logs = dir.path().join("logs");
    std::fs::write(
        &config,
        format!(
            "tracing_config:\n  exporter_import_path: [span_filter:drop, console_file:default_tracing_exporter]\n  exporter_config: {{log_dir: {}, names: \"GET /health*\"}}\n{pins}",
            logs.display()
        ),
    )
    .unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(["check", config.to_str().unwrap()])
        .env("SPANPLUG_PLUGIN_PATH", &dest)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        stdout(&check),
        stderr(&check)
    );
    assert!(stdout(&check).contains("ok    console_file:default_tracing_exporter"));
}

#[test]
fn a_library_whose_checksum_differs_installs_nothing_and_names_both_sums() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = bundle(dir.path());
    // A valid library, but not the one the manifest lists under that name.
    let swapped = bundle.join("plugins/libspan_filter.so");
    std::fs::remove_file(&swapped).unwrap();
    std::fs::copy(library("context_enricher"), &swapped).unwrap();
    let dest = dir.path().join("opt/plugins");
    let manifest = bundle.join(MANIFEST_FILE);
    let output = spanplug(&[
        "install-plugins",
        dest.to_str().unwrap(),
        manifest.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let text = stderr(&output);
    let expected = sha256sum(&library("span_filter"));
    let actual = sha256sum(&library("context_enricher"));
    assert!(
        text.contains(&format!(
            "nothing installed: {} has SHA-256 {actual}, but its manifest says {expected}",
            swapped.display()
        )),
        "{text}"
    );
    // Not even the library whose checksum matched, nor a staged copy.
    assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
}

#[test]
fn a_manifest_naming_a_file_outside_its_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bundle = bundle(dir.path());
    let manifest = bundle.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(
        &manifest,
        text.replace("plugins/libspan_filter.so", "../libspan_filter.so"),
    )
    .unwrap();
    let dest = dir.path().join("opt/plugins");
    let output = spanplug(&[
        "install-plugins",
        dest.to_str().unwrap(),
        bundle.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains(&format!(
            "{}: not a spanplug bundle manifest: ../libspan_filter.so: a library's file must be a path inside the manifest's folder",
            manifest.display()
        )),
        "{}",
        stderr(&output)
    );
}
