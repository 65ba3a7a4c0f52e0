//! `spanplug install-plugins`: copies plugin libraries into a plugin folder (for
//! example `/opt/spanplug/plugins` in an image), all or nothing.
//!
//! Each source is opened once, without blocking, and must be a regular ELF shared
//! object; it is copied from that descriptor into a temporary file in the target
//! folder and synced. Every staged copy is then loaded by a *probe* in another
//! process (a library's constructors run when it loads: not in the installer), and
//! only when all of them load are they renamed into place. A target folder the host
//! would refuse to load from is refused up front; two sources with one file name
//! are refused. A source that is a bundle's manifest (or a folder holding one, see
//! [`crate::manifest`]) stands for the libraries it lists, and each staged copy must
//! have the SHA-256 the manifest gives it.

use std::fs::{self, File};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::manifest::{sha256_hex, Manifest, MANIFEST_FILE};
use crate::staged;

/// The symbol every spanplug plugin exports (abi_stable's root-module loader).
const ROOT_MODULE_SYMBOL: &[u8] = b"_1as_0lib_1header_0root_bmodule_bloader";
/// Libraries larger than this are not read (nor installed).
const MAX_LIBRARY_BYTES: u64 = 512 * 1024 * 1024;

/// Why `spanplug install-plugins` installed nothing. Its message (`Display`) says which
/// file and why; [`InstallError::kind`] says which failure it is. Opaque, so that what
/// an error carries can grow without breaking anyone.
#[derive(Debug, Error)]
#[error(transparent)]
pub struct InstallError(Box<Repr>);

/// Which failure an [`InstallError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InstallErrorKind {
    /// Reading a source or writing the target folder failed.
    Io,
    /// A source is not a regular ELF shared library of a loadable size.
    BadSource,
    /// The source folder holds no spanplug plugin.
    NoPlugins,
    /// Two sources would be installed under one name.
    DuplicateName,
    /// The target folder is one the host would refuse to load plugins from.
    UnsafeTarget,
    /// Some library failed to load in the probe, so none was installed.
    NotLoadable,
    /// A bundle's manifest cannot be read or is not one this version reads.
    BadManifest,
    /// A library does not have the SHA-256 its manifest gives it.
    ChecksumMismatch,
}

impl InstallError {
    /// Which failure this is.
    pub fn kind(&self) -> InstallErrorKind {
        match &*self.0 {
            Repr::Io { .. } => InstallErrorKind::Io,
            Repr::BadSource { .. } => InstallErrorKind::BadSource,
            Repr::NoPlugins { .. } => InstallErrorKind::NoPlugins,
            Repr::DuplicateName { .. } => InstallErrorKind::DuplicateName,
            Repr::UnsafeTarget { .. } => InstallErrorKind::UnsafeTarget,
            Repr::NotLoadable { .. } => InstallErrorKind::NotLoadable,
            Repr::BadManifest { .. } => InstallErrorKind::BadManifest,
            Repr::ChecksumMismatch { .. } => InstallErrorKind::ChecksumMismatch,
        }
    }

    /// The file or folder the error is about (for two sources with one name, the
    /// second; for a failed probe, none).
    pub fn path(&self) -> Option<&Path> {
        match &*self.0 {
            Repr::Io { path, .. }
            | Repr::BadSource { path, .. }
            | Repr::BadManifest { path, .. }
            | Repr::ChecksumMismatch { path, .. } => Some(path),
            Repr::NoPlugins { dir } | Repr::UnsafeTarget { dir, .. } => Some(dir),
            Repr::DuplicateName { second, .. } => Some(second),
            Repr::NotLoadable { .. } => None,
        }
    }

    /// What the probe made of each library, when some failed to load.
    pub fn outcomes(&self) -> &[Outcome] {
        match &*self.0 {
            Repr::NotLoadable { outcomes } => outcomes,
            _ => &[],
        }
    }
}

impl From<Repr> for InstallError {
    fn from(repr: Repr) -> Self {
        InstallError(Box::new(repr))
    }
}

#[derive(Debug, Error)]
enum Repr {
    // The OS error is in the message, so not also a `source` (printed once).
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    BadSource { path: PathBuf, reason: String },
    #[error("no spanplug plugin libraries in {}", dir.display())]
    NoPlugins { dir: PathBuf },
    #[error("two sources are named {name}: {} and {}; install one of them", first.display(), second.display())]
    DuplicateName {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("refusing to install into {}: {reason}; the host would refuse to load plugins from it", dir.display())]
    UnsafeTarget { dir: PathBuf, reason: String },
    #[error("nothing installed: {} of {} libraries failed to load{}", failed(outcomes), outcomes.len(), outcome_lines(outcomes))]
    NotLoadable { outcomes: Vec<Outcome> },
    #[error("{}: not a spanplug bundle manifest: {reason}", path.display())]
    BadManifest { path: PathBuf, reason: String },
    #[error("nothing installed: {} has SHA-256 {actual}, but its manifest says {expected}; the bundle is damaged or was changed: download it again", path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
}

/// What the probe made of one library.
#[derive(Debug)]
pub struct Outcome {
    /// The library probed.
    pub source: PathBuf,
    /// What loading it reported, or why it failed.
    pub result: Result<Probed, String>,
}

fn failed(outcomes: &[Outcome]) -> usize {
    outcomes.iter().filter(|o| o.result.is_err()).count()
}

fn outcome_lines(outcomes: &[Outcome]) -> String {
    outcomes
        .iter()
        .map(|o| match &o.result {
            Ok(probed) => format!(
                "\n  ok    {} (spanplug-api {})",
                o.source.display(),
                probed.api_version
            ),
            Err(reason) => format!(
                "\n  FAIL  {}: {}",
                o.source.display(),
                reason.replace('\n', "\n        ")
            ),
        })
        .collect()
}

/// What a probe reports for a library that loads.
#[derive(Clone, Debug)]
pub struct Probed {
    /// The spanplug-api version it was built against.
    pub api_version: String,
    /// The factories it exports.
    pub functions: Vec<String>,
}

/// One library installed.
#[derive(Debug)]
pub struct Installed {
    /// Where it was installed.
    pub path: PathBuf,
    /// The spanplug-api version it was built against.
    pub api_version: String,
    /// The factories it exports.
    pub functions: Vec<String>,
    /// Its SHA-256 (of the bytes installed), as `sha256sum` prints it.
    pub sha256: String,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Repr + '_ {
    move |error| Repr::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Opens a source without blocking (a FIFO cannot hang the installer) and checks it is
/// a regular ELF shared object; the descriptor is what gets copied.
fn open_source(path: &Path) -> Result<File, InstallError> {
    let bad = |reason: String| Repr::BadSource {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = spanplug_api::files::open_regular_file(path, MAX_LIBRARY_BYTES)
        .map_err(|e| bad(e.to_string()))?;
    spanplug_loader::check_shared_object(&mut file).map_err(bad)?;
    Ok(file)
}

/// Shared libraries in `dir` that export the spanplug root module.
fn plugins_in(dir: &Path) -> Result<Vec<PathBuf>, InstallError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))?.flatten() {
        let path = entry.path();
        let is_library = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(std::env::consts::DLL_SUFFIX));
        if is_library && entry.file_type().is_ok_and(|t| t.is_file()) {
            let bytes =
                spanplug_api::files::read_regular_file(&path, MAX_LIBRARY_BYTES).map_err(|e| {
                    Repr::BadSource {
                        path: path.clone(),
                        reason: e.to_string(),
                    }
                })?;
            if bytes
                .windows(ROOT_MODULE_SYMBOL.len())
                .any(|w| w == ROOT_MODULE_SYMBOL)
            {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(Repr::NoPlugins {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    found.sort();
    Ok(found)
}

/// The libraries `source` stands for, each with the SHA-256 it must have when a
/// manifest gives one: a manifest's (or a folder's manifest's) list, a folder's
/// plugins, or the file itself.
fn expand(source: &Path) -> Result<Vec<(PathBuf, Option<String>)>, InstallError> {
    let manifest = if source.is_dir() {
        Some(source.join(MANIFEST_FILE)).filter(|m| m.is_file())
    } else {
        Some(source.to_path_buf()).filter(|s| s.extension().is_some_and(|e| e == "json"))
    };
    if let Some(path) = manifest {
        let read = Manifest::read(&path).map_err(|reason| Repr::BadManifest {
            path: path.clone(),
            reason,
        })?;
        return Ok(read
            .sources(&path)
            .into_iter()
            .map(|(library, sha256)| (library, Some(sha256)))
            .collect());
    }
    if source.is_dir() {
        return Ok(plugins_in(source)?.into_iter().map(|p| (p, None)).collect());
    }
    Ok(vec![(source.to_path_buf(), None)])
}

/// A staged copy in the target folder, removed unless it is renamed into place.
struct Staged {
    source: PathBuf,
    copy: staged::Staged,
    sha256: String,
}

/// Copies `source` into `dest` under a temporary name; with `expected`, the copy must
/// have that SHA-256.
fn stage(source: &Path, expected: Option<&str>, dest: &Path) -> Result<Staged, InstallError> {
    let mut file = open_source(source)?;
    let name = source.file_name().expect("a regular file has a name");
    let target = dest.join(name);
    let (copy, mut written) = staged::Staged::create(&target, 0o755).map_err(io(&target))?;
    let staging = copy.staging().to_path_buf();
    // One read: the bytes hashed are the bytes written.
    let mut bytes = Vec::new();
    std::io::Seek::rewind(&mut file).map_err(io(source))?;
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut file, MAX_LIBRARY_BYTES),
        &mut bytes,
    )
    .map_err(io(source))?;
    let staged = Staged {
        source: source.to_path_buf(),
        copy,
        sha256: sha256_hex(&bytes),
    };
    if let Some(expected) = expected.filter(|e| !e.eq_ignore_ascii_case(&staged.sha256)) {
        return Err(Repr::ChecksumMismatch {
            path: source.to_path_buf(),
            expected: expected.to_string(),
            actual: staged.sha256,
        }
        .into());
    }
    written.write_all(&bytes).map_err(io(&staging))?;
    // Not writable by group or others whatever the umask: the host refuses such plugins.
    written
        .set_permissions(fs::Permissions::from_mode(0o755))
        .map_err(io(&staging))?;
    written
        .flush()
        .and_then(|()| written.sync_all())
        .map_err(io(&staging))?;
    Ok(staged)
}

/// Two libraries that would be installed under one name are refused.
fn refuse_duplicate_names(libraries: &[(PathBuf, Option<String>)]) -> Result<(), InstallError> {
    for (i, (library, _)) in libraries.iter().enumerate() {
        let name = library.file_name().unwrap_or_default();
        if let Some((other, _)) = libraries[..i]
            .iter()
            .find(|(o, _)| o.file_name() == Some(name))
        {
            return Err(Repr::DuplicateName {
                name: name.to_string_lossy().into_owned(),
                first: other.clone(),
                second: library.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// Installs each library in `sources` (files, folders of plugins, or bundle manifests or
/// their folders) into `dest`, or
/// none of them: `probe` loads each staged copy (in another process) and reports it.
pub fn install_plugins(
    sources: &[PathBuf],
    dest: &Path,
    probe: impl Fn(&Path) -> Result<Probed, String>,
) -> Result<Vec<Installed>, InstallError> {
    let mut expected = Vec::new();
    for source in sources {
        expected.extend(expand(source)?);
    }
    refuse_duplicate_names(&expected)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(dest)
        .map_err(io(dest))?;
    if let Some(reason) = spanplug_loader::trust::folder_problem(dest) {
        return Err(Repr::UnsafeTarget {
            dir: dest.to_path_buf(),
            reason,
        }
        .into());
    }
    // On an error, dropping what was staged removes every staged copy.
    let staged = expected
        .iter()
        .map(|(library, sha256)| stage(library, sha256.as_deref(), dest))
        .collect::<Result<Vec<_>, _>>()?;
    let outcomes: Vec<Outcome> = staged
        .iter()
        .map(|s| Outcome {
            source: s.source.clone(),
            result: probe(s.copy.staging()),
        })
        .collect();
    if outcomes.iter().any(|o| o.result.is_err()) {
        // Dropping `staged` removes every staged copy.
        return Err(Repr::NotLoadable { outcomes }.into());
    }
    let mut installed = Vec::new();
    for (staged, outcome) in staged.into_iter().zip(outcomes) {
        let target = staged.copy.target().to_path_buf();
        staged.copy.rename_into_place().map_err(io(&target))?;
        let probed = outcome.result.expect("checked above");
        installed.push(Installed {
            path: target,
            api_version: probed.api_version,
            functions: probed.functions,
            sha256: staged.sha256,
        });
    }
    // The renames themselves survive a crash once the folder is synced.
    File::open(dest)
        .and_then(|dir| dir.sync_all())
        .map_err(io(dest))?;
    Ok(installed)
}
