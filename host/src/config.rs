//! The `tracing_config` section of a service's YAML, with environment overrides.
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
//! ```
//!
//! Every config value may reference the environment with the OpenTelemetry
//! configuration file's syntax: `${VAR}`, `${env:VAR}`, `${env:VAR:-default}`, and
//! `$$` for a literal `$`. An unset variable without a default is an error.
//!
//! Precedence, highest first: `SPANPLUG_TRACING_*` variables, the OpenTelemetry
//! `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG`, the YAML, the defaults.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use opentelemetry_sdk::Resource;
use serde::Deserialize;

use crate::error::ConfigError;
use crate::import_path::is_identifier;

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

/// Plugin settings: keys to values. `Debug` shows the keys only, since values may be
/// secrets (headers, API keys).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ConfigMap(BTreeMap<String, String>);

impl Deref for ConfigMap {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for ConfigMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl fmt::Debug for ConfigMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|key| (key, "<hidden>")))
            .finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for ConfigMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        ConfigMap(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

impl ConfigMap {
    /// `self` laid over `shared`: what one entry's plugin receives.
    pub fn over(&self, shared: &ConfigMap) -> ConfigMap {
        let mut merged = shared.clone();
        merged.extend(self.0.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged
    }
}

/// One `exporter_import_path` entry: a `module:function` and its own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExporterEntry {
    pub import_path: String,
    /// Laid over the shared `exporter_config` for this entry's plugin only.
    pub config: ConfigMap,
}

impl ExporterEntry {
    pub fn new(import_path: impl Into<String>) -> Self {
        ExporterEntry {
            import_path: import_path.into(),
            config: ConfigMap::default(),
        }
    }

    pub fn with_config(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.config.insert(key.into(), value.into());
        self
    }
}

/// What the application asks for; see the module docs for the YAML form.
#[derive(Clone, Debug, PartialEq)]
pub struct TracingConfig {
    pub enabled: bool,
    /// Root sampling ratio in `0..=1`; `None` leaves it to `OTEL_TRACES_SAMPLER` or 1.0.
    pub sampling_ratio: Option<f64>,
    /// Each entry's processors are installed in order. Empty means the default exporter.
    pub exporter_import_path: Vec<ExporterEntry>,
    /// Passed to every factory, under each entry's own `config`.
    pub exporter_config: ConfigMap,
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
            exporter_config: ConfigMap::default(),
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
    exporter_import_path: Option<serde_yaml_ng::Value>,
    exporter_config: Option<serde_yaml_ng::Value>,
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

/// The keys an `exporter_import_path` entry map may have.
const ENTRY_KEYS: &str = "import_path, config";

/// A config map's value as text: strings, numbers and booleans are accepted.
fn scalar_text(key: &str, value: &serde_yaml_ng::Value) -> Result<String, String> {
    use serde_yaml_ng::Value;
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(format!(
            "{key}: expected a string, number or boolean, got {}",
            yaml_kind(other)
        )),
    }
}

fn yaml_kind(value: &serde_yaml_ng::Value) -> &'static str {
    use serde_yaml_ng::Value;
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a map",
        Value::Tagged(_) => "a tagged value",
    }
}

/// A `key: value` map of settings, with `${...}` references resolved.
fn config_map(key: &str, value: &serde_yaml_ng::Value) -> Result<ConfigMap, String> {
    let serde_yaml_ng::Value::Mapping(map) = value else {
        return Err(format!(
            "{key}: expected a map of settings, got {}",
            yaml_kind(value)
        ));
    };
    let mut config = ConfigMap::default();
    for (name, value) in map {
        let Some(name) = name.as_str() else {
            return Err(format!("{key}: setting names must be strings"));
        };
        let setting = format!("{key}.{name}");
        let text = scalar_text(&setting, value)?;
        config.insert(name.to_string(), substitute_env(&setting, &text)?);
    }
    Ok(config)
}

/// One `exporter_import_path` entry: `"module:function"` or
/// `{import_path: "module:function", config: {...}}`.
fn exporter_entry(position: usize, value: &serde_yaml_ng::Value) -> Result<ExporterEntry, String> {
    use serde_yaml_ng::Value;
    let here = format!("tracing_config.exporter_import_path[{position}]");
    match value {
        Value::String(path) => Ok(ExporterEntry::new(path.clone())),
        Value::Mapping(map) => {
            let mut import_path = None;
            let mut config = ConfigMap::default();
            for (key, value) in map {
                match key.as_str() {
                    Some("import_path") => match value {
                        Value::String(path) => import_path = Some(path.clone()),
                        other => {
                            return Err(format!(
                                "{here}.import_path: expected a \"module:function\" string, got {}",
                                yaml_kind(other)
                            ))
                        }
                    },
                    Some("config") if value.is_null() => {}
                    Some("config") => config = config_map(&format!("{here}.config"), value)?,
                    _ => {
                        return Err(format!(
                            "{here}: unknown key {}; valid keys: {ENTRY_KEYS}",
                            key.as_str().map_or_else(|| format!("{key:?}"), |k| format!("`{k}`"))
                        ))
                    }
                }
            }
            let import_path = import_path.ok_or_else(|| {
                format!("{here}: an entry map needs `import_path` (\"module:function\"); valid keys: {ENTRY_KEYS}")
            })?;
            Ok(ExporterEntry {
                import_path,
                config,
            })
        }
        other => Err(format!(
            "{here}: expected a \"module:function\" string or a map with `import_path` and `config`, got {}",
            yaml_kind(other)
        )),
    }
}

fn exporter_entries(value: &serde_yaml_ng::Value) -> Result<Vec<ExporterEntry>, String> {
    match value {
        serde_yaml_ng::Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| exporter_entry(i, item))
            .collect(),
        serde_yaml_ng::Value::Null => Ok(Vec::new()),
        one => exporter_entry(0, one).map(|entry| vec![entry]),
    }
}

/// The longest value a `${...}` substitution may produce, so that a reference cannot
/// blow a config up.
const MAX_SUBSTITUTED_BYTES: usize = 64 * 1024;

/// Resolves `${VAR}`, `${env:VAR}` and `${env:VAR:-default}` in `text`; `$$` is a `$`.
/// Substituted text is not scanned again.
pub fn substitute_env(key: &str, text: &str) -> Result<String, String> {
    if !text.contains('$') {
        return Ok(text.to_string());
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| {
                format!("{key}: unterminated `${{` in the value; write `$$` for a literal `$`")
            })?;
            let reference = &body[..end];
            let (name, default) = match reference.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (reference, None),
            };
            let name = name.strip_prefix("env:").unwrap_or(name);
            // The reference is not echoed: its default may be a secret.
            if !is_identifier(name) || default.is_some_and(|d| d.contains("${")) {
                return Err(format!(
                    "{key}: a `${{...}}` reference is not valid; expected ${{VAR}}, ${{env:VAR}} or ${{env:VAR:-default}} (no references inside a default)"
                ));
            }
            match (std::env::var(name), default) {
                (Ok(value), _) if !value.is_empty() => out.push_str(&value),
                (Err(std::env::VarError::NotUnicode(_)), _) => {
                    return Err(format!("{key}: environment variable {name} is not valid UTF-8"))
                }
                (_, Some(default)) => out.push_str(default),
                (Ok(_), None) => {}
                (Err(_), None) => {
                    return Err(format!(
                        "{key}: environment variable {name} is not set and its reference has no default (write `${{env:{name}:-default}}`)"
                    ))
                }
            }
            if out.len() > MAX_SUBSTITUTED_BYTES {
                return Err(format!(
                    "{key}: the value is longer than {MAX_SUBSTITUTED_BYTES} bytes after substitution"
                ));
            }
            rest = &body[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
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
        let invalid = |message: String| ConfigError::Yaml {
            origin: origin.map(Path::to_path_buf),
            message,
        };
        let config = TracingConfig {
            enabled: raw.enabled.unwrap_or(true),
            sampling_ratio: raw.sampling_ratio,
            exporter_import_path: match &raw.exporter_import_path {
                Some(value) => exporter_entries(value).map_err(invalid)?,
                None => Vec::new(),
            },
            exporter_config: match &raw.exporter_config {
                Some(serde_yaml_ng::Value::Null) | None => ConfigMap::default(),
                Some(value) => {
                    config_map("tracing_config.exporter_config", value).map_err(invalid)?
                }
            },
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
        self.exporter_import_path
            .push(ExporterEntry::new(import_path));
        self
    }

    /// Adds an entry with its own settings (laid over `exporter_config` for it only).
    pub fn with_exporter(mut self, entry: ExporterEntry) -> Self {
        self.exporter_import_path.push(entry);
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
                .map(ExporterEntry::new)
                .collect();
        }
        if let Some(dir) = env_var(LOG_DIR_VAR) {
            self.exporter_config.insert("log_dir".into(), dir);
        }
        Ok(self)
    }

    /// The entries to install: the configured ones, or the default exporter.
    pub fn entries(&self) -> Vec<ExporterEntry> {
        if self.exporter_import_path.is_empty() {
            vec![ExporterEntry::new(DEFAULT_IMPORT_PATH)]
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
        assert_eq!(
            config.exporter_import_path,
            [ExporterEntry::new("a:b"), ExporterEntry::new("c:d")]
        );
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

    #[test]
    fn entries_take_their_own_config() {
        std::env::set_var("SPANPLUG_TEST_CONFIG_KEY", "k-123");
        let config = TracingConfig::from_yaml_str(
            "tracing_config:\n  exporter_import_path:\n    - context_enricher:serve_context\n    - import_path: otlp_http:otlp\n      config: {endpoint: \"http://a:4318\", headers: \"x-api-key=${env:SPANPLUG_TEST_CONFIG_KEY}\", timeout: 5}\n  exporter_config: {log_dir: /tmp/x}\n",
        )
        .unwrap();
        let entries = config.entries();
        assert_eq!(
            entries[0],
            ExporterEntry::new("context_enricher:serve_context")
        );
        assert_eq!(entries[1].import_path, "otlp_http:otlp");
        assert_eq!(entries[1].config["headers"], "x-api-key=k-123");
        assert_eq!(entries[1].config["timeout"], "5");
        let merged = entries[1].config.over(&config.exporter_config);
        assert_eq!(merged["log_dir"], "/tmp/x");
        assert_eq!(merged["endpoint"], "http://a:4318");
        let debug = format!("{config:?}");
        assert!(
            !debug.contains("k-123") && !debug.contains("/tmp/x"),
            "{debug}"
        );
        assert!(debug.contains("headers"), "{debug}");
    }

    #[test]
    fn substitution_follows_the_otel_config_syntax() {
        std::env::set_var("SPANPLUG_TEST_SUB", "v");
        std::env::remove_var("SPANPLUG_TEST_UNSET");
        let sub = |text: &str| substitute_env("k", text);
        assert_eq!(sub("a${SPANPLUG_TEST_SUB}b").unwrap(), "avb");
        assert_eq!(sub("${env:SPANPLUG_TEST_SUB}").unwrap(), "v");
        assert_eq!(sub("${env:SPANPLUG_TEST_UNSET:-dflt}").unwrap(), "dflt");
        assert_eq!(sub("$$5 and $x").unwrap(), "$5 and $x");
        let error = sub("${SPANPLUG_TEST_UNSET}").unwrap_err();
        assert!(
            error.contains("SPANPLUG_TEST_UNSET is not set") && error.starts_with("k:"),
            "{error}"
        );
        assert!(sub("${not valid}").unwrap_err().contains("is not valid"));
        let nested = sub("${env:SPANPLUG_TEST_UNSET:-${SECRET_DEFAULT}}").unwrap_err();
        assert!(
            nested.contains("no references inside a default") && !nested.contains("SECRET_DEFAULT"),
            "{nested}"
        );
        assert!(sub("${OPEN").unwrap_err().contains("unterminated"));
    }

    #[test]
    fn bad_entries_name_their_position_and_the_valid_keys() {
        let error = |yaml: &str| TracingConfig::from_yaml_str(yaml).unwrap_err().to_string();
        let e = error("tracing_config:\n  exporter_import_path: [a:b, {config: {x: 1}}]\n");
        assert!(
            e.contains("exporter_import_path[1]") && e.contains("needs `import_path`"),
            "{e}"
        );
        let e = error("tracing_config:\n  exporter_import_path: [{import_path: a:b, confg: {}}]\n");
        assert!(
            e.contains("unknown key `confg`; valid keys: import_path, config"),
            "{e}"
        );
        let e = error("tracing_config:\n  exporter_import_path: 5\n");
        assert!(e.contains("got a number"), "{e}");
        let e = error("tracing_config:\n  exporter_config: {a: {b: c}}\n");
        assert!(
            e.contains("exporter_config.a: expected a string, number or boolean, got a map"),
            "{e}"
        );
    }
}
