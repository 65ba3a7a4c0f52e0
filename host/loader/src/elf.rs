//! A pre-flight check of a plugin file before `dlopen`: glibc maps segments straight
//! from the file, and a segment that runs past the end of a truncated file kills the
//! process with SIGBUS instead of returning an error.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

const PT_LOAD: u64 = 1;

/// What an `ar` archive (an rlib, a `.a`) is, and the fix: cargo builds one for a
/// plugin crate that does not ask for a cdylib.
pub(crate) const NOT_A_CDYLIB: &str = "an `ar` archive (an rlib or a static library `.a`), not a shared library: build the plugin crate as a cdylib (`crate-type = [\"cdylib\"]` under `[lib]` in its Cargo.toml; keep \"rlib\" beside it for tests) and give the `.so` cargo writes";

fn u16_at(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn u32_at(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        b[at..at + 4].try_into().expect("4 bytes"),
    ))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Checks that `file` is a little-endian ELF64 shared object whose program and
/// section headers, and every loadable segment, lie inside the file.
pub fn check_shared_object(file: &mut File) -> Result<(), String> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| format!("cannot read: {e}"))?;
    let size = file
        .metadata()
        .map_err(|e| format!("cannot stat: {e}"))?
        .len();
    let mut header = Vec::with_capacity(64);
    file.by_ref()
        .take(64)
        .read_to_end(&mut header)
        .map_err(|e| format!("cannot read: {e}"))?;
    if header.starts_with(b"!<arch>\n") {
        return Err(NOT_A_CDYLIB.into());
    }
    if header.len() < 64 {
        return Err(format!("file too short for an ELF header ({size} bytes)"));
    }
    if &header[..4] != b"\x7fELF" {
        return Err("not an ELF file".into());
    }
    if header[4] != 2 || header[5] != 1 {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    const ET_DYN: u64 = 3;
    if u16_at(&header, 16) != ET_DYN {
        return Err("not a shared library (ELF type is not ET_DYN)".into());
    }
    let (phoff, phentsize, phnum) = (
        u64_at(&header, 32),
        u16_at(&header, 54),
        u16_at(&header, 56),
    );
    let (shoff, shentsize, shnum) = (
        u64_at(&header, 40),
        u16_at(&header, 58),
        u16_at(&header, 60),
    );
    let within = |offset: u64, len: u64| offset.checked_add(len).is_some_and(|end| end <= size);
    let truncated = |what: &str| {
        format!("{what} extends past the end of the file ({size} bytes): the file is truncated")
    };
    if phentsize < 56 || !within(phoff, phentsize * phnum) {
        return Err(truncated("the program header table"));
    }
    if shnum > 0 && !within(shoff, shentsize * shnum) {
        return Err(truncated("the section header table"));
    }
    let mut table = vec![0u8; (phentsize * phnum) as usize];
    file.seek(SeekFrom::Start(phoff))
        .and_then(|_| file.read_exact(&mut table))
        .map_err(|e| format!("cannot read the program headers: {e}"))?;
    for entry in table.chunks_exact(phentsize as usize) {
        if u32_at(entry, 0) == PT_LOAD && !within(u64_at(entry, 8), u64_at(entry, 32)) {
            return Err(truncated("a loadable segment"));
        }
    }
    Ok(())
}
