//! The `tracing_config` section of a spanplug service's YAML, with environment
//! overrides: read, checked and complete, with no OpenTelemetry dependency, so that
//! whatever only reads a config (the `spanplug` CLI, the Python package) does not
//! link an SDK. `spanplug-sdk` builds a tracer provider from it.
//!
//! ```yaml
//! tracing_config:
//!   enabled: true
//!   sampling_ratio: 1.0
//!   exporter_import_path:            # one entry or a list; each a string or a map
//!     - console_file:default_tracing_exporter
//!     - import_path: otlp_http:otlp
//!       config: {endpoint: "http://collector:4318", headers: "x-api-key=${env:API_KEY}"}
//!   exporter_config: {log_dir: /var/log/myservice}   # shared by every entry
//!   plugin_path: [/opt/spanplug/plugins]
//!   exporter_sha256: {otlp_http: 3f2a...}   # optional pins, checked before loading
//!   on_error: fail                   # or warn: skip an entry that cannot be loaded
//! ```
//!
//! The values of the setting maps (`exporter_config`, each entry's `config`, and
//! `exporter_sha256`) may reference the environment with the OpenTelemetry
//! configuration file's syntax: `${VAR}`, `${env:VAR}`, `${env:VAR:-default}`, and
//! `$$` for a literal `$`. An unset variable without a default is an error. Other
//! keys are taken as written.
//!
//! A relative `plugin_path` in a YAML file is taken relative to the file's folder.
//! Plugins' own path settings are theirs to resolve: every factory is told the
//! file's folder (`PluginContext::config_dir`, since spanplug-api 0.3.1), and the
//! shipped plugins resolve theirs (`log_dir`, `certificate`, `client_certificate`,
//! `client_key`) against it. `SPANPLUG_LOG_DIR` is made absolute against the
//! working folder.
//!
//! Precedence, highest first: `OTEL_SDK_DISABLED=true` (turns tracing off), the
//! `SPANPLUG_TRACING_*` variables, the YAML, the OpenTelemetry variables
//! (`OTEL_TRACES_SAMPLER`/`_ARG` when no ratio is configured, `OTEL_TRACES_EXPORTER`
//! when no import path is, `OTEL_PROPAGATORS`), the defaults. Every variable is
//! validated: a bad value is an error naming it and the valid values, and so is a
//! value that is not UTF-8 ([`spanplug_loader::env`]).
//!
//! `OTEL_CONFIG_FILE` (or `tracing_config: {config_file: otel.yaml}`) names an
//! OpenTelemetry configuration file ([`OtelConfigFile`]), which is then the whole
//! configuration: it replaces the section, and no variable above applies to it (it
//! reads the environment only through its own `${...}` references).
//!
//! ```no_run
//! let config = spanplug_config::TracingConfig::from_yaml_file("service.yaml")?
//!     .with_service_name("api-gateway")
//!     .with_env_overrides()?;
//! for entry in config.entries() {
//!     println!("{}", entry.import_path);
//! }
//! # Ok::<(), spanplug_config::ConfigError>(())
//! ```

#![warn(missing_docs)]

mod env;
mod error;
mod file_spec;
mod nesting;
mod otel_file;
mod plugins;
mod sampling;
mod self_metrics;
mod substitute;
mod tracing_config;
mod yaml;

pub use error::{ConfigError, ConfigErrorKind};
pub use file_spec::{
    AttributeValue, ParentBasedSpec, ResourceDetector, ResourceSpec, SamplerSpec, SpanLimitsSpec,
};
pub use otel_file::{OtelConfigFile, CONFIG_FILE_VAR};
pub use sampling::{OtelSampler, LOW_SAMPLING_RATIO};
pub use self_metrics::{HistogramAggregation, MetricsTemporality, SelfMetricsConfig};
pub use tracing_config::{Propagator, TracingConfig};
