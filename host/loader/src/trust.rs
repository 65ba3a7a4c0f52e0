//! Whether a plugin file may be loaded at all: the caution `ld.so` takes in secure
//! mode. A library that another user could have replaced runs with the service's
//! privileges, so it is refused unless the operator says otherwise.

use std::fs::File;
use std::path::Path;

use spanplug_file_trust::{Links, Untrusted};

use crate::error::{LoadError, Repr};

/// Set to `1` (or `true`, `yes`, `on`) to load plugins despite unsafe ownership or
/// permissions.
pub const ALLOW_INSECURE_VAR: &str = "SPANPLUG_ALLOW_INSECURE_PLUGINS";

/// Refuses a plugin file, or the folder really holding it (links resolved), that is
/// writable by group or others or owned by someone other than this user or root
/// (the rule of `spanplug-file-trust`, which console_file's folders follow too).
/// The file is judged by the open descriptor that will be loaded, not by its path.
pub fn check_trusted(path: &Path, file: &File) -> Result<(), LoadError> {
    if insecure_allowed() {
        return Ok(());
    }
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let folder = real
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let refusal = match spanplug_file_trust::check_open_file("plugin file", path, file) {
        Err(untrusted) => Some(untrusted),
        Ok(()) => untrusted_folder(folder),
    };
    match refusal {
        None => Ok(()),
        Some(untrusted) => Err(LoadError::from(Repr::Untrusted {
            path: path.to_path_buf(),
            reason: untrusted.to_string(),
            advice: advice(&untrusted),
        })),
    }
}

/// What to do about a refusal. A shared temporary folder (`/tmp`: writable by
/// everyone, with the sticky bit) must stay as it is: the library moves instead.
fn advice(untrusted: &Untrusted) -> &'static str {
    if untrusted.is_shared_temporary() {
        "it is a shared temporary folder, which must stay writable by everyone: move the library to a folder of your own (owned by you, mode 0755, e.g. ~/.local/lib/spanplug)"
    } else {
        "make it writable only by its owner (chmod go-w) and owned by this user or root"
    }
}

/// Whether the operator set `SPANPLUG_ALLOW_INSECURE_PLUGINS=1`. A value that cannot
/// be read allows nothing; the front ends (`spanplug_sdk::init`, `spanplug check`)
/// report it as an error.
fn insecure_allowed() -> bool {
    crate::env::switch(ALLOW_INSECURE_VAR) == Ok(Some(true))
}

/// Why the host would refuse plugins in `dir` (links resolved), if it would.
pub fn folder_problem(dir: &Path) -> Option<String> {
    untrusted_folder(dir).map(|untrusted| untrusted.to_string())
}

fn untrusted_folder(dir: &Path) -> Option<Untrusted> {
    if insecure_allowed() {
        return None;
    }
    let real = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    spanplug_file_trust::check_folder("plugin folder", &real, Links::Follow).err()
}

/// Checks the open file that will be loaded against a pinned SHA-256 (hex).
pub fn check_sha256(path: &Path, file: &mut File, expected: &str) -> Result<(), LoadError> {
    use sha2::{Digest, Sha256};
    use std::io::{Read, Seek, SeekFrom};
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(|e| {
            LoadError::from(Repr::InvalidLibrary {
                path: path.to_path_buf(),
                reason: format!("cannot read it to check its SHA-256: {e}"),
            })
        })?;
    let actual: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if actual.eq_ignore_ascii_case(expected.trim()) {
        Ok(())
    } else {
        Err(LoadError::from(Repr::ChecksumMismatch {
            path: path.to_path_buf(),
            expected: expected.trim().to_ascii_lowercase(),
            actual,
        }))
    }
}
