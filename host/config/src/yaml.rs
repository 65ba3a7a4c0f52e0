//! Reading a `tracing_config` section from YAML: the file, the section's keys, and
//! relative paths resolved against the file's folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_yaml_ng::Value;
use spanplug_loader::check_pin;
use spanplug_loader::OnError;

use crate::nesting::check_nesting;
use crate::sampling::check_ratio;
use crate::{ConfigError, TracingConfig};
use fields::{config_map, exporter_entries, yaml_bool, yaml_kind, yaml_string, yaml_strings};

pub(crate) mod fields;
#[cfg(test)]
mod tests;

/// Config files larger than this are refused rather than parsed.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

#[derive(Deserialize)]
struct Document {
    tracing_config: Option<Value>,
}

/// The section's keys; values stay YAML so that each error names its key and says
/// what is expected in words, never a Rust type.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTracingConfig {
    enabled: Option<Value>,
    sampling_ratio: Option<Value>,
    exporter_import_path: Option<Value>,
    exporter_config: Option<Value>,
    plugin_path: Option<Value>,
    exporter_sha256: Option<Value>,
    require_sha256: Option<Value>,
    on_error: Option<Value>,
    /// An OpenTelemetry configuration file that is the whole tracing configuration.
    config_file: Option<Value>,
    self_metrics: Option<Value>,
}

impl TracingConfig {
    /// Reads the `tracing_config` section of a service YAML file; other top-level
    /// keys belong to the service and are ignored. A relative `plugin_path` is taken
    /// relative to the file's folder, and so are plugins' relative path settings: the
    /// folder is [`config_dir`](TracingConfig::config_dir), which every factory is
    /// told. No section means tracing is disabled.
    pub fn from_yaml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let read_error = |reason: String| ConfigError::read(path.to_path_buf(), reason);
        let bytes = spanplug_api::files::read_regular_file(path, MAX_CONFIG_BYTES)
            .map_err(|e| read_error(e.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| read_error(format!("{} is not UTF-8 text", path.display())))?;
        let base = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Absolute, so that a service that changes its working folder still finds them.
        let base = std::path::absolute(&base).unwrap_or(base);
        let mut config = Self::parse(&text, Some(path), &base)?;
        // A configuration file set its own folder as `config_dir` when it was read.
        if config.config_file.is_none() {
            for dir in &mut config.plugin_path {
                if dir.is_relative() {
                    *dir = base.join(&*dir);
                }
            }
            config.config_dir = Some(base);
        }
        Ok(config)
    }

    /// Reads the `tracing_config` section of a service YAML given as text (relative
    /// paths stay relative to the working folder).
    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, None, Path::new("."))
    }

    fn parse(text: &str, origin: Option<&Path>, base: &Path) -> Result<Self, ConfigError> {
        let invalid = |message: String| ConfigError::yaml(origin.map(Path::to_path_buf), message);
        check_nesting(text).map_err(invalid)?;
        let document: Value = serde_yaml_ng::from_str(text).map_err(|e| invalid(e.to_string()))?;
        // An OpenTelemetry configuration file given where a service YAML goes.
        if document.get("file_format").is_some() {
            let path = origin.map_or_else(
                || PathBuf::from("<text>"),
                |p| base.join(p.file_name().unwrap_or_default()),
            );
            return TracingConfig::from_otel_config_text(text, path);
        }
        let document: Document =
            serde_yaml_ng::from_value(document).map_err(|e| invalid(e.to_string()))?;
        let raw = match document.tracing_config {
            None => {
                return Ok(TracingConfig {
                    enabled: false,
                    ..TracingConfig::default()
                })
            }
            Some(section @ Value::Mapping(_)) => {
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
        if let Some(file) = &raw.config_file {
            return Self::config_file(&raw, file, base).map_err(invalid)?;
        }
        Self::from_raw(raw).map_err(invalid)
    }

    /// `tracing_config: {config_file: otel.yaml}`: that file (relative to `base`, the
    /// YAML's folder), alone.
    fn config_file(
        raw: &RawTracingConfig,
        file: &Value,
        base: &Path,
    ) -> Result<Result<Self, ConfigError>, String> {
        let key = "tracing_config.config_file";
        let others = [
            ("enabled", &raw.enabled),
            ("sampling_ratio", &raw.sampling_ratio),
            ("exporter_import_path", &raw.exporter_import_path),
            ("exporter_config", &raw.exporter_config),
            ("plugin_path", &raw.plugin_path),
            ("exporter_sha256", &raw.exporter_sha256),
            ("require_sha256", &raw.require_sha256),
            ("on_error", &raw.on_error),
        ];
        let set: Vec<&str> = others
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| *k)
            .collect();
        if !set.is_empty() {
            return Err(format!(
                "{key}: the file is the whole tracing configuration; remove {} or the config_file",
                set.join(", ")
            ));
        }
        Ok(TracingConfig::from_otel_config_file(
            base.join(yaml_string(key, file)?),
        ))
    }

    fn from_raw(raw: RawTracingConfig) -> Result<Self, String> {
        let mut config = TracingConfig::default();
        if let Some(value) = &raw.enabled {
            config.enabled = yaml_bool("tracing_config.enabled", value)?;
        }
        config.sampling_ratio = sampling_ratio(raw.sampling_ratio.as_ref())?;
        if let Some(value) = &raw.exporter_import_path {
            config.exporter_import_path = exporter_entries(value)?;
        }
        match &raw.exporter_config {
            None | Some(Value::Null) => {}
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
            None | Some(Value::Null) => {}
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
        if let Some(value) = &raw.self_metrics {
            config.self_metrics = crate::self_metrics::parse(value)?;
        }
        Ok(config)
    }
}

/// `sampling_ratio`: a number in `0..=1`, or nothing.
fn sampling_ratio(value: Option<&Value>) -> Result<Option<f64>, String> {
    let key = "tracing_config.sampling_ratio";
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return Ok(None);
    };
    let ratio = value.as_f64().ok_or_else(|| {
        format!(
            "{key}: expected a number between 0 and 1, got {}",
            yaml_kind(value)
        )
    })?;
    check_ratio(key, ratio).map_err(|e| e.to_string())?;
    Ok(Some(ratio))
}
