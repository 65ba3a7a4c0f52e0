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

/// Why a plugin could not be resolved, loaded or called. Each variant's message (its
/// `Display`) names what was searched or expected and what to do; the fields are what
/// the message is made of.
#[derive(Debug, Error)]
#[non_exhaustive]
#[allow(missing_docs)] // the fields: see each variant's message
pub enum LoadError {
    /// The entry is not `module:function` or `/abs/path/lib.so:function`.
    #[error("invalid exporter import path {import_path:?}: {reason}")]
    BadImportPath { import_path: String, reason: String },

    /// No library for the module on the search path.
    #[error(
        "plugin module {module:?} not found; searched:{}\n{}",
        paths(searched),
        available_modules(available)
    )]
    ModuleNotFound {
        module: String,
        searched: Vec<PathBuf>,
        available: Vec<String>,
    },

    /// An explicit plugin file does not exist.
    #[error("plugin file {} does not exist", path.display())]
    FileNotFound { path: PathBuf },

    /// The file or its folder could have been written by someone else.
    #[error("refusing to load {}: {reason}; make it writable only by its owner (chmod go-w) and owned by this user or root, or set SPANPLUG_ALLOW_INSECURE_PLUGINS=1", path.display())]
    Untrusted { path: PathBuf, reason: String },

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
