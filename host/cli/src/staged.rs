//! A file written beside its final path and renamed over it only when complete:
//! created exclusively with the mode asked for (never through a link left at its
//! name), and removed if it is never renamed into place. Whatever was at the final
//! path (a file, a link) is replaced, never written through.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The staged file's paths; see the module docs.
pub(crate) struct Staged {
    staging: PathBuf,
    target: PathBuf,
    renamed: bool,
}

impl Staged {
    /// Creates `.<name>.<pid>.tmp` beside `target`, with `mode` (less the umask).
    pub(crate) fn create(target: &Path, mode: u32) -> io::Result<(Self, File)> {
        let name = target.file_name().ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name")
        })?;
        let staging = target.with_file_name(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&staging)?;
        let staged = Self {
            staging,
            target: target.to_path_buf(),
            renamed: false,
        };
        Ok((staged, file))
    }

    /// Where the file is written until it is renamed into place.
    pub(crate) fn staging(&self) -> &Path {
        &self.staging
    }

    /// Where it goes.
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }

    /// Renames the file over the target.
    pub(crate) fn rename_into_place(mut self) -> io::Result<()> {
        fs::rename(&self.staging, &self.target)?;
        self.renamed = true;
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = fs::remove_file(&self.staging);
        }
    }
}
