//! The span file: created exclusively, 0600, never through a link, in folders
//! [`Folders`] checked; one moved or deleted while the process runs is noticed before
//! the next write and created again; a failed write is cut back to the last whole record.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::folders::Folders;
use spanplug_api::sync::lock;

/// Files this process has open, so two processors never share one.
static OPEN_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The span file's name, split into stem and extension: `file_name` as given, else
/// `<service>_<pid>.<extension>`.
pub(crate) fn file_stem(
    service: &str,
    file_name: Option<&str>,
    extension: &str,
) -> (String, String) {
    match file_name.map(|name| name.rsplit_once('.').unwrap_or((name, ""))) {
        Some((stem, given)) => (stem.to_string(), given.to_string()),
        None => (
            format!("{}_{}", file_safe(service), std::process::id()),
            extension.to_string(),
        ),
    }
}

/// The longest file name most filesystems take, in bytes.
const MAX_FILE_NAME: usize = 255;

/// A `file_name` setting names one file inside the spans folder: no folders, no
/// `.`/`..`, no control characters, at most 255 bytes with room for a `_<n>` suffix.
pub(crate) fn check_file_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() || name == "." || name == ".." {
        Some("is not a file name")
    } else if name.contains('/') {
        Some("names a folder; give only the file's name (log_dir sets the folder)")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else if name.len() > MAX_FILE_NAME - 5 {
        Some("is longer than 250 bytes")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!(
            "exporter_config.file_name {:?} {problem}",
            spanplug_api::text::escape_controls(name, MAX_FILE_NAME + 16)
        )),
        None => Ok(()),
    }
}

/// The span file: created exclusively, never through a link, and recreated if it is
/// moved or deleted while the process runs.
pub(crate) struct SpanFile {
    folders: Folders,
    pub(crate) path: PathBuf,
    file: File,
    /// Device and inode of what we opened, to notice a moved or deleted file.
    identity: (u64, u64),
    /// Bytes of whole records written: a failed write is cut back to it, so the file
    /// never ends in a torn record.
    len: u64,
}

impl SpanFile {
    /// `<dir>/<stem>.<ext>`, or `<stem>_<n>.<ext>` when that name is taken (by this
    /// process, an earlier process with this pid, or anyone else): a file is never
    /// shared or appended to.
    pub(crate) fn create(
        folders: Folders,
        stem: &str,
        extension: &str,
    ) -> Result<SpanFile, String> {
        folders.create()?;
        let dir = folders.dir().to_path_buf();
        let dot = if extension.is_empty() { "" } else { "." };
        let mut open = lock(&OPEN_FILES);
        for n in 1..=1000 {
            let path = match n {
                1 => dir.join(format!("{stem}{dot}{extension}")),
                n => dir.join(format!("{stem}_{n}{dot}{extension}")),
            };
            if open.contains(&path) {
                continue;
            }
            match open_new(&path) {
                Ok(file) => {
                    let identity = identity(&file).map_err(|e| {
                        format!("cannot inspect the span file {}: {e}", path.display())
                    })?;
                    open.push(path.clone());
                    return Ok(SpanFile {
                        folders,
                        path,
                        file,
                        identity,
                        len: 0,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create the span file {}: {e}",
                        path.display()
                    ))
                }
            }
        }
        Err(format!(
            "cannot create a span file in {}: 1000 names for {stem} are taken",
            dir.display()
        ))
    }

    /// Before a write: if the file at our path is no longer the one we hold (moved,
    /// deleted, replaced), create it again. `Ok(true)` when it was recreated.
    pub(crate) fn ensure_current(&mut self) -> std::io::Result<bool> {
        let current = std::fs::symlink_metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.as_ref().ok() == Some(&self.identity) {
            return Ok(false);
        }
        self.folders.create().map_err(std::io::Error::other)?;
        // Whatever now has our name (a rotated-in file, or a planted link) is not
        // trusted: only a file we create ourselves is written to.
        if current.is_ok() {
            return Err(std::io::Error::other(format!(
                "{} was replaced by another file; spans are not written into a file spanplug did not create",
                self.path.display()
            )));
        }
        self.file = open_new(&self.path)?;
        self.identity = identity(&self.file)?;
        self.len = 0;
        Ok(true)
    }

    /// Appends whole records, or nothing: a write that fails part-way (a full disk)
    /// is cut back to where it started.
    pub(crate) fn write_records(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                let _ = self.file.set_len(self.len);
                let _ = self.file.seek(SeekFrom::Start(self.len));
                Err(error)
            }
        }
    }
}

impl Drop for SpanFile {
    /// The file closes; its name may be used again.
    fn drop(&mut self) {
        lock(&OPEN_FILES).retain(|open| *open != self.path);
    }
}

/// Makes writes from the calling thread past a file-size limit (`ulimit -f`,
/// `RLIMIT_FSIZE`) fail with EFBIG, handled like any failed write, instead of raising
/// SIGXFSZ, whose default action ends the process. The kernel sends that signal to the
/// writing thread alone, so blocking it in this thread's mask keeps it pending there,
/// never delivered; the application's own signal dispositions are left alone.
pub(crate) fn block_file_size_signal() {
    // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask only
    // changes the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGXFSZ);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

fn open_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o600)
        .open(path)
}

fn identity(file: &File) -> std::io::Result<(u64, u64)> {
    file.metadata().map(|m| (m.dev(), m.ino()))
}

/// Service names become file names: keep `[A-Za-z0-9._-]`, replace the rest.
fn file_safe(service: &str) -> String {
    let safe: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        format!("service{safe}")
    } else {
        safe
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    /// A spans folder of this user's, checked from itself down.
    fn spans_folder() -> (tempfile::TempDir, Folders) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let folders = Folders::new(dir.path(), false, dir.path());
        (dir, folders)
    }

    #[test]
    fn a_span_file_is_created_0600_and_owned_by_this_user() {
        let (dir, folders) = spans_folder();
        let file = SpanFile::create(folders, "svc_1", "json").unwrap();
        assert_eq!(file.path, dir.path().join("svc_1.json"));
        let meta = std::fs::metadata(&file.path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
        assert_eq!(meta.uid(), spanplug_file_trust::effective_uid());
    }

    #[test]
    fn a_taken_name_is_never_shared_or_appended_to() {
        let (dir, folders) = spans_folder();
        let theirs = dir.path().join("svc.json");
        std::fs::write(&theirs, "someone else's").unwrap();
        let mut first = SpanFile::create(folders, "svc", "json").unwrap();
        assert_eq!(first.path, dir.path().join("svc_2.json"));
        // The same name again in this process, while the first is open: the next one.
        let second = SpanFile::create(Folders::new(dir.path(), false, dir.path()), "svc", "json");
        assert_eq!(second.unwrap().path, dir.path().join("svc_3.json"));
        first.write_records(b"{}\n").unwrap();
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "someone else's");
    }

    #[test]
    fn a_link_planted_at_the_files_name_is_not_followed() {
        let (dir, folders) = spans_folder();
        let target = dir.path().join("target");
        std::os::unix::fs::symlink(&target, dir.path().join("svc.json")).unwrap();
        let mut file = SpanFile::create(folders, "svc", "json").unwrap();
        assert_eq!(file.path, dir.path().join("svc_2.json"));
        file.write_records(b"{}\n").unwrap();
        assert!(!target.exists(), "written through the link");
    }

    #[test]
    fn a_deleted_file_is_created_again_and_a_replaced_one_is_refused() {
        let (dir, folders) = spans_folder();
        let mut file = SpanFile::create(folders, "svc", "json").unwrap();
        file.write_records(b"one\n").unwrap();
        assert!(!file.ensure_current().unwrap());
        std::fs::remove_file(&file.path).unwrap();
        assert!(file.ensure_current().unwrap());
        file.write_records(b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&file.path).unwrap(), "two\n");
        assert_eq!(
            std::fs::metadata(&file.path).unwrap().permissions().mode() & 0o7777,
            0o600
        );
        // A link someone put in its place is not written through.
        std::fs::remove_file(&file.path).unwrap();
        let target = dir.path().join("target");
        std::os::unix::fs::symlink(&target, &file.path).unwrap();
        let error = file.ensure_current().unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} was replaced by another file; spans are not written into a file spanplug did not create",
                file.path.display()
            )
        );
        assert!(!target.exists());
    }

    #[test]
    fn a_file_name_setting_names_one_file_in_the_spans_folder() {
        check_file_name("ray_serve.log").unwrap();
        for (name, problem) in [
            ("", "is not a file name"),
            ("..", "is not a file name"),
            ("../x.json", "names a folder"),
            ("a\nb", "contains control characters"),
        ] {
            let error = check_file_name(name).unwrap_err();
            assert!(error.contains(problem), "{name:?}: {error}");
        }
        let long = "x".repeat(251);
        assert!(check_file_name(&long)
            .unwrap_err()
            .contains("longer than 250 bytes"));
    }
}
