//! A plugin bundle's manifest (`manifest.json`): for each library, its file (relative
//! to the manifest's folder), SHA-256, spanplug-api version and factories.
//! `spanplug install-plugins --write-manifest` writes one for what it installed; a
//! source that is a manifest, or a folder holding one, installs every library it lists,
//! each checked against its SHA-256 (see [`crate::install`]).

use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::install::Installed;
use crate::staged;

/// The manifest's file name in a bundle's folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The layout this version writes and reads.
pub const FORMAT: u32 = 1;
/// Manifests larger than this are not read.
const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// A bundle's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The layout ([`FORMAT`]); another value is refused.
    pub format: u32,
    /// The spanplug version that wrote it.
    pub spanplug: String,
    /// Each library in the bundle.
    pub libraries: Vec<Library>,
}

/// One library of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Library {
    /// Its path relative to the manifest's folder (no `..`, not absolute).
    pub file: String,
    /// The module name configs use (`exporter_import_path`, `exporter_sha256`).
    pub module: String,
    /// Its SHA-256, as `sha256sum` prints it.
    pub sha256: String,
    /// The spanplug-api version it was built against.
    pub spanplug_api: String,
    /// The factories it exports.
    pub factories: Vec<String>,
}

impl Manifest {
    /// Reads and checks the manifest at `path`: its format, and that every file stays
    /// inside the manifest's folder.
    pub fn read(path: &Path) -> Result<Self, String> {
        let bytes = spanplug_api::files::read_regular_file(path, MAX_MANIFEST_BYTES)
            .map_err(|e| e.to_string())?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if manifest.format != FORMAT {
            return Err(format!(
                "manifest format {} (spanplug {}); this spanplug ({}) reads format {FORMAT}",
                manifest.format,
                manifest.spanplug,
                env!("CARGO_PKG_VERSION")
            ));
        }
        for library in &manifest.libraries {
            let relative = Path::new(&library.file);
            if !relative
                .components()
                .all(|c| matches!(c, Component::Normal(_)))
            {
                return Err(format!(
                    "{}: a library's file must be a path inside the manifest's folder",
                    library.file
                ));
            }
        }
        Ok(manifest)
    }

    /// Each library's path (beside the manifest at `path`) and its SHA-256.
    pub fn sources(&self, path: &Path) -> Vec<(PathBuf, String)> {
        let dir = path.parent().unwrap_or(Path::new("."));
        self.libraries
            .iter()
            .map(|l| (dir.join(&l.file), l.sha256.clone()))
            .collect()
    }

    /// The manifest of `installed`, with files relative to `dir`.
    pub fn of(installed: &[Installed], dir: &Path) -> Result<Self, String> {
        let libraries = installed
            .iter()
            .map(|i| {
                let path = std::path::absolute(&i.path).map_err(|e| e.to_string())?;
                let file = path.strip_prefix(dir).map_err(|_| {
                    format!(
                        "{} is not inside {}, the manifest's folder",
                        i.path.display(),
                        dir.display()
                    )
                })?;
                Ok(Library {
                    file: file.to_string_lossy().into_owned(),
                    module: module_name(&i.path),
                    sha256: i.sha256.clone(),
                    spanplug_api: i.api_version.clone(),
                    factories: i.functions.clone(),
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Manifest {
            format: FORMAT,
            spanplug: env!("CARGO_PKG_VERSION").to_string(),
            libraries,
        })
    }

    /// Writes it to `path`, replacing what was there only once it is complete.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let (staged, mut file) = staged::Staged::create(path, 0o644)?;
        let mut json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        json.push(b'\n');
        file.write_all(&json)?;
        file.sync_all()?;
        staged.rename_into_place()
    }
}

/// The SHA-256 of `bytes` as `sha256sum` prints it.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The module name the loader resolves to `path` (`libotlp_http.so` → `otlp_http`).
pub fn module_name(path: &Path) -> String {
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.strip_suffix(std::env::consts::DLL_SUFFIX).unwrap_or(n))
        .unwrap_or_default();
    stem.strip_prefix(std::env::consts::DLL_PREFIX)
        .unwrap_or(stem)
        .to_string()
}

/// The `exporter_sha256` section pinning every library of `installed`, ready to paste
/// under `tracing_config` (with `require_sha256: true`).
pub fn pins_yaml(installed: &[Installed]) -> String {
    let mut yaml = String::from("  require_sha256: true\n  exporter_sha256:\n");
    for library in installed {
        let module = module_name(&library.path);
        yaml.push_str(&format!("    {module}: {}\n", library.sha256));
    }
    yaml
}
