//! The `tracing_config` section of a service's YAML, with environment overrides.
//!
//! ```yaml
//! tracing_config:
//!   enabled: true
//!   sampling_ratio: 1.0
//!   exporter_import_path: console_file:default_tracing_exporter   # or a list
//!   exporter_config: {log_dir: /var/log/myservice}
//!   plugin_path: [/opt/spanplug/plugins]
//!   exporter_sha256: {otlp_http: 3f2a...}   # optional pins, checked before loading
//! ```
//!
//! Precedence, highest first: `SPANPLUG_TRACING_*` variables, the OpenTelemetry
//! `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG`, the YAML, the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use opentelemetry_sdk::Resource;
use serde::Deserialize;

use crate::error::ConfigError;

/// The exporter used when tracing is enabled and no import path is given.
pub const DEFAULT_IMPORT_PATH: &str = "console_file:default_tracing_exporter";
/// Ratios below this make a smoke test look broken; `spanplug check` warns about them.
pub const LOW_SAMPLING_RATIO: f64 = 0.1;
/// Config files larger than this are refused rather than parsed.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

pub const ENABLED_VAR: &str = "SPANPLUG_TRACING_ENABLED";
pub const SAMPLING_RATIO_VAR: &str = "SPANPLUG_TRACING_SAMPLING_RATIO";
pub const IMPORT_PATH_VAR: &str = "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH";
pub const LOG_DIR_VAR: &str = "SPANPLUG_LOG_DIR";

/// What the application asks for; see the module docs for the YAML form.
#[derive(Clone, Debug, PartialEq)]
pub struct TracingConfig {
    pub enabled: bool,
    /// Root sampling ratio in `0..=1`; `None` leaves it to `OTEL_TRACES_SAMPLER` or 1.0.
    pub sampling_ratio: Option<f64>,
    /// Each entry's processors are installed in order. Empty means the default exporter.
    pub exporter_import_path: Vec<String>,
    /// Passed to every factory as its config map.
    pub exporter_config: BTreeMap<String, String>,
    pub plugin_path: Vec<PathBuf>,
    /// SHA-256 pins (hex), keyed by module name or library path, checked before loading.
    pub exporter_sha256: BTreeMap<String, String>,
    /// Set by the application; `None` lets `OTEL_SERVICE_NAME` and
    /// `OTEL_RESOURCE_ATTRIBUTES` decide, as the OpenTelemetry spec says.
    pub service_name: Option<String>,
    /// How long the guard's shutdown waits for every processor to flush.
    pub shutdown_timeout: Duration,
    /// How long a plugin's factory may take before `init` gives up on it.
    pub factory_timeout: Duration,
}

impl Default for TracingConfig {
    fn default() -> Self {
        TracingConfig {
            enabled: true,
            sampling_ratio: None,
            exporter_import_path: Vec::new(),
            exporter_config: BTreeMap::new(),
            plugin_path: Vec::new(),
            exporter_sha256: BTreeMap::new(),
            service_name: None,
            shutdown_timeout: Duration::from_secs(5),
            factory_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Deserialize)]
struct Document {
    tracing_config: Option<RawTracingConfig>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracingConfig {
    enabled: Option<bool>,
    sampling_ratio: Option<f64>,
    exporter_import_path: Option<OneOrMany<String>>,
    exporter_config: Option<BTreeMap<String, Scalar>>,
    plugin_path: Option<OneOrMany<PathBuf>>,
    exporter_sha256: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// `exporter_config` values may be written as YAML strings, numbers or booleans.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::String(s) => s,
        }
    }
}

impl TracingConfig {
    /// Reads the `tracing_config` section of a service YAML file; other top-level
    /// keys belong to the service and are ignored. Relative `plugin_path` entries are
    /// taken relative to the file's folder. No section means tracing is disabled.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let read_error = |source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(read_error)?.len();
        if size > MAX_CONFIG_BYTES {
            return Err(ConfigError::Yaml {
                origin: Some(path.to_path_buf()),
                message: format!(
                    "the file is {size} bytes; config files are limited to {MAX_CONFIG_BYTES}"
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(read_error)?;
        let mut config = Self::parse(&text, Some(path))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for dir in &mut config.plugin_path {
            if dir.is_relative() {
                *dir = base.join(&*dir);
            }
        }
        Ok(config)
    }

    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, None)
    }

    fn parse(text: &str, origin: Option<&Path>) -> Result<Self, ConfigError> {
        let document: Document = serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Yaml {
            origin: origin.map(Path::to_path_buf),
            message: e.to_string(),
        })?;
        let Some(raw) = document.tracing_config else {
            return Ok(TracingConfig {
                enabled: false,
                ..TracingConfig::default()
            });
        };
        let config = TracingConfig {
            enabled: raw.enabled.unwrap_or(true),
            sampling_ratio: raw.sampling_ratio,
            exporter_import_path: raw
                .exporter_import_path
                .map(OneOrMany::into_vec)
                .unwrap_or_default(),
            exporter_config: raw
                .exporter_config
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, v.into_string()))
                .collect(),
            plugin_path: raw.plugin_path.map(OneOrMany::into_vec).unwrap_or_default(),
            exporter_sha256: raw.exporter_sha256.unwrap_or_default(),
            ..TracingConfig::default()
        };
        if let Some(ratio) = config.sampling_ratio {
            check_ratio("tracing_config.sampling_ratio", ratio)?;
        }
        Ok(config)
    }

    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    pub fn with_exporter_import_path(mut self, import_path: impl Into<String>) -> Self {
        self.exporter_import_path.push(import_path.into());
        self
    }

    pub fn with_exporter_config(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.exporter_config.insert(key.into(), value.into());
        self
    }

    pub fn with_plugin_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.plugin_path.push(dir.into());
        self
    }

    pub fn with_sampling_ratio(mut self, ratio: f64) -> Self {
        self.sampling_ratio = Some(ratio);
        self
    }

    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Applies the `SPANPLUG_*` environment variables.
    pub fn with_env_overrides(mut self) -> Result<Self, ConfigError> {
        if let Some(value) = env_var(ENABLED_VAR) {
            self.enabled = match value.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" => false,
                _ => {
                    return Err(ConfigError::InvalidValue {
                        key: ENABLED_VAR.into(),
                        message: format!("expected true or false (or 1/0), got {value:?}"),
                    })
                }
            };
        }
        if let Some(value) = env_var(SAMPLING_RATIO_VAR) {
            let ratio = value
                .trim()
                .parse::<f64>()
                .map_err(|_| ConfigError::InvalidValue {
                    key: SAMPLING_RATIO_VAR.into(),
                    message: format!("expected a number between 0 and 1, got {value:?}"),
                })?;
            check_ratio(SAMPLING_RATIO_VAR, ratio)?;
            self.sampling_ratio = Some(ratio);
        }
        if let Some(value) = env_var(IMPORT_PATH_VAR) {
            self.exporter_import_path = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(dir) = env_var(LOG_DIR_VAR) {
            self.exporter_config.insert("log_dir".into(), dir);
        }
        Ok(self)
    }

    /// The import paths to install: the configured ones, or the default exporter.
    pub fn import_paths(&self) -> Vec<String> {
        if self.exporter_import_path.is_empty() {
            vec![DEFAULT_IMPORT_PATH.to_string()]
        } else {
            self.exporter_import_path.clone()
        }
    }

    /// The resource: the SDK's detectors (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
    /// `telemetry.sdk.*`), with the service name set in code winning, as in the Rust SDK.
    pub fn resource(&self) -> Resource {
        let mut resource = Resource::builder();
        if let Some(name) = &self.service_name {
            resource = resource.with_service_name(name.clone());
        }
        resource.build()
    }

    /// Parent-based with a trace-id-ratio root, like Ray Serve, unless
    /// `OTEL_TRACES_SAMPLER` names another sampler and no ratio was configured.
    pub fn sampler(&self) -> Sampler {
        if let Some(ratio) = self.sampling_ratio {
            return parent_based_ratio(ratio);
        }
        match env_var("OTEL_TRACES_SAMPLER") {
            Some(name) => {
                sampler_from_otel_env(&name, env_var("OTEL_TRACES_SAMPLER_ARG").as_deref())
            }
            None => parent_based_ratio(1.0),
        }
    }

    /// Human-readable description of the sampler, for `spanplug check`.
    pub fn describe_sampler(&self) -> String {
        match (self.sampling_ratio, env_var("OTEL_TRACES_SAMPLER")) {
            (Some(ratio), _) => format!("parent-based, root ratio {ratio}"),
            (None, Some(name)) => format!(
                "OTEL_TRACES_SAMPLER={name} (arg {})",
                env_var("OTEL_TRACES_SAMPLER_ARG").unwrap_or_else(|| "unset".into())
            ),
            (None, None) => "parent-based, root ratio 1.0 (default)".into(),
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn check_ratio(key: &str, ratio: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(())
    } else {
        Err(ConfigError::InvalidValue {
            key: key.into(),
            message: format!("must be a number between 0 and 1, got {ratio}"),
        })
    }
}

fn parent_based_ratio(ratio: f64) -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
}

/// The OpenTelemetry spec's `OTEL_TRACES_SAMPLER` values; invalid input is logged and
/// the default (`parentbased_always_on`) used, as the spec says.
fn sampler_from_otel_env(name: &str, arg: Option<&str>) -> Sampler {
    let ratio = || match arg.map(|a| a.trim().parse::<f64>()) {
        None => 1.0,
        Some(Ok(r)) if (0.0..=1.0).contains(&r) => r,
        Some(_) => {
            log::warn!(
                "OTEL_TRACES_SAMPLER_ARG={:?} is not a ratio in 0..=1; using 1.0",
                arg.unwrap_or("")
            );
            1.0
        }
    };
    match name.trim() {
        "always_on" => Sampler::AlwaysOn,
        "always_off" => Sampler::AlwaysOff,
        "traceidratio" => Sampler::TraceIdRatioBased(ratio()),
        "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        "parentbased_traceidratio" => parent_based_ratio(ratio()),
        other => {
            log::warn!(
                "OTEL_TRACES_SAMPLER={other:?} is not supported (valid: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio); using parentbased_always_on"
            );
            Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_service_file_section() {
        let config = TracingConfig::from_yaml_str(
            "name: svc\ntracing_config:\n  sampling_ratio: 0.5\n  exporter_import_path: [a:b, c:d]\n  exporter_config: {format: jsonl, flush_interval_ms: 50}\n",
        )
        .unwrap();
        assert!(config.enabled);
        assert_eq!(config.sampling_ratio, Some(0.5));
        assert_eq!(config.exporter_import_path, ["a:b", "c:d"]);
        assert_eq!(config.exporter_config["flush_interval_ms"], "50");
    }

    #[test]
    fn unknown_keys_name_the_valid_ones() {
        let error = TracingConfig::from_yaml_str("tracing_config:\n  sampling: 1\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("unknown field `sampling`"), "{error}");
        assert!(error.contains("sampling_ratio"), "{error}");
        assert!(error.contains("exporter_import_path"), "{error}");
    }

    #[test]
    fn ratios_outside_zero_to_one_are_rejected() {
        for bad in ["1.5", "-0.1", ".nan"] {
            let error = TracingConfig::from_yaml_str(&format!(
                "tracing_config:\n  sampling_ratio: {bad}\n"
            ))
            .unwrap_err()
            .to_string();
            assert!(error.contains("tracing_config.sampling_ratio"), "{error}");
        }
    }

    #[test]
    fn no_section_means_disabled() {
        assert!(
            !TracingConfig::from_yaml_str("applications: []\n")
                .unwrap()
                .enabled
        );
    }
}
