//! Finding plugin libraries and loading them through abi_stable.
//!
//! Each file is loaded on its own from `lib_header_from_path(..)` (the private `version`
//! module runs the layout check):
//! `RootModule::load_from_file` caches one library per root-module type and would
//! hand back the first plugin for every later path. Libraries are never unloaded
//! (unloading Rust cdylibs with thread-local destructors is unsound).

use std::collections::BTreeSet;
use std::env::consts::{DLL_PREFIX, DLL_SUFFIX};
use std::path::{Path, PathBuf};

use abi_stable::library::{lib_header_from_path, LibraryError, RootModule};
use spanplug_api::{FactoryRef, PluginContextRef, PluginModRef, Processor};

use crate::elf;
use crate::error::{LoadError, Repr};
use crate::import_path::ModuleRef;
use crate::trust;
use crate::version::VersionCheck;

/// The environment variable listing plugin folders, colon-separated like `PYTHONPATH`.
pub const PLUGIN_PATH_VAR: &str = "SPANPLUG_PLUGIN_PATH";

/// The ordered folders searched for `lib<module>.so`.
#[derive(Clone, Debug, Default)]
pub struct PluginSearchPath {
    dirs: Vec<PathBuf>,
}

impl PluginSearchPath {
    /// `SPANPLUG_PLUGIN_PATH`, then the config's `plugin_path`, then
    /// `<executable dir>/plugins`, then the executable's own folder (where cargo puts
    /// the plugins it builds beside a binary).
    pub fn new(config_dirs: &[PathBuf]) -> Self {
        let mut dirs: Vec<PathBuf> = std::env::var_os(PLUGIN_PATH_VAR)
            .map(|value| {
                std::env::split_paths(&value)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            })
            .unwrap_or_default();
        dirs.extend(config_dirs.iter().cloned());
        if let Some(exe_dir) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(Path::to_path_buf))
        {
            dirs.push(exe_dir.join("plugins"));
            dirs.push(exe_dir);
        }
        let mut seen = BTreeSet::new();
        dirs.retain(|dir| seen.insert(dir.clone()));
        PluginSearchPath { dirs }
    }

    /// The library file a module reference names.
    pub fn resolve(&self, module: &ModuleRef) -> Result<PathBuf, LoadError> {
        match module {
            ModuleRef::File(path) if path.is_file() => Ok(path.clone()),
            ModuleRef::File(path) => {
                Err(LoadError::from(Repr::FileNotFound { path: path.clone() }))
            }
            ModuleRef::Name(name) => {
                let candidates: Vec<PathBuf> = self
                    .dirs
                    .iter()
                    .flat_map(|dir| {
                        [
                            dir.join(format!("{DLL_PREFIX}{name}{DLL_SUFFIX}")),
                            dir.join(format!("{name}{DLL_SUFFIX}")),
                        ]
                    })
                    .collect();
                match candidates.iter().find(|c| c.is_file()) {
                    Some(found) => Ok(found.clone()),
                    None => Err(LoadError::from(Repr::ModuleNotFound {
                        module: name.clone(),
                        searched: candidates,
                        available: self.available_modules(),
                        archives: self.archives(name),
                    })),
                }
            }
        }
    }

    /// What cargo builds for `name` without `crate-type = ["cdylib"]`, where it was
    /// searched: `lib<name>.rlib`, `lib<name>.a`.
    fn archives(&self, name: &str) -> Vec<PathBuf> {
        let names = [format!("lib{name}.rlib"), format!("lib{name}.a")];
        let found = self
            .dirs
            .iter()
            .flat_map(|dir| names.iter().map(|n| dir.join(n)));
        found.filter(|path| path.is_file()).collect()
    }

    /// Module names of the shared libraries in the search folders.
    pub fn available_modules(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        for dir in &self.dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(stem) = file_name.to_str().and_then(|n| n.strip_suffix(DLL_SUFFIX)) else {
                    continue;
                };
                let module = stem.strip_prefix(DLL_PREFIX).unwrap_or(stem);
                if !module.is_empty() {
                    names.insert(module.to_string());
                }
            }
        }
        names.into_iter().collect()
    }
}

/// A loaded plugin library.
pub struct Plugin {
    path: PathBuf,
    module: PluginModRef,
    api_version: String,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("path", &self.path)
            .field("api_version", &self.api_version)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    /// Loads a plugin after checking who could have written it (see [`crate::trust`])
    /// and that it is a complete shared object.
    pub fn load(path: &Path) -> Result<Plugin, LoadError> {
        Plugin::load_pinned(path, None)
    }

    /// [`Plugin::load`], also checking the file against a pinned SHA-256. Every check
    /// reads the one open descriptor that is then loaded (through `/proc/self/fd`),
    /// so the file cannot be swapped between the checks and `dlopen`.
    pub fn load_pinned(path: &Path, sha256: Option<&str>) -> Result<Plugin, LoadError> {
        use std::os::fd::AsRawFd;
        let mut file = std::fs::File::open(path).map_err(|e| {
            LoadError::from(Repr::InvalidLibrary {
                path: path.to_path_buf(),
                reason: format!("cannot open it: {e}"),
            })
        })?;
        trust::check_trusted(path, &file)?;
        if let Some(expected) = sha256 {
            trust::check_sha256(path, &mut file, expected)?;
        }
        elf::check_shared_object(&mut file).map_err(|reason| {
            LoadError::from(Repr::InvalidLibrary {
                path: path.to_path_buf(),
                reason,
            })
        })?;
        #[cfg(feature = "fault-injection")]
        if let Some(replacement) = std::env::var_os("SPANPLUG_FAULT_SWAP_AFTER_CHECKS") {
            let _ = std::fs::rename(replacement, path);
        }
        let by_descriptor = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let load_from = if by_descriptor.exists() {
            by_descriptor.as_path()
        } else {
            path
        };
        let header = lib_header_from_path(load_from).map_err(|e| describe_load_error(path, e))?;
        // The descriptor stays open for the life of the process, like the library it
        // names: the dynamic loader remembers libraries by name, and a later plugin
        // reusing this descriptor number would be taken for this one.
        let _ = std::os::fd::IntoRawFd::into_raw_fd(file);
        let api_version = header.version_strings().version.to_string();
        let versions = VersionCheck::new(path, &api_version)?;
        versions.check_layout(header)?;
        // SAFETY: `check_layout` just ran abi_stable's layout check of the whole root
        // module (the older side as the interface); this call still checks the version.
        let module = unsafe { header.init_root_module_with_unchecked_layout::<PluginModRef>() }
            .map_err(|e| describe_load_error(path, e))?;
        versions.check_required_host(module.requires_host_api().as_str())?;
        Ok(Plugin {
            path: path.to_path_buf(),
            module,
            api_version,
        })
    }

    /// The library file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The spanplug-api version the plugin was built against.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The root module, for the next-minor probe's report.
    #[cfg(feature = "next-minor-probe")]
    pub(crate) fn root_module(&self) -> PluginModRef {
        self.module
    }

    /// The plugin crate's package name and version.
    pub fn package(&self) -> (&str, &str) {
        (
            self.module.package_name().as_str(),
            self.module.package_version().as_str(),
        )
    }

    /// Every factory the plugin exports, in its order.
    pub fn factories(&self) -> &'static [FactoryRef] {
        self.module.factories().as_slice()
    }

    /// The factory named `function`; the error lists those that exist.
    pub fn factory(&self, function: &str) -> Result<FactoryRef, LoadError> {
        self.factories()
            .iter()
            .copied()
            .find(|f| f.name().as_str() == function)
            .ok_or_else(|| {
                LoadError::from(Repr::UnknownFunction {
                    path: self.path.clone(),
                    function: function.to_string(),
                    available: self
                        .factories()
                        .iter()
                        .map(|f| f.name().to_string())
                        .collect(),
                })
            })
    }

    /// Calls a factory; panics inside it were already caught by the plugin.
    pub fn create(
        &self,
        function: &str,
        ctx: PluginContextRef<'_>,
    ) -> Result<Vec<Processor>, LoadError> {
        let factory = self.factory(function)?;
        let import_path = ctx.import_path().to_string();
        let processors: Vec<Processor> = (factory.create())(ctx)
            .into_result()
            .map_err(|message| {
                LoadError::from(Repr::FactoryFailed {
                    import_path: import_path.clone(),
                    message: message.into(),
                })
            })?
            .into();
        if processors.is_empty() {
            return Err(LoadError::from(Repr::NoProcessors { import_path }));
        }
        Ok(processors)
    }
}

fn describe_load_error(path: &Path, error: LibraryError) -> LoadError {
    let path = path.to_path_buf();
    let host_version = PluginModRef::VERSION_STRINGS.version.to_string();
    match error {
        LibraryError::OpenError { err, .. } => LoadError::from(Repr::InvalidLibrary {
            path,
            reason: err.to_string(),
        }),
        LibraryError::GetSymbolError { .. } => LoadError::from(Repr::NotAPlugin { path }),
        LibraryError::IncompatibleVersionNumber { actual_version, .. } => {
            LoadError::from(Repr::IncompatibleVersion {
                path,
                host_version,
                plugin_version: actual_version.to_string(),
                reason: format!(
                    "another major version; rebuild the plugin against spanplug-api {}",
                    spanplug_api::API_VERSION
                ),
            })
        }
        other => LoadError::from(Repr::InvalidLibrary {
            path,
            reason: summarize_layout_report(&other.to_string()),
        }),
    }
}

/// abi_stable's layout reports run to tens of kilobytes of type dumps; the lines a
/// user can act on start with `Error:`.
fn summarize_layout_report(report: &str) -> String {
    let mut seen = BTreeSet::new();
    let errors: Vec<&str> = report
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("Error:"))
        .filter(|line| seen.insert(*line))
        .take(3)
        .collect();
    if errors.is_empty() {
        report
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect()
    } else {
        errors.join("; ")
    }
}
