//! The folders a span file lives in: from the configured root down to the spans
//! folder, each a real directory owned by this user and writable by no one else.

use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

/// This process's effective user.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The folders from the configured root down to the spans folder: each must be a
/// directory owned by this user and writable by no one else, so nobody else can
/// plant or swap what is in them.
pub(crate) struct Folders {
    root: PathBuf,
    root_may_be_link: bool,
    dir: PathBuf,
}

impl Folders {
    pub(crate) fn new(root: &Path, root_may_be_link: bool, dir: &Path) -> Folders {
        Folders {
            root: root.to_path_buf(),
            root_may_be_link,
            // Outside the root (a hand-built destination), the spans folder alone.
            dir: dir.to_path_buf(),
        }
    }

    /// The spans folder.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// `root`, then each folder below it down to `dir`.
    fn chain(&self) -> Vec<PathBuf> {
        match self.dir.strip_prefix(&self.root) {
            Ok(below) => {
                let mut chain = vec![self.root.clone()];
                let mut at = self.root.clone();
                for part in below.components() {
                    at.push(part);
                    chain.push(at.clone());
                }
                chain
            }
            Err(_) => vec![self.dir.clone()],
        }
    }

    fn check(&self, folder: &Path) -> Result<(), String> {
        let follow = self.root_may_be_link && folder == self.root;
        let meta = if follow {
            std::fs::metadata(folder)
        } else {
            std::fs::symlink_metadata(folder)
        }
        .map_err(|e| format!("cannot inspect the spans folder {}: {e}", folder.display()))?;
        if !meta.is_dir() {
            return Err(format!(
                "{} is not a directory (a link or a file); spans are only written in real folders",
                folder.display()
            ));
        }
        if meta.uid() != euid() {
            return Err(format!(
                "the spans folder {} is owned by uid {}, not this user (uid {}); use a folder of this user's",
                folder.display(),
                meta.uid(),
                euid()
            ));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "the spans folder {} is writable by {} (mode {mode:o}); use a folder only its owner can write",
                folder.display(),
                if mode & 0o002 != 0 { "every user" } else { "its group" }
            ));
        }
        Ok(())
    }

    /// Creates what is missing (0700), then checks every folder.
    pub(crate) fn create(&self) -> Result<(), String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| format!("cannot create the spans folder {}: {e}", self.dir.display()))?;
        self.chain()
            .iter()
            .try_for_each(|folder| self.check(folder))
    }

    /// What [`Folders::create`] would meet, without creating anything: the folders
    /// that exist pass the checks, and the nearest existing one lets this user create
    /// the rest. Returns `dir`.
    pub(crate) fn check_without_creating(&self) -> Result<&Path, String> {
        let existing = self
            .dir
            .ancestors()
            .find(|a| !a.as_os_str().is_empty() && a.symlink_metadata().is_ok())
            .unwrap_or(Path::new("."));
        for folder in self.chain() {
            if folder.symlink_metadata().is_ok() {
                self.check(&folder)?;
            }
        }
        if existing != self.dir {
            if !existing.is_dir() {
                return Err(format!(
                    "cannot create the spans folder {}: {} is not a directory",
                    self.dir.display(),
                    existing.display()
                ));
            }
            if !writable(existing) {
                return Err(format!(
                    "cannot create the spans folder {}: {} is not writable by this user",
                    self.dir.display(),
                    existing.display()
                ));
            }
        }
        Ok(&self.dir)
    }
}

fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}
