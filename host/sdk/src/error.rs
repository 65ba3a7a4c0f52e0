//! Typed errors whose messages say what to do next.

use std::path::PathBuf;

use thiserror::Error;

pub use spanplug_loader::{LoadError, LoadErrorKind};

/// A tracing config that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// `reason` names the file and says what is wrong with it (the OS error once).
    #[error("cannot read the config file: {reason}")]
    Read { path: PathBuf, reason: String },

    #[error("invalid tracing config{}: {message}", origin.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Yaml {
        origin: Option<PathBuf>,
        message: String,
    },

    #[error("{key}: {message}")]
    InvalidValue { key: String, message: String },
}

/// Why tracing could not be set up.
#[derive(Debug, Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Load(#[from] LoadError),
}
