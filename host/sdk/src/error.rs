//! [`InitError`]: why `init` failed, the config or a plugin. An opaque struct with a
//! kind, as in `tokio-rs/tracing`: what it carries can grow without breaking anyone.

use spanplug_config::ConfigError;
use spanplug_loader::LoadError;
use spanplug_self_metrics::SelfMetricsError;

/// Why tracing could not be set up: the config ([`ConfigError`]) or a plugin
/// ([`LoadError`]), whose message it shows. Transparent, as thiserror's
/// `#[error(transparent)]`: its [`source`](std::error::Error::source) is the inner
/// error's, so that a report of the chain (anyhow's `{:#}`) says each cause once.
#[derive(Debug)]
pub struct InitError(InitRepr);

/// Which part of setting up tracing an [`InitError`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InitErrorKind {
    /// The tracing config: see [`InitError::as_config`].
    Config,
    /// A plugin: see [`InitError::as_load`].
    Load,
    /// The self-metrics pipeline (`self_metrics`, `OTEL_METRICS_EXPORTER`).
    SelfMetrics,
}

#[derive(Debug)]
enum InitRepr {
    Config(ConfigError),
    Load(LoadError),
    SelfMetrics(SelfMetricsError),
}

impl InitError {
    /// Which part failed.
    pub fn kind(&self) -> InitErrorKind {
        match &self.0 {
            InitRepr::Config(_) => InitErrorKind::Config,
            InitRepr::Load(_) => InitErrorKind::Load,
            InitRepr::SelfMetrics(_) => InitErrorKind::SelfMetrics,
        }
    }

    /// The config error, when the config was at fault.
    pub fn as_config(&self) -> Option<&ConfigError> {
        match &self.0 {
            InitRepr::Config(error) => Some(error),
            _ => None,
        }
    }

    /// The plugin error, when a plugin was at fault.
    pub fn as_load(&self) -> Option<&LoadError> {
        match &self.0 {
            InitRepr::Load(error) => Some(error),
            _ => None,
        }
    }
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            InitRepr::Config(error) => error.fmt(f),
            InitRepr::Load(error) => error.fmt(f),
            InitRepr::SelfMetrics(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            InitRepr::Config(error) => error.source(),
            InitRepr::Load(error) => error.source(),
            InitRepr::SelfMetrics(error) => error.source(),
        }
    }
}

impl From<ConfigError> for InitError {
    fn from(error: ConfigError) -> Self {
        InitError(InitRepr::Config(error))
    }
}

impl From<LoadError> for InitError {
    fn from(error: LoadError) -> Self {
        InitError(InitRepr::Load(error))
    }
}

impl From<SelfMetricsError> for InitError {
    fn from(error: SelfMetricsError) -> Self {
        InitError(InitRepr::SelfMetrics(error))
    }
}
