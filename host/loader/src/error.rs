//! Why a plugin could not be loaded, in words that say what to do next.

use std::path::PathBuf;

use thiserror::Error;

fn bullet_list(items: &[String]) -> String {
    items.iter().map(|item| format!("\n  {item}")).collect()
}

fn paths(items: &[PathBuf]) -> String {
    bullet_list(
        &items
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>(),
    )
}

fn available_modules(modules: &[String]) -> String {
    if modules.is_empty() {
        "no plugin libraries exist in those directories; set SPANPLUG_PLUGIN_PATH or tracing_config.plugin_path to the folder holding them".into()
    } else {
        format!("plugin libraries found there: {}", modules.join(", "))
    }
}

/// The module's rlibs and static libraries found where its `.so` was looked for.
fn archives_found(archives: &[PathBuf]) -> String {
    match archives {
        [] => String::new(),
        [archive, ..] => format!(
            "\n{} exists, which is {}",
            archive.display(),
            crate::elf::NOT_A_CDYLIB
        ),
    }
}

/// Why a plugin could not be resolved, loaded or called. Its message (`Display`) names
/// what was searched or expected and what to do; [`LoadError::kind`] says which
/// failure it is, for code that reacts to some. Opaque, so that what an error
/// carries can grow without breaking anyone.
#[derive(Debug)]
pub struct LoadError(Box<Repr>);

/// Which failure a [`LoadError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The entry is not `module:function` or `/abs/path/lib.so:function`.
    BadImportPath,
    /// No library for the module on the search path.
    ModuleNotFound,
    /// An explicit plugin file does not exist.
    FileNotFound,
    /// The file or its folder could have been written by someone else.
    Untrusted,
    /// The file is not the one its SHA-256 pin names.
    ChecksumMismatch,
    /// Pins are required and this plugin has none.
    Unpinned,
    /// A pin that is not 64 hex digits.
    BadPin,
    /// Not a shared library this process can load.
    InvalidLibrary,
    /// A shared library without a spanplug root module.
    NotAPlugin,
    /// Built against a spanplug-api version this host cannot load.
    IncompatibleVersion,
    /// abi_stable found a type layout that differs from the host's.
    IncompatibleLayout,
    /// The plugin has no factory of that name.
    UnknownFunction,
    /// The factory returned an error (or panicked).
    FactoryFailed,
    /// The factory did not return in time.
    FactoryTimeout,
    /// The factory returned no processors.
    NoProcessors,
}

impl LoadError {
    /// Which failure this is.
    pub fn kind(&self) -> LoadErrorKind {
        match &*self.0 {
            Repr::BadImportPath { .. } => LoadErrorKind::BadImportPath,
            Repr::ModuleNotFound { .. } => LoadErrorKind::ModuleNotFound,
            Repr::FileNotFound { .. } => LoadErrorKind::FileNotFound,
            Repr::Untrusted { .. } => LoadErrorKind::Untrusted,
            Repr::ChecksumMismatch { .. } => LoadErrorKind::ChecksumMismatch,
            Repr::Unpinned { .. } => LoadErrorKind::Unpinned,
            Repr::BadPin { .. } => LoadErrorKind::BadPin,
            Repr::InvalidLibrary { .. } => LoadErrorKind::InvalidLibrary,
            Repr::NotAPlugin { .. } => LoadErrorKind::NotAPlugin,
            Repr::IncompatibleVersion { .. } => LoadErrorKind::IncompatibleVersion,
            Repr::IncompatibleLayout { .. } => LoadErrorKind::IncompatibleLayout,
            Repr::UnknownFunction { .. } => LoadErrorKind::UnknownFunction,
            Repr::FactoryFailed { .. } => LoadErrorKind::FactoryFailed,
            Repr::FactoryTimeout { .. } => LoadErrorKind::FactoryTimeout,
            Repr::NoProcessors { .. } => LoadErrorKind::NoProcessors,
        }
    }

    /// The plugin file the error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &*self.0 {
            Repr::FileNotFound { path }
            | Repr::Untrusted { path, .. }
            | Repr::ChecksumMismatch { path, .. }
            | Repr::Unpinned { path, .. }
            | Repr::InvalidLibrary { path, .. }
            | Repr::NotAPlugin { path }
            | Repr::IncompatibleVersion { path, .. }
            | Repr::IncompatibleLayout { path, .. }
            | Repr::UnknownFunction { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The `exporter_import_path` entry the error is about, when it is known.
    pub fn import_path(&self) -> Option<&str> {
        match &*self.0 {
            Repr::BadImportPath { import_path, .. }
            | Repr::FactoryFailed { import_path, .. }
            | Repr::FactoryTimeout { import_path, .. }
            | Repr::NoProcessors { import_path } => Some(import_path),
            _ => None,
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for LoadError {}

impl From<Repr> for LoadError {
    fn from(repr: Repr) -> Self {
        LoadError(Box::new(repr))
    }
}

/// What a [`LoadError`] holds; each variant's message is the error's.
#[derive(Debug, Error)]
pub(crate) enum Repr {
    /// The entry is not `module:function` or `/abs/path/lib.so:function`.
    #[error("invalid exporter import path {import_path:?}: {reason}")]
    BadImportPath { import_path: String, reason: String },

    /// No library for the module on the search path.
    #[error(
        "plugin module {module:?} not found; searched:{}\n{}{}",
        paths(searched),
        available_modules(available),
        archives_found(archives)
    )]
    ModuleNotFound {
        module: String,
        searched: Vec<PathBuf>,
        available: Vec<String>,
        archives: Vec<PathBuf>,
    },

    /// An explicit plugin file does not exist.
    #[error("plugin file {} does not exist", path.display())]
    FileNotFound { path: PathBuf },

    /// The file or its folder could have been written by someone else.
    #[error("refusing to load {}: {reason}; {advice}, or set SPANPLUG_ALLOW_INSECURE_PLUGINS=1", path.display())]
    Untrusted {
        path: PathBuf,
        reason: String,
        advice: &'static str,
    },

    /// The file is not the one its SHA-256 pin names.
    #[error("{} does not match its pinned SHA-256 (exporter_sha256): expected {expected}, found {actual}", path.display())]
    ChecksumMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// Pins are required and this plugin has none.
    #[error("{} has no SHA-256 pin and require_sha256 is set (SPANPLUG_REQUIRE_SHA256); add `{module}: <sha256sum of the file>` to tracing_config.exporter_sha256", path.display())]
    Unpinned { module: String, path: PathBuf },

    /// A pin that is not 64 hex digits.
    #[error("the pin for {module} is not valid: {reason}")]
    BadPin { module: String, reason: String },

    /// Not a shared library this process can load (truncated, foreign, unreadable).
    #[error("{} is not a loadable shared library: {reason}", path.display())]
    InvalidLibrary { path: PathBuf, reason: String },

    /// A shared library without a spanplug root module.
    #[error("{} is a shared library but not a spanplug plugin (it does not export a spanplug root module; build it with spanplug_api::export_plugin!)", path.display())]
    NotAPlugin { path: PathBuf },

    /// Built against a spanplug-api version this host cannot load.
    #[error("{} was built against spanplug-api {plugin_version}, which this host (spanplug-api {host_version}) cannot load: {reason}", path.display())]
    IncompatibleVersion {
        path: PathBuf,
        host_version: String,
        plugin_version: String,
        reason: String,
    },

    /// abi_stable found a type layout that differs from the host's.
    #[error("{} has an ABI layout incompatible with this host (spanplug-api {host_version}, plugin built against {plugin_version}): {summary}; rebuild the plugin against spanplug-api {host_version} (full report at debug log level)", path.display())]
    IncompatibleLayout {
        path: PathBuf,
        host_version: String,
        plugin_version: String,
        summary: String,
    },

    /// The plugin has no factory of that name.
    #[error("plugin {} has no function {function:?}; it exports: {}", path.display(), available.join(", "))]
    UnknownFunction {
        path: PathBuf,
        function: String,
        available: Vec<String>,
    },

    /// The factory returned an error (or panicked).
    #[error("factory {import_path} failed: {message}")]
    FactoryFailed {
        import_path: String,
        message: String,
    },

    /// The factory did not return in time.
    #[error("factory {import_path} did not return within {timeout:?}; a factory must not block (the call was abandoned)")]
    FactoryTimeout {
        import_path: String,
        timeout: std::time::Duration,
    },

    /// The factory returned no processors.
    #[error("factory {import_path} returned no span processors")]
    NoProcessors { import_path: String },
}
