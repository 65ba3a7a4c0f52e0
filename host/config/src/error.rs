//! [`ConfigError`]: an opaque struct with a kind, as in `tokio-rs/tracing`, so what
//! it carries can grow without breaking anyone; its message says what to do next.

use std::path::PathBuf;

use thiserror::Error;

/// A tracing config that cannot be used. Its message names the file or key and
/// says what is expected; [`ConfigError::kind`] says which failure it is.
#[derive(Debug)]
pub struct ConfigError(Box<ConfigRepr>);

/// Which failure a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The config file could not be read (missing, not a regular file, too large,
    /// not UTF-8).
    Read,
    /// The YAML does not parse, or does not have the shape of a `tracing_config`.
    Yaml,
    /// A key or variable holds a value it cannot take.
    InvalidValue,
}

impl ConfigError {
    /// Which failure this is.
    pub fn kind(&self) -> ConfigErrorKind {
        match &*self.0 {
            ConfigRepr::Read { .. } => ConfigErrorKind::Read,
            ConfigRepr::Yaml { .. } | ConfigRepr::File { .. } => ConfigErrorKind::Yaml,
            ConfigRepr::InvalidValue { .. } => ConfigErrorKind::InvalidValue,
        }
    }

    /// The config key or environment variable at fault, for an invalid value.
    pub fn key(&self) -> Option<&str> {
        match &*self.0 {
            ConfigRepr::InvalidValue { key, .. } => Some(key),
            _ => None,
        }
    }

    /// The file the error is about, when there is one.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &*self.0 {
            ConfigRepr::Read { path, .. } => Some(path),
            ConfigRepr::Yaml { origin, .. } => origin.as_deref(),
            ConfigRepr::File { path, .. } => Some(path),
            ConfigRepr::InvalidValue { .. } => None,
        }
    }

    /// Each problem of an OpenTelemetry configuration file, one line each
    /// (`tracer_provider.processors[0] (line 12): ...`); empty for other errors.
    pub fn problems(&self) -> &[String] {
        match &*self.0 {
            ConfigRepr::File { problems, .. } => problems,
            _ => &[],
        }
    }

    pub(crate) fn file(path: PathBuf, problems: Vec<String>) -> Self {
        ConfigError(Box::new(ConfigRepr::File { path, problems }))
    }

    pub(crate) fn read(path: PathBuf, reason: String) -> Self {
        ConfigError(Box::new(ConfigRepr::Read { path, reason }))
    }

    pub(crate) fn yaml(origin: Option<PathBuf>, message: String) -> Self {
        ConfigError(Box::new(ConfigRepr::Yaml { origin, message }))
    }

    pub(crate) fn invalid_value(key: String, message: String) -> Self {
        ConfigError(Box::new(ConfigRepr::InvalidValue { key, message }))
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ConfigError {}

/// A variable that cannot be used is an invalid value of that variable.
impl From<spanplug_loader::env::EnvError> for ConfigError {
    fn from(error: spanplug_loader::env::EnvError) -> Self {
        ConfigError::invalid_value(error.name().into(), error.message().into())
    }
}

/// What a [`ConfigError`] holds; each variant's message is the error's.
#[derive(Debug, Error)]
enum ConfigRepr {
    /// `reason` names the file and says what is wrong with it (the OS error once).
    #[error("cannot read the config file: {reason}")]
    Read { path: PathBuf, reason: String },

    #[error("invalid tracing config{}: {message}", origin.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default())]
    Yaml {
        origin: Option<PathBuf>,
        message: String,
    },

    #[error("invalid OpenTelemetry config file {}:\n  {}", path.display(), problems.join("\n  "))]
    File {
        path: PathBuf,
        problems: Vec<String>,
    },

    #[error("{key}: {message}")]
    InvalidValue { key: String, message: String },
}
