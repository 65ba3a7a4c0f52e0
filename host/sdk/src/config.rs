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
//!   on_error: fail                   # or warn: skip an entry that cannot be loaded
//! ```
//!
//! Every config value may reference the environment with the OpenTelemetry
//! configuration file's syntax: `${VAR}`, `${env:VAR}`, `${env:VAR:-default}`, and
//! `$$` for a literal `$`. An unset variable without a default is an error.
//!
//! Relative paths in a YAML file (`plugin_path`, and the settings named in
//! [`PATH_SETTINGS`]) are taken relative to the file's folder.
//!
//! Precedence, highest first: `OTEL_SDK_DISABLED=true` (turns tracing off), the
//! `SPANPLUG_TRACING_*` variables, the YAML, the OpenTelemetry variables
//! (`OTEL_TRACES_SAMPLER`/`_ARG` when no ratio is configured, `OTEL_TRACES_EXPORTER`
//! when no import path is, `OTEL_PROPAGATORS`), the defaults. Every variable is
//! validated: a bad value is an error naming it and the valid values, and so is a
//! value that is not UTF-8 ([`spanplug_loader::env`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use opentelemetry_sdk::Resource;
use serde::Deserialize;

use crate::error::ConfigError;
pub use spanplug_loader::entry::{ConfigMap, ExporterEntry, OnError};
use spanplug_loader::factory::check_pin;
use spanplug_loader::import_path::is_identifier;

mod env;

/// The exporter used when tracing is enabled and no import path is given.
pub const DEFAULT_IMPORT_PATH: &str = "console_file:default_tracing_exporter";
/// Ratios below this make a smoke test look broken; `spanplug check` warns about them.
pub const LOW_SAMPLING_RATIO: f64 = 0.1;
/// Config files larger than this are refused rather than parsed.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// Deeper YAML is refused before parsing (the parser's cost grows with depth).
pub const MAX_YAML_DEPTH: usize = 64;
/// An indentation wider than this (in columns) is refused before parsing.
const MAX_YAML_INDENT: usize = 512;

/// `true`/`false` (or 1/0, yes/no, on/off): switches tracing on or off over the config.
pub const ENABLED_VAR: &str = "SPANPLUG_TRACING_ENABLED";
/// The root sampling ratio, over `sampling_ratio`.
pub const SAMPLING_RATIO_VAR: &str = "SPANPLUG_TRACING_SAMPLING_RATIO";
/// Comma-separated `module:function` entries, replacing `exporter_import_path`.
pub const IMPORT_PATH_VAR: &str = "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH";
/// The folder `console_file` writes under (`exporter_config.log_dir`).
pub const LOG_DIR_VAR: &str = "SPANPLUG_LOG_DIR";
/// `fail` or `warn`, over `on_error`.
pub const ON_ERROR_VAR: &str = "SPANPLUG_TRACING_ON_ERROR";
/// `1`/`true` refuses any plugin without a SHA-256 pin.
pub const REQUIRE_SHA256_VAR: &str = "SPANPLUG_REQUIRE_SHA256";
/// The OpenTelemetry spec's switch: `true` loads nothing.
pub const SDK_DISABLED_VAR: &str = "OTEL_SDK_DISABLED";
/// `tracecontext`, `baggage` or `none`, comma-separated.
pub const PROPAGATORS_VAR: &str = "OTEL_PROPAGATORS";
/// `otlp`, `console` or `none`: the exporter when no import path is configured.
pub const TRACES_EXPORTER_VAR: &str = "OTEL_TRACES_EXPORTER";
/// The OpenTelemetry spec's sampler name, used when no ratio is configured.
pub const SAMPLER_VAR: &str = "OTEL_TRACES_SAMPLER";
/// The sampler's argument (the ratio of the `traceidratio` samplers).
pub const SAMPLER_ARG_VAR: &str = "OTEL_TRACES_SAMPLER_ARG";

/// Plugin settings that hold a file or folder: relative values in a YAML file are
/// resolved against the file's folder, as `plugin_path` is.
pub const PATH_SETTINGS: &[&str] = &["log_dir", "certificate", "client_certificate", "client_key"];

/// A context propagator `OTEL_PROPAGATORS` can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C Trace Context (`traceparent`, `tracestate`).
    TraceContext,
    /// W3C Baggage.
    Baggage,
}

/// A sampler `OTEL_TRACES_SAMPLER` can name, with its validated argument.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum OtelSampler {
    /// `always_on`: every span.
    AlwaysOn,
    /// `always_off`: no span.
    AlwaysOff,
    /// `traceidratio`: roots and children alike by trace id, at this ratio.
    TraceIdRatio(f64),
    /// `parentbased_always_on`: the parent's decision; roots always.
    ParentBasedAlwaysOn,
    /// `parentbased_always_off`: the parent's decision; roots never.
    ParentBasedAlwaysOff,
    /// `parentbased_traceidratio`: the parent's decision; roots by trace id at this ratio.
    ParentBasedTraceIdRatio(f64),
}

impl OtelSampler {
    const VALID: &'static str = "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio";

    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` (a ratio in 0..=1, default 1).
    fn from_env(name: &str, arg: Option<&str>) -> Result<Self, ConfigError> {
        let ratio = match arg {
            None => 1.0,
            Some(text) => parse_ratio(SAMPLER_ARG_VAR, text)?,
        };
        Ok(match name.trim() {
            "always_on" => OtelSampler::AlwaysOn,
            "always_off" => OtelSampler::AlwaysOff,
            "traceidratio" => OtelSampler::TraceIdRatio(ratio),
            "parentbased_always_on" => OtelSampler::ParentBasedAlwaysOn,
            "parentbased_always_off" => OtelSampler::ParentBasedAlwaysOff,
            "parentbased_traceidratio" => OtelSampler::ParentBasedTraceIdRatio(ratio),
            other => {
                return Err(ConfigError::invalid_value(
                    SAMPLER_VAR.into(),
                    format!("{other:?} is not supported; valid: {}", Self::VALID),
                ))
            }
        })
    }

    fn sampler(self) -> Sampler {
        match self {
            OtelSampler::AlwaysOn => Sampler::AlwaysOn,
            OtelSampler::AlwaysOff => Sampler::AlwaysOff,
            OtelSampler::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
            OtelSampler::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            OtelSampler::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            OtelSampler::ParentBasedTraceIdRatio(ratio) => parent_based_ratio(ratio),
        }
    }
}

/// What the application asks for; see the module docs for the YAML form. Built with
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
    pub exporter_import_path: Vec<ExporterEntry>,
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
        }
    }
}

#[derive(Deserialize)]
struct Document {
    tracing_config: Option<serde_yaml_ng::Value>,
}

/// The section's keys; values stay YAML so that each error names its key and says
/// what is expected in words, never a Rust type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracingConfig {
    enabled: Option<serde_yaml_ng::Value>,
    sampling_ratio: Option<serde_yaml_ng::Value>,
    exporter_import_path: Option<serde_yaml_ng::Value>,
    exporter_config: Option<serde_yaml_ng::Value>,
    plugin_path: Option<serde_yaml_ng::Value>,
    exporter_sha256: Option<serde_yaml_ng::Value>,
    require_sha256: Option<serde_yaml_ng::Value>,
    on_error: Option<serde_yaml_ng::Value>,
}

fn yaml_bool(key: &str, value: &serde_yaml_ng::Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{key}: expected true or false, got {}", yaml_kind(value)))
}

fn yaml_string(key: &str, value: &serde_yaml_ng::Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{key}: expected a string, got {}", yaml_kind(value)))
}

/// One string or a list of strings.
fn yaml_strings(key: &str, value: &serde_yaml_ng::Value) -> Result<Vec<String>, String> {
    match value {
        serde_yaml_ng::Value::Sequence(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| yaml_string(&format!("{key}[{i}]"), item))
            .collect(),
        serde_yaml_ng::Value::Null => Ok(Vec::new()),
        one => Ok(vec![yaml_string(key, one)?]),
    }
}

/// Refuses YAML nested deeper than [`MAX_YAML_DEPTH`] (flow brackets, or `- ` markers
/// opening sequences on one line) or indented past [`MAX_YAML_INDENT`] columns, anywhere
/// in the file: a scan linear in its size, before the parser (whose cost grows with
/// depth) sees it.
fn check_nesting(text: &str) -> Result<(), String> {
    let too_deep = |line: usize| {
        Err(format!(
            "line {line}: nested deeper than {MAX_YAML_DEPTH} levels; config files are limited to that"
        ))
    };
    let mut flow_depth = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let body = line.trim_start_matches(' ');
        if line.len() - body.len() > MAX_YAML_INDENT {
            return Err(format!(
                "line {number}: indented more than {MAX_YAML_INDENT} columns; config files are limited to that"
            ));
        }
        let mut markers = 0;
        let mut rest = body;
        while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("-\t")) {
            markers += 1;
            rest = after.trim_start_matches([' ', '\t']);
        }
        if markers > MAX_YAML_DEPTH {
            return too_deep(number);
        }
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        let mut chars = body.chars();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, '#') if previous == ' ' || previous == '\t' => break,
                (None, '[' | '{') => {
                    flow_depth += 1;
                    if flow_depth > MAX_YAML_DEPTH {
                        return too_deep(number);
                    }
                }
                (None, ']' | '}') => flow_depth = flow_depth.saturating_sub(1),
                _ => {}
            }
            previous = c;
        }
    }
    Ok(())
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
        if name.starts_with(spanplug_api::HOST_SETTING_PREFIX) {
            return Err(format!(
                "{setting}: names starting with `{}` are reserved for the host",
                spanplug_api::HOST_SETTING_PREFIX
            ));
        }
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
            let mut entry = ExporterEntry::new(import_path);
            entry.config = config;
            Ok(entry)
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
    /// keys belong to the service and are ignored. Relative paths (`plugin_path`,
    /// [`PATH_SETTINGS`]) are taken relative to the file's folder. No section means
    /// tracing is disabled.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let read_error = |reason: String| ConfigError::read(path.to_path_buf(), reason);
        let bytes = spanplug_api::files::read_regular_file(path, MAX_CONFIG_BYTES)
            .map_err(|e| read_error(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| read_error(format!("{} is not UTF-8 text", path.display())))?;
        let mut config = Self::parse(&text, Some(path))?;
        let base = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Absolute, so that a service that changes its working folder still finds them.
        let base = std::path::absolute(&base).unwrap_or(base);
        config.resolve_relative_paths(&base);
        Ok(config)
    }

    /// Reads the `tracing_config` section of a service YAML given as text (relative
    /// paths stay relative to the working folder).
    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, None)
    }

    fn parse(text: &str, origin: Option<&Path>) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::yaml(origin.map(Path::to_path_buf), message);
        check_nesting(text).map_err(invalid)?;
        let document: Document =
            serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let raw = match document.tracing_config {
            None => {
                return Ok(TracingConfig {
                    enabled: false,
                    ..TracingConfig::default()
                })
            }
            Some(section @ serde_yaml_ng::Value::Mapping(_)) => {
                serde_yaml_ng::from_value::<RawTracingConfig>(section)
                    .map_err(|e| invalid(format!("tracing_config: {e}")))?
            }
            Some(other) => {
                return Err(invalid(format!(
                    "tracing_config: expected a map of settings, got {}",
                    yaml_kind(&other)
                )))
            }
        };
        Self::from_raw(raw).map_err(invalid)
    }

    fn from_raw(raw: RawTracingConfig) -> Result<Self, String> {
        let mut config = TracingConfig::default();
        if let Some(value) = &raw.enabled {
            config.enabled = yaml_bool("tracing_config.enabled", value)?;
        }
        match &raw.sampling_ratio {
            None | Some(serde_yaml_ng::Value::Null) => {}
            Some(value) => {
                let key = "tracing_config.sampling_ratio";
                let ratio = value.as_f64().ok_or_else(|| {
                    format!(
                        "{key}: expected a number between 0 and 1, got {}",
                        yaml_kind(value)
                    )
                })?;
                check_ratio(key, ratio).map_err(|e| e.to_string())?;
                config.sampling_ratio = Some(ratio);
            }
        }
        if let Some(value) = &raw.exporter_import_path {
            config.exporter_import_path = exporter_entries(value)?;
        }
        match &raw.exporter_config {
            None | Some(serde_yaml_ng::Value::Null) => {}
            Some(value) => {
                config.exporter_config = config_map("tracing_config.exporter_config", value)?
            }
        }
        if let Some(value) = &raw.plugin_path {
            config.plugin_path = yaml_strings("tracing_config.plugin_path", value)?
                .into_iter()
                .map(PathBuf::from)
                .collect();
        }
        match &raw.exporter_sha256 {
            None | Some(serde_yaml_ng::Value::Null) => {}
            Some(value) => {
                let key = "tracing_config.exporter_sha256";
                config.exporter_sha256 = config_map(key, value)?.into_inner();
                for (module, pin) in &config.exporter_sha256 {
                    check_pin(&format!("{key}.{module}"), pin)?;
                }
            }
        }
        if let Some(value) = &raw.require_sha256 {
            config.require_sha256 = yaml_bool("tracing_config.require_sha256", value)?;
        }
        if let Some(value) = &raw.on_error {
            let key = "tracing_config.on_error";
            config.on_error =
                OnError::parse(&yaml_string(key, value)?).map_err(|e| format!("{key}: {e}"))?;
        }
        Ok(config)
    }

    /// Relative `plugin_path` entries and [`PATH_SETTINGS`] values, against `base`.
    fn resolve_relative_paths(&mut self, base: &Path) {
        let resolve = |path: &Path| {
            if path.is_relative() {
                base.join(path)
            } else {
                path.to_path_buf()
            }
        };
        for dir in &mut self.plugin_path {
            *dir = resolve(dir);
        }
        let maps = std::iter::once(&mut self.exporter_config).chain(
            self.exporter_import_path
                .iter_mut()
                .map(|entry| &mut entry.config),
        );
        for map in maps {
            for key in PATH_SETTINGS {
                if let Some(value) = map.get_mut(*key).filter(|v| !v.is_empty()) {
                    *value = resolve(Path::new(value.as_str()))
                        .to_string_lossy()
                        .into_owned();
                }
            }
        }
    }

    /// `service.name` of every span, over `OTEL_SERVICE_NAME`.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Adds a `module:function` entry, after those already configured.
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
    pub fn pins(&self) -> spanplug_loader::factory::Pins<'_> {
        spanplug_loader::factory::Pins {
            sha256: &self.exporter_sha256,
            required: self.require_sha256,
        }
    }

    /// The entries to install: the configured ones, or the default exporter.
    pub fn entries(&self) -> Vec<ExporterEntry> {
        if self.exporter_import_path.is_empty() && self.default_exporter {
            vec![ExporterEntry::new(DEFAULT_IMPORT_PATH)]
        } else {
            self.exporter_import_path.clone()
        }
    }

    /// The resource: facts about the process (`host.name`, `process.pid`,
    /// `container.id`, `k8s.*`), then the SDK's detectors (`OTEL_SERVICE_NAME`,
    /// `OTEL_RESOURCE_ATTRIBUTES`, `telemetry.sdk.*`), which win over them, and the
    /// service name set in code over all, as in the Rust SDK.
    pub fn resource(&self) -> Resource {
        use opentelemetry_sdk::resource::{
            EnvResourceDetector, ResourceDetector, SdkProvidedResourceDetector,
            TelemetryResourceDetector,
        };
        let detectors: [Box<dyn ResourceDetector>; 3] = [
            Box::new(SdkProvidedResourceDetector),
            Box::new(TelemetryResourceDetector),
            Box::new(EnvResourceDetector::new()),
        ];
        let mut resource = Resource::builder_empty()
            .with_attributes(crate::host_facts::process_facts())
            .with_detectors(&detectors);
        if let Some(name) = &self.service_name {
            resource = resource.with_service_name(name.clone());
        }
        resource.build()
    }

    /// Parent-based with a trace-id-ratio root, like Ray Serve, unless
    /// `OTEL_TRACES_SAMPLER` names another sampler and no ratio was configured.
    pub fn sampler(&self) -> Sampler {
        match (self.sampling_ratio, self.otel_sampler) {
            (Some(ratio), _) => parent_based_ratio(ratio),
            (None, Some(otel)) => otel.sampler(),
            (None, None) => parent_based_ratio(1.0),
        }
    }

    /// Human-readable description of the sampler, for `spanplug check`.
    pub fn describe_sampler(&self) -> String {
        match (self.sampling_ratio, self.otel_sampler) {
            (Some(ratio), _) => format!("parent-based, root ratio {ratio}"),
            (None, Some(otel)) => format!("{SAMPLER_VAR}: {otel:?}"),
            (None, None) => "parent-based, root ratio 1.0 (default)".into(),
        }
    }
}

/// A ratio in `0..=1` from the text of the variable `key`.
fn parse_ratio(key: &str, text: &str) -> Result<f64, ConfigError> {
    let ratio = text.trim().parse::<f64>().map_err(|_| {
        ConfigError::invalid_value(
            key.into(),
            format!("expected a number between 0 and 1, got {text:?}"),
        )
    })?;
    check_ratio(key, ratio)?;
    Ok(ratio)
}

fn check_ratio(key: &str, ratio: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&ratio) {
        Ok(())
    } else {
        Err(ConfigError::invalid_value(
            key.into(),
            format!("must be a number between 0 and 1, got {ratio}"),
        ))
    }
}

fn parent_based_ratio(ratio: f64) -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
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
    fn host_settings_cannot_come_from_a_file() {
        let error = TracingConfig::from_yaml_str(
            "tracing_config:\n  exporter_config: {spanplug.dry_run: true}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("tracing_config.exporter_config.spanplug.dry_run: names starting with `spanplug.` are reserved for the host"),
            "{error}"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_yaml_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("service.yaml");
        std::fs::write(
            &file,
            "tracing_config:\n  plugin_path: plugins\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {certificate: certs/ca.pem, endpoint: x}\n  exporter_config: {log_dir: logs, format: jsonl}\n",
        )
        .unwrap();
        let config = TracingConfig::from_yaml_file(&file).unwrap();
        assert_eq!(config.plugin_path, [dir.path().join("plugins")]);
        assert_eq!(
            config.exporter_config["log_dir"],
            dir.path().join("logs").to_string_lossy()
        );
        assert_eq!(config.exporter_config["format"], "jsonl");
        let entry = &config.exporter_import_path[0].config;
        assert_eq!(
            entry["certificate"],
            dir.path().join("certs/ca.pem").to_string_lossy()
        );
        assert_eq!(entry["endpoint"], "x");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        for text in [
            format!("ignored: {}{}\n", "[".repeat(100_000), "]".repeat(100_000)),
            format!("ignored: {}1{}\n", "{a: ".repeat(65), "}".repeat(65)),
            format!("ignored:\n{}x\n", "- ".repeat(65)),
            format!("ignored:\n{}x: 1\n", " ".repeat(600)),
        ] {
            let error = TracingConfig::from_yaml_str(&text).unwrap_err().to_string();
            assert!(error.contains("config files are limited to"), "{error}");
        }
        // At the limit, and brackets inside quotes and comments, are fine.
        let nested = format!("ok: {}1{}\n", "[".repeat(64), "]".repeat(64));
        let quoted = format!(
            "ok: \"{}\" # {}\ntracing_config: {{}}\n",
            "[".repeat(100),
            "{".repeat(100)
        );
        for text in [nested, quoted] {
            TracingConfig::from_yaml_str(&text).unwrap();
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
