//! `spanplug install-plugins`: the binary end to end, and each refusal of
//! [`install_plugins`] by its kind and message.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use spanplug_cli::install::{install_plugins, InstallError, InstallErrorKind, Probed};
use support::{library, spanplug, stderr, stdout};

/// Loads the staged copy in this process (the binary's probe runs `spanplug list`
/// in a child; what is probed is the same library).
fn probe(library: &Path) -> Result<Probed, String> {
    let plugin = spanplug_loader::Plugin::load(library).map_err(|e| e.to_string())?;
    Ok(Probed {
        api_version: plugin.api_version().to_string(),
        functions: plugin
            .factories()
            .iter()
            .map(|f| f.name().to_string())
            .collect(),
    })
}

/// Installs `sources` into `dest`, which must fail with `kind`; the error and its
/// message.
#[track_caller]
fn refused(sources: &[&Path], dest: &Path, kind: InstallErrorKind) -> (InstallError, String) {
    let sources: Vec<PathBuf> = sources.iter().map(|s| s.to_path_buf()).collect();
    let error = match install_plugins(&sources, dest, probe) {
        Ok(installed) => panic!("installed {installed:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert_eq!(error.kind(), kind, "{message}");
    (error, message)
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn installed_plugins_load_from_their_new_folder() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("opt/spanplug/plugins");
    let output = spanplug(&[
        "install-plugins",
        dest.to_str().unwrap(),
        library("console_file").to_str().unwrap(),
        library("test_plugins").to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!(
        "libconsole_file.so (spanplug-api {}): default_tracing_exporter, debug_span_processor",
        spanplug_api::API_VERSION
    )));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dest.join("libconsole_file.so"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o755);

    // Load from the installed folder only.
    let config = dir.path().join("service.yaml");
    std::fs::write(
        &config,
        format!(
            "tracing_config:\n  exporter_import_path: console_file:default_tracing_exporter\n  exporter_config: {{log_dir: {}}}\n",
            dir.path().join("logs").display()
        ),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(["check", config.to_str().unwrap()])
        .env("SPANPLUG_PLUGIN_PATH", &dest)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stdout(&output));
    assert!(stdout(&output).contains(&format!(
        "ok    console_file:default_tracing_exporter ({}",
        dest.join("libconsole_file.so").display()
    )));
}

/// One bad library among three installs none of them, with a line for each.
#[test]
fn install_plugins_is_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("plugins");
    let (good, also_good, incompatible) = (
        library("console_file"),
        library("test_plugins"),
        library("abi_mismatch"),
    );
    let output = spanplug(&[
        "install-plugins",
        dest.to_str().unwrap(),
        good.to_str().unwrap(),
        incompatible.to_str().unwrap(),
        also_good.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let text = stderr(&output);
    assert!(
        text.contains("nothing installed: 1 of 3 libraries failed to load"),
        "{text}"
    );
    assert!(
        text.contains(&format!("ok    {}", good.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("FAIL  {}", incompatible.display())),
        "{text}"
    );
    assert!(
        text.contains(&format!("ok    {}", also_good.display())),
        "{text}"
    );
    let left: Vec<_> = std::fs::read_dir(&dest).unwrap().collect();
    assert!(
        left.is_empty(),
        "nothing installed, no staged copies left: {left:?}"
    );
}

#[test]
fn a_library_that_fails_to_load_is_named_with_why() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("plugins");
    let (good, incompatible) = (library("console_file"), library("abi_mismatch"));
    let (error, message) = refused(
        &[&good, &incompatible],
        &dest,
        InstallErrorKind::NotLoadable,
    );
    assert!(
        message.starts_with("nothing installed: 1 of 2 libraries failed to load"),
        "{message}"
    );
    let outcomes = error.outcomes();
    assert_eq!(outcomes.len(), 2, "{message}");
    assert_eq!(outcomes[0].source, good);
    assert!(outcomes[0].result.is_ok(), "{message}");
    assert_eq!(outcomes[1].source, incompatible);
    let reason = outcomes[1].result.as_ref().unwrap_err();
    assert!(
        reason.contains("built against spanplug-api 0.0.1"),
        "{reason}"
    );
    assert!(is_empty(&dest), "nothing installed");
}

#[test]
fn two_sources_with_one_name_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let good = library("console_file");
    let copy_dir = dir.path().join("copy");
    std::fs::create_dir(&copy_dir).unwrap();
    let twin = copy_dir.join(good.file_name().unwrap());
    std::fs::copy(&good, &twin).unwrap();
    let (error, message) = refused(
        &[&good, &twin],
        &dir.path().join("plugins"),
        InstallErrorKind::DuplicateName,
    );
    assert!(
        message.contains("two sources are named libconsole_file.so"),
        "{message}"
    );
    assert_eq!(error.path(), Some(twin.as_path()));
}

#[test]
fn a_fifo_source_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("libfifo.so");
    let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (_, message) = refused(
        &[&fifo],
        &dir.path().join("plugins"),
        InstallErrorKind::BadSource,
    );
    assert!(
        message.contains("libfifo.so is a FIFO, not a regular file"),
        "{message}"
    );
}

#[test]
fn a_source_that_is_not_a_library_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("libnot_a_plugin.so");
    std::fs::write(
        &text,
        "not a library at all, but long enough to hold an ELF header if it were one....",
    )
    .unwrap();
    let (error, message) = refused(
        &[&text],
        &dir.path().join("plugins"),
        InstallErrorKind::BadSource,
    );
    assert!(
        message.contains("libnot_a_plugin.so: not an ELF file"),
        "{message}"
    );
    assert_eq!(error.path(), Some(text.as_path()));
}

#[test]
fn a_source_folder_without_plugins_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("README.txt"), "no libraries here").unwrap();
    let (error, message) = refused(
        &[&empty],
        &dir.path().join("plugins"),
        InstallErrorKind::NoPlugins,
    );
    assert_eq!(
        message,
        format!("no spanplug plugin libraries in {}", empty.display())
    );
    assert_eq!(error.path(), Some(empty.as_path()));
}

/// A folder anyone can write to, which the host would refuse to load from.
#[test]
fn a_target_folder_anyone_can_write_to_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("plugins");
    std::fs::create_dir(&dest).unwrap();
    std::fs::set_permissions(&dest, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let (error, message) = refused(
        &[&library("console_file")],
        &dest,
        InstallErrorKind::UnsafeTarget,
    );
    assert!(message.contains("refusing to install into"), "{message}");
    assert!(message.contains("is writable by every user"), "{message}");
    assert_eq!(error.path(), Some(dest.as_path()));
    assert!(is_empty(&dest));
}

#[test]
fn a_target_that_is_a_file_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("plugins");
    std::fs::write(&dest, "a file, not a folder").unwrap();
    let (error, message) = refused(&[&library("console_file")], &dest, InstallErrorKind::Io);
    assert!(
        message.starts_with(&format!("{}: ", dest.display())),
        "{message}"
    );
    assert!(message.contains("File exists"), "{message}");
    assert_eq!(error.path(), Some(dest.as_path()));
}
