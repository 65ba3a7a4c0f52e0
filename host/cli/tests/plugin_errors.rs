//! Errors that say the cause: an rlib or a static library where a plugin was
//! expected, and a plugin in a shared temporary folder.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::{library, plugin_dir, stderr};

const CDYLIB_HINT: &str = "build the plugin crate as a cdylib (`crate-type = [\"cdylib\"]`";

/// A real rlib cargo built for these tests (a plugin crate's library half).
fn real_rlib() -> PathBuf {
    std::fs::read_dir(plugin_dir())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with("libspanplug_console_file-") && name.ends_with(".rlib")
        })
        .expect("the console_file rlib beside the tests")
}

fn spanplug_in(dir: &Path, args: &[&str], plugin_path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spanplug"))
        .args(args)
        .current_dir(dir)
        .env("SPANPLUG_PLUGIN_PATH", plugin_path)
        .env_remove("SPANPLUG_ALLOW_INSECURE_PLUGINS")
        .output()
        .unwrap()
}

/// The error the CLI printed, failing when it succeeded.
#[track_caller]
fn failure(output: &Output) -> String {
    assert!(!output.status.success(), "succeeded");
    stderr(output)
}

#[test]
fn list_says_an_rlib_or_a_static_library_must_be_built_as_a_cdylib() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["libaudit.rlib", "libaudit.a"] {
        std::fs::copy(real_rlib(), dir.path().join(name)).unwrap();
        // By file name in the working folder, and by absolute path.
        for arg in [
            name.to_string(),
            dir.path().join(name).display().to_string(),
        ] {
            let text = failure(&spanplug_in(dir.path(), &["list", &arg], dir.path()));
            assert!(
                text.contains("is not a loadable shared library: an `ar` archive"),
                "{text}"
            );
            assert_eq!(text.matches(CDYLIB_HINT).count(), 1, "{text}");
        }
    }
}

#[test]
fn a_module_not_found_beside_its_rlib_names_the_rlib_and_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let rlib = dir.path().join("libaudit.rlib");
    std::fs::copy(real_rlib(), &rlib).unwrap();
    let text = failure(&spanplug_in(dir.path(), &["list", "audit"], dir.path()));
    assert!(text.contains("plugin module \"audit\" not found"), "{text}");
    assert!(
        text.contains(&format!(
            "{} exists, which is an `ar` archive",
            rlib.display()
        )),
        "{text}"
    );
    assert_eq!(text.matches(CDYLIB_HINT).count(), 1, "{text}");
}

#[test]
fn check_says_an_entry_naming_an_rlib_must_be_built_as_a_cdylib() {
    let dir = tempfile::tempdir().unwrap();
    let rlib = dir.path().join("libaudit.rlib");
    std::fs::copy(real_rlib(), &rlib).unwrap();
    let config = dir.path().join("service.yaml");
    let yaml = format!(
        "tracing_config:\n  exporter_import_path: \"{}:slow_spans\"\n",
        rlib.display()
    );
    std::fs::write(&config, yaml).unwrap();
    let output = spanplug_in(dir.path(), &["check", config.to_str().unwrap()], dir.path());
    let text = format!("{}{}", support::stdout(&output), stderr(&output));
    assert!(!output.status.success(), "{text}");
    assert_eq!(text.matches(CDYLIB_HINT).count(), 1, "{text}");
}

/// `list` of a copy of a real plugin in a folder of mode `mode`.
fn list_in_folder_of_mode(mode: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("shared");
    std::fs::create_dir(&folder).unwrap();
    let copy = folder.join("libconsole_file.so");
    std::fs::copy(library("console_file"), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(mode)).unwrap();
    let args = ["list", copy.to_str().unwrap()];
    failure(&spanplug_in(dir.path(), &args, dir.path()))
}

#[test]
fn a_plugin_in_a_shared_temporary_folder_is_to_be_moved_not_the_folder_chmodded() {
    let text = list_in_folder_of_mode(0o1777);
    assert!(
        text.contains("is writable by every user (mode 1777)"),
        "{text}"
    );
    assert!(
        text.contains("it is a shared temporary folder, which must stay writable by everyone: move the library to a folder of your own"),
        "{text}"
    );
    assert!(!text.contains("chmod go-w"), "{text}");
}

#[test]
fn a_plugin_in_a_folder_writable_by_everyone_without_the_sticky_bit_is_told_chmod_go_w() {
    let text = list_in_folder_of_mode(0o777);
    assert!(
        text.contains("is writable by every user (mode 777)"),
        "{text}"
    );
    assert!(
        text.contains("make it writable only by its owner (chmod go-w)"),
        "{text}"
    );
    assert!(!text.contains("move the library"), "{text}");
}
