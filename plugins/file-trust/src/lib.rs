//! `spanplug-file-trust`: whether a file or folder could have been planted or swapped
//! by another user. One rule wherever spanplug loads from or writes into one (the
//! loader's plugin files and folders, console_file's spans folders): owned by this
//! user or root, writable by no one else, and a folder a real directory, reached
//! through a link only where the caller allows it.
//!
//! Root may replace anything anyway, so a file of root's is as safe as one of ours;
//! anyone else's, or one another user may write, is not. A world-writable folder
//! with the sticky bit (like `/tmp`) is refused too: others may still add names there.

#![warn(missing_docs)]

use std::fmt;
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// This process's effective user id: the owner of what it creates, and the one user
/// besides root whose files it trusts.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether a symbolic link at the checked path itself is followed (the loader, which
/// judges the real folder a plugin is in) or refused (a folder spans are written in,
/// which must not be redirected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Judge what the link points to.
    Follow,
    /// A link is refused as not a directory.
    Refuse,
}

/// Which part of the rule a path broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UntrustedKind {
    /// It could not be inspected (missing, no permission to look).
    Uninspectable,
    /// A folder was expected: it is a file, or a link where links are refused.
    NotADirectory,
    /// Its group may write to it.
    WritableByGroup,
    /// Every user may write to it.
    WritableByEveryone,
    /// It belongs to a user who is neither this one nor root.
    OwnedByAnother,
}

/// A file or folder refused, and why; the message names it as the caller called it.
#[derive(Debug)]
pub struct Untrusted {
    what: &'static str,
    path: PathBuf,
    problem: Problem,
}

#[derive(Debug)]
enum Problem {
    Uninspectable(std::io::Error),
    NotADirectory,
    Writable { mode: u32 },
    Owned { uid: u32 },
}

impl Untrusted {
    /// Which part of the rule it broke.
    pub fn kind(&self) -> UntrustedKind {
        match self.problem {
            Problem::Uninspectable(_) => UntrustedKind::Uninspectable,
            Problem::NotADirectory => UntrustedKind::NotADirectory,
            Problem::Writable { mode } if mode & 0o002 != 0 => UntrustedKind::WritableByEveryone,
            Problem::Writable { .. } => UntrustedKind::WritableByGroup,
            Problem::Owned { .. } => UntrustedKind::OwnedByAnother,
        }
    }

    /// Whether it is a shared temporary folder: writable by everyone with the sticky
    /// bit, like `/tmp`. Its mode is right for what it is; the fix is to move out of it.
    pub fn is_shared_temporary(&self) -> bool {
        matches!(self.problem, Problem::Writable { mode } if mode & 0o1002 == 0o1002)
    }

    /// The OS error when it could not be inspected (its message says it too).
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match &self.problem {
            Problem::Uninspectable(error) => Some(error),
            _ => None,
        }
    }

    /// The file or folder refused.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, path) = (self.what, self.path.display());
        match &self.problem {
            Problem::Uninspectable(error) => write!(f, "cannot inspect {what} {path}: {error}"),
            Problem::NotADirectory => {
                write!(f, "{what} {path} is not a directory (a link or a file)")
            }
            Problem::Writable { mode } => {
                let whom = match self.kind() {
                    UntrustedKind::WritableByEveryone => "every user",
                    _ => "its group",
                };
                write!(f, "{what} {path} is writable by {whom} (mode {mode:o})")
            }
            Problem::Owned { uid } => write!(
                f,
                "{what} {path} is owned by uid {uid}, neither this user nor root"
            ),
        }
    }
}

/// No `source`: the message already says the OS error, and a report of the chain
/// (anyhow's `{:#}`) would say it twice.
impl std::error::Error for Untrusted {}

/// Judges the open `file` (what will really be read, whatever its path names now);
/// `what` and `path` are for the message ("plugin file").
pub fn check_open_file(what: &'static str, path: &Path, file: &File) -> Result<(), Untrusted> {
    let refuse = |problem| Untrusted {
        what,
        path: path.to_path_buf(),
        problem,
    };
    let metadata = file
        .metadata()
        .map_err(|e| refuse(Problem::Uninspectable(e)))?;
    judge(&metadata).map_err(refuse)
}

/// Judges the folder at `path`: a directory (a link to one only with
/// [`Links::Follow`]), owned by this user or root, writable by no one else. `what`
/// is for the message ("plugin folder", "the spans folder").
pub fn check_folder(what: &'static str, path: &Path, links: Links) -> Result<(), Untrusted> {
    let refuse = |problem| Untrusted {
        what,
        path: path.to_path_buf(),
        problem,
    };
    let metadata = match links {
        Links::Follow => std::fs::metadata(path),
        Links::Refuse => std::fs::symlink_metadata(path),
    }
    .map_err(|e| refuse(Problem::Uninspectable(e)))?;
    if !metadata.is_dir() {
        return Err(refuse(Problem::NotADirectory));
    }
    judge(&metadata).map_err(refuse)
}

/// The owner and mode rule, for a file or a folder.
fn judge(metadata: &Metadata) -> Result<(), Problem> {
    let mode = metadata.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Problem::Writable { mode });
    }
    let uid = metadata.uid();
    if uid != 0 && uid != effective_uid() {
        return Err(Problem::Owned { uid });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
