//! The folders a span file lives in: from the configured root down to the spans
//! folder, each a real directory owned by this user (or root) and writable by no one
//! else.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use spanplug_file_trust::{Links, UntrustedKind};

/// The folders from the configured root down to the spans folder: each must be a
/// directory owned by this user or root and writable by no one else, so nobody else
/// can plant or swap what is in them.
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

    /// One folder of the chain, by the rule the loader applies to plugin folders
    /// (`spanplug-file-trust`); only a configured root may be a link.
    fn check(&self, folder: &Path) -> Result<(), String> {
        let links = if self.root_may_be_link && folder == self.root {
            Links::Follow
        } else {
            Links::Refuse
        };
        spanplug_file_trust::check_folder("the spans folder", folder, links).map_err(|untrusted| {
            let advice = match untrusted.kind() {
                UntrustedKind::NotADirectory => "; spans are only written in real folders",
                UntrustedKind::OwnedByAnother => "; use a folder of this user's",
                UntrustedKind::WritableByGroup | UntrustedKind::WritableByEveryone => {
                    "; use a folder only its owner can write"
                }
                _ => "",
            };
            format!("{untrusted}{advice}")
        })
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn set_mode(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A configured `log_dir` of this user's that only it can write.
    fn log_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        set_mode(dir.path(), 0o700);
        dir
    }

    /// A link `name` in a fresh `log_dir` (the holder) to another `log_dir` (the
    /// target): (holder, target, link).
    fn link_to_a_folder(name: &str) -> (tempfile::TempDir, tempfile::TempDir, PathBuf) {
        let holder = log_dir();
        let target = log_dir();
        let link = holder.path().join(name);
        std::os::unix::fs::symlink(target.path(), &link).unwrap();
        (holder, target, link)
    }

    /// Asserts that creating `spans` under the configured `root` fails with "the spans
    /// folder <spans> <reason>".
    fn assert_refused(root: &Path, spans: &Path, reason: &str) {
        let error = Folders::new(root, false, spans).create().unwrap_err();
        assert_eq!(
            error,
            format!("the spans folder {} {reason}", spans.display())
        );
    }

    #[test]
    fn missing_folders_are_created_for_this_user_alone() {
        let root = log_dir();
        let dir = root.path().join("logs").join("spans");
        Folders::new(root.path(), false, &dir).create().unwrap();
        assert_eq!(mode(&root.path().join("logs")), 0o700);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_folder_others_can_write_anywhere_in_the_chain_is_refused() {
        let root = log_dir();
        let logs = root.path().join("logs");
        std::fs::create_dir(&logs).unwrap();
        set_mode(&logs, 0o770);
        let error = Folders::new(root.path(), false, &logs.join("spans"))
            .create()
            .unwrap_err();
        assert_eq!(
            error,
            format!(
                "the spans folder {} is writable by its group (mode 770); use a folder only its owner can write",
                logs.display()
            )
        );
        set_mode(&logs, 0o700);
        set_mode(root.path(), 0o1777);
        let error = Folders::new(root.path(), false, &logs.join("spans"))
            .check_without_creating()
            .unwrap_err();
        assert!(
            error.contains("is writable by every user (mode 1777)"),
            "{error}"
        );
    }

    #[test]
    fn a_spans_folder_that_is_a_link_is_refused_even_to_a_folder_of_ours() {
        let (root, _elsewhere, spans) = link_to_a_folder("spans");
        assert_refused(
            root.path(),
            &spans,
            "is not a directory (a link or a file); spans are only written in real folders",
        );
    }

    #[test]
    fn only_a_configured_root_may_be_a_link() {
        let (_holder, real, root) = link_to_a_folder("log_dir");
        let dir = root.join("spans");
        Folders::new(&root, true, &dir).create().unwrap();
        assert!(real.path().join("spans").is_dir());
        let error = Folders::new(&root, false, &dir).create().unwrap_err();
        assert!(
            error.contains("is not a directory (a link or a file)"),
            "{error}"
        );
    }

    #[test]
    fn a_folder_owned_by_another_user_is_refused() {
        if spanplug_file_trust::effective_uid() != 0 {
            eprintln!("skipped: only root can give a folder to another user");
            return;
        }
        let root = log_dir();
        let spans = root.path().join("spans");
        std::fs::create_dir(&spans).unwrap();
        set_mode(&spans, 0o700);
        std::os::unix::fs::chown(&spans, Some(65534), Some(65534)).unwrap();
        assert_refused(
            root.path(),
            &spans,
            "is owned by uid 65534, neither this user nor root; use a folder of this user's",
        );
    }

    #[test]
    fn a_dry_run_creates_nothing_and_refuses_a_file_in_the_way() {
        let root = log_dir();
        let dir = root.path().join("logs").join("spans");
        let folders = Folders::new(root.path(), false, &dir);
        assert_eq!(folders.check_without_creating().unwrap(), dir);
        assert!(!root.path().join("logs").exists());
        std::fs::write(root.path().join("logs"), "a file").unwrap();
        let error = folders.check_without_creating().unwrap_err();
        assert!(
            error.contains("logs is not a directory (a link or a file)"),
            "{error}"
        );
        // Outside the root only the spans folder is judged, and what holds it must be
        // a folder this user can create it in.
        let outside = log_dir();
        let dir = root.path().join("logs").join("spans");
        let error = Folders::new(outside.path(), false, &dir)
            .check_without_creating()
            .unwrap_err();
        assert_eq!(
            error,
            format!(
                "cannot create the spans folder {}: {} is not a directory",
                dir.display(),
                root.path().join("logs").display()
            )
        );
    }
}
