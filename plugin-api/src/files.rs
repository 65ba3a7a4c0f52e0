//! Reading a file named in a config, as neither side trusts it: opened without
//! blocking (a FIFO or a device cannot stall the caller), only if it is a regular
//! file, and read up to a limit (`/dev/zero` cannot grow the process). For hosts and
//! plugins alike; nothing here crosses the boundary.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Why a config file could not be read; the message names the file and what it is.
#[derive(Debug)]
pub struct FileError(String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// Opens `path` for reading without blocking and only if it is a regular file of at
/// most `max_bytes`; the descriptor is what the checks judged.
pub fn open_regular_file(path: &Path, max_bytes: u64) -> Result<File, FileError> {
    let shown = path.display();
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| FileError(format!("cannot open {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| FileError(format!("cannot inspect {shown}: {e}")))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        let what = if kind.is_dir() {
            "a directory"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_char_device() || kind.is_block_device() {
            "a device"
        } else if kind.is_socket() {
            "a socket"
        } else {
            "not a regular file"
        };
        return Err(FileError(format!("{shown} is {what}, not a regular file")));
    }
    if meta.len() > max_bytes {
        return Err(FileError(format!(
            "{shown} is {} bytes; at most {max_bytes} are read",
            meta.len()
        )));
    }
    Ok(file)
}

/// The contents of the regular file at `path`, at most `max_bytes` of them (a larger
/// file is an error, not a truncation).
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, FileError> {
    let shown = path.display();
    let file = open_regular_file(path, max_bytes)?;
    let mut bytes = Vec::new();
    // The size may change under us: never read more than the limit.
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| FileError(format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(FileError(format!(
            "{shown} grew past {max_bytes} bytes while being read"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = std::env::temp_dir().join(format!("spanplug-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let small = dir.join("small");
        std::fs::write(&small, "abc").unwrap();
        assert_eq!(read_regular_file(&small, 3).unwrap(), b"abc");
        let error = read_regular_file(&small, 2).unwrap_err().to_string();
        assert!(error.contains("is 3 bytes; at most 2 are read"), "{error}");
        let error = read_regular_file(Path::new("/dev/zero"), 10)
            .unwrap_err()
            .to_string();
        assert!(error.contains("is a device"), "{error}");
        let error = read_regular_file(&dir, 10).unwrap_err().to_string();
        assert!(error.contains("is a directory"), "{error}");
        let fifo = dir.join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        let error = read_regular_file(&fifo, 10).unwrap_err().to_string();
        assert!(error.contains("is a FIFO"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
