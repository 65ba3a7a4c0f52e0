//! `spanplug install-plugins`: copies plugin libraries into a plugin folder (for
//! example `/opt/spanplug/plugins` in an image), checking each one loads as a
//! spanplug plugin first and replacing files atomically, so a running service that
//! loads from the folder never sees a half-written library.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::error::LoadError;
use crate::loader::Plugin;

/// The symbol every spanplug plugin exports (abi_stable's root-module loader).
const ROOT_MODULE_SYMBOL: &[u8] = b"_1as_0lib_1header_0root_bmodule_bloader";

#[derive(Debug, Error)]
pub enum InstallError {
    // The OS error is in the message, so not also a `source` (printed once).
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("no spanplug plugin libraries in {}", dir.display())]
    NoPlugins { dir: PathBuf },
}

/// One library installed.
#[derive(Debug)]
pub struct Installed {
    pub path: PathBuf,
    pub api_version: String,
    pub functions: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |error| InstallError::Io {
        path: path.to_path_buf(),
        error,
    }
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
        if is_library && path.is_file() {
            let bytes = fs::read(&path).map_err(io(&path))?;
            if bytes
                .windows(ROOT_MODULE_SYMBOL.len())
                .any(|w| w == ROOT_MODULE_SYMBOL)
            {
                found.push(path);
            }
        }
    }
    if found.is_empty() {
        return Err(InstallError::NoPlugins {
            dir: dir.to_path_buf(),
        });
    }
    found.sort();
    Ok(found)
}

/// Installs each library in `sources` (files, or folders of plugins) into `dest`.
pub fn install_plugins(sources: &[PathBuf], dest: &Path) -> Result<Vec<Installed>, InstallError> {
    let mut libraries = Vec::new();
    for source in sources {
        if source.is_dir() {
            libraries.extend(plugins_in(source)?);
        } else {
            libraries.push(source.clone());
        }
    }
    fs::create_dir_all(dest).map_err(io(dest))?;
    let mut installed = Vec::new();
    for library in libraries {
        let plugin = Plugin::load(&library)?;
        let file_name = library
            .file_name()
            .expect("a loaded library has a file name");
        let target = dest.join(file_name);
        let staging = dest.join(format!(
            ".{}.{}.tmp",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        fs::copy(&library, &staging).map_err(io(&staging))?;
        // Not writable by group or others: the host refuses such plugins.
        fs::set_permissions(&staging, fs::Permissions::from_mode(0o755)).map_err(io(&staging))?;
        fs::rename(&staging, &target).map_err(io(&target))?;
        installed.push(Installed {
            path: target,
            api_version: plugin.api_version().to_string(),
            functions: plugin
                .factories()
                .iter()
                .map(|f| f.name().to_string())
                .collect(),
        });
    }
    Ok(installed)
}
