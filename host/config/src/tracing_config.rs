//! [`TracingConfig`]: what the application asks for, and its builder methods.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use spanplug_loader::{ConfigMap, OnError, Pins, ProcessorEntry};

use crate::{OtelSampler, ResourceSpec, SamplerSpec, SpanLimitsSpec};

/// The exporter used when tracing is enabled and no import path is given.
pub(crate) const DEFAULT_IMPORT_PATH: &str = "console_file:default_tracing_exporter";

/// A context propagator `OTEL_PROPAGATORS` can name. Exhaustive, so that
/// `spanplug-sdk` cannot miss one: a new propagator is a new minor version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Propagator {
    /// W3C Trace Context (`traceparent`, `tracestate`).
    TraceContext,
    /// W3C Baggage.
    Baggage,
}

/// What the application asks for; see the crate docs for the YAML form. Built with
/// `TracingConfig::default()` and the `with_*` methods (or read from YAML); new
/// settings may be added, so it cannot be built with a struct literal.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TracingConfig {
    /// `enabled`: `false` installs nothing (default `true` when a `tracing_config` section exists).
    pub enabled: bool,
    /// Root sampling ratio in `0..=1`; `None` leaves it to `OTEL_TRACES_SAMPLER` or 1.0.
    pub sampling_ratio: Option<f64>,
    /// Each entry's processors are installed in order. Empty means the default exporter.
    pub exporter_import_path: Vec<ProcessorEntry>,
    /// Passed to every factory, under each entry's own `config`.
    pub exporter_config: ConfigMap,
    /// Folders searched for plugin libraries after `SPANPLUG_PLUGIN_PATH`, before the
    /// executable's own.
    pub plugin_path: Vec<PathBuf>,
    /// SHA-256 pins (hex), keyed by module name or library path, checked before loading.
    pub exporter_sha256: BTreeMap<String, String>,
    /// Refuse any plugin without a pin in `exporter_sha256`.
    pub require_sha256: bool,
    /// Set by the application; `None` lets `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES` decide, as the OpenTelemetry spec says.
    pub service_name: Option<String>,
    /// How long the guard's shutdown waits for every processor to flush.
    pub shutdown_timeout: Duration,
    /// How long a plugin's factory may take before `init` gives up on it.
    pub factory_timeout: Duration,
    /// What happens to an entry that cannot be loaded.
    pub on_error: OnError,
    /// `OTEL_PROPAGATORS`; `None` installs W3C trace context and baggage unless the
    /// application installed a propagator of its own, which is then kept.
    pub propagators: Option<Vec<Propagator>>,
    /// `OTEL_TRACES_SAMPLER`, used when no `sampling_ratio` is configured.
    pub otel_sampler: Option<OtelSampler>,
    /// False after `OTEL_TRACES_EXPORTER=none`: no entries means no processors rather
    /// than the default exporter.
    pub default_exporter: bool,
    /// The folder of the YAML file the config was read from (absolute), told to every
    /// factory so that plugins resolve their relative path settings against it;
    /// `None` for a config from text or code.
    pub config_dir: Option<PathBuf>,
    /// The OpenTelemetry configuration file this config was read from: it is the
    /// whole configuration, so [`with_env_overrides`](Self::with_env_overrides)
    /// applies no variable to it.
    pub config_file: Option<PathBuf>,
    /// The file's sampler tree, over `sampling_ratio` and `OTEL_TRACES_SAMPLER`.
    pub sampler: Option<SamplerSpec>,
    /// The file's span limits.
    pub span_limits: SpanLimitsSpec,
    /// The file's resource: in place of the environment's detectors.
    pub resource: Option<ResourceSpec>,
    /// The YAML paths of what the file set for the tracer provider rather than its
    /// processors (`tracer_provider.sampler`, `tracer_provider.limits`,
    /// `attribute_limits`, `propagator`, `resource`): a front end that only adds
    /// processors to a provider it does not build (Python) names them in a warning.
    pub provider_settings: Vec<String>,
    /// `self_metrics`: spanplug's own `otel.sdk.*` metrics; `None` (the default) is off.
    pub self_metrics: Option<crate::SelfMetricsConfig>,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            enabled: true,
            sampling_ratio: None,
            exporter_import_path: Vec::new(),
            exporter_config: ConfigMap::default(),
            plugin_path: Vec::new(),
            exporter_sha256: BTreeMap::new(),
            require_sha256: false,
            service_name: None,
            shutdown_timeout: Duration::from_secs(5),
            factory_timeout: Duration::from_secs(10),
            on_error: OnError::Fail,
            propagators: None,
            otel_sampler: None,
            default_exporter: true,
            config_dir: None,
            config_file: None,
            sampler: None,
            span_limits: SpanLimitsSpec::default(),
            resource: None,
            provider_settings: Vec::new(),
            self_metrics: None,
        }
    }
}

impl TracingConfig {
    /// `service.name` of every span, over `OTEL_SERVICE_NAME`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a `module:function` entry, after those already configured.
    pub fn with_exporter_import_path(mut self, import_path: impl Into<String>) -> Self {
        self.exporter_import_path
            .push(ProcessorEntry::new(import_path));
        self
    }

    /// Adds an entry with its own settings (laid over `exporter_config` for it only).
    pub fn with_exporter(mut self, entry: ProcessorEntry) -> Self {
        self.exporter_import_path.push(entry);
        self
    }

    /// Sets a key of `exporter_config`, which every factory sees.
    pub fn with_exporter_config(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.exporter_config.insert(key.into(), value.into());
        self
    }

    /// Adds a folder to `plugin_path`.
    pub fn with_plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugin_path.push(dir.into());
        self
    }

    /// Turns self metrics on, sent as `metrics` says.
    pub fn with_self_metrics(mut self, metrics: crate::SelfMetricsConfig) -> Self {
        self.self_metrics = Some(metrics);
        self
    }

    /// The root sampling ratio (`0..=1`), over `OTEL_TRACES_SAMPLER`.
    pub fn with_sampling_ratio(mut self, ratio: f64) -> Self {
        self.sampling_ratio = Some(ratio);
        self
    }

    /// How long the guard's shutdown waits for every processor.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The pins every plugin is checked against.
    pub fn pins(&self) -> Pins<'_> {
        Pins {
            sha256: &self.exporter_sha256,
            required: self.require_sha256,
        }
    }

    /// The entries to install: the configured ones, or the default exporter.
    pub fn entries(&self) -> Vec<ProcessorEntry> {
        if self.exporter_import_path.is_empty() && self.default_exporter {
            vec![ProcessorEntry::new(DEFAULT_IMPORT_PATH)]
        } else {
            self.exporter_import_path.clone()
        }
    }
}
