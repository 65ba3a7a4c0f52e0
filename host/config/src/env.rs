//! Environment overrides of a [`TracingConfig`]. Every variable goes through
//! [`spanplug_loader::env`]: a value that is not UTF-8 is an error naming the
//! variable (never taken as unset), and every boolean has one reading. spanplug's
//! switches (`SPANPLUG_TRACING_ENABLED`, `SPANPLUG_REQUIRE_SHA256`,
//! `SPANPLUG_ALLOW_INSECURE_PLUGINS`) take `true`/`false`, `1`/`0`, `yes`/`no` and
//! `on`/`off`, in any case, blanks around ignored, and refuse anything else;
//! `OTEL_SDK_DISABLED` takes only `true` or `false`, as the OpenTelemetry spec says,
//! and any other word is false with a warning.

use spanplug_loader::env::{otel_switch, switch, var};
use spanplug_loader::trust::ALLOW_INSECURE_VAR;
use spanplug_loader::{OnError, ProcessorEntry};

use crate::sampling::parse_ratio;
use crate::tracing_config::DEFAULT_IMPORT_PATH;
use crate::{ConfigError, OtelSampler, Propagator, TracingConfig, CONFIG_FILE_VAR};

/// A switch: tracing on or off, over the config.
const ENABLED_VAR: &str = "SPANPLUG_TRACING_ENABLED";
/// The root sampling ratio, over `sampling_ratio`.
const SAMPLING_RATIO_VAR: &str = "SPANPLUG_TRACING_SAMPLING_RATIO";
/// Comma-separated `module:function` entries, replacing `exporter_import_path`.
const IMPORT_PATH_VAR: &str = "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH";
/// The folder `console_file` writes under (`exporter_config.log_dir`).
const LOG_DIR_VAR: &str = "SPANPLUG_LOG_DIR";
/// `fail` or `warn`, over `on_error`.
const ON_ERROR_VAR: &str = "SPANPLUG_TRACING_ON_ERROR";
/// A switch: on refuses any plugin without a SHA-256 pin.
const REQUIRE_SHA256_VAR: &str = "SPANPLUG_REQUIRE_SHA256";
/// The OpenTelemetry spec's switch: `true` loads nothing.
const SDK_DISABLED_VAR: &str = "OTEL_SDK_DISABLED";
/// `tracecontext`, `baggage` or `none`, comma-separated.
const PROPAGATORS_VAR: &str = "OTEL_PROPAGATORS";
/// `otlp`, `console` or `none`: the exporter when no import path is configured.
const TRACES_EXPORTER_VAR: &str = "OTEL_TRACES_EXPORTER";
/// The OpenTelemetry spec's sampler name, used when no ratio is configured.
pub(crate) const SAMPLER_VAR: &str = "OTEL_TRACES_SAMPLER";
/// The sampler's argument (the ratio of the `traceidratio` samplers).
pub(crate) const SAMPLER_ARG_VAR: &str = "OTEL_TRACES_SAMPLER_ARG";

/// Variables read by others on the host's behalf: the SDK's resource detector
/// (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`) and span limits, and the loader
/// (`SPANPLUG_ALLOW_INSECURE_PLUGINS`). They would take a value that is not UTF-8 (or
/// not a switch) as unset; here it is an error naming the variable.
const READ_BY_OTHERS: [&str; 5] = [
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
];

impl TracingConfig {
    /// Applies the `SPANPLUG_*` and the OpenTelemetry environment variables (see the
    /// crate docs for their precedence). When `OTEL_CONFIG_FILE` names a file, that
    /// file replaces this config whole (logged once; a service name set in code is
    /// kept for a file whose resource has none); a config read from such a file takes
    /// no variable at all, as the OpenTelemetry spec says.
    pub fn with_env_overrides(mut self) -> Result<Self, ConfigError> {
        if self.config_file.is_some() {
            return Ok(self);
        }
        if let Some(path) = var(CONFIG_FILE_VAR)? {
            let file = TracingConfig::from_otel_config_file(&path)?;
            static REPLACED: std::sync::Once = std::sync::Once::new();
            REPLACED.call_once(|| {
                log::info!("{CONFIG_FILE_VAR}={path} is the tracing configuration; it replaces the service's tracing_config and every other OTEL_* variable");
            });
            return Ok(TracingConfig {
                service_name: self.service_name,
                ..file
            });
        }
        for name in READ_BY_OTHERS {
            var(name)?;
        }
        switch(ALLOW_INSECURE_VAR)?;
        if let Some(enabled) = switch(ENABLED_VAR)? {
            self.enabled = enabled;
        }
        // The spec: only a case-insensitive "true" disables; other values warn.
        if otel_switch(SDK_DISABLED_VAR)? {
            self.enabled = false;
        }
        if let Some(value) = var(SAMPLING_RATIO_VAR)? {
            self.sampling_ratio = Some(parse_ratio(SAMPLING_RATIO_VAR, &value)?);
        }
        self.otel_sampler = otel_sampler()?;
        self.apply_exporter_vars()?;
        if let Some(value) = var(PROPAGATORS_VAR)? {
            self.propagators = Some(propagators(&value)?);
        }
        if let Some(value) = var(ON_ERROR_VAR)? {
            self.on_error = OnError::parse(&value)
                .map_err(|message| ConfigError::invalid_value(ON_ERROR_VAR.into(), message))?;
        }
        if let Some(required) = switch(REQUIRE_SHA256_VAR)? {
            self.require_sha256 = required;
        }
        if let Some(dir) = var(LOG_DIR_VAR)? {
            // Absolute against the working folder it was given in: plugins resolve a
            // relative `log_dir` against the YAML's folder, which this one never meant.
            let dir = std::path::absolute(&dir).map_or(dir, |d| d.to_string_lossy().into_owned());
            self.exporter_config.insert("log_dir".into(), dir);
        }
        Ok(self)
    }

    /// `SPANPLUG_TRACING_EXPORTER_IMPORT_PATH`, then `OTEL_TRACES_EXPORTER` when no
    /// import path is configured.
    fn apply_exporter_vars(&mut self) -> Result<(), ConfigError> {
        if let Some(value) = var(IMPORT_PATH_VAR)? {
            self.exporter_import_path = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(ProcessorEntry::new)
                .collect();
        }
        if let Some(value) = var(TRACES_EXPORTER_VAR)? {
            let entries = traces_exporter_entries(&value)?;
            if self.exporter_import_path.is_empty() {
                self.default_exporter = !entries.is_empty();
                self.exporter_import_path = entries;
            }
        }
        Ok(())
    }
}

/// `OTEL_TRACES_SAMPLER` with its `OTEL_TRACES_SAMPLER_ARG`.
fn otel_sampler() -> Result<Option<OtelSampler>, ConfigError> {
    let sampler_arg = var(SAMPLER_ARG_VAR)?;
    match var(SAMPLER_VAR)? {
        Some(name) => OtelSampler::from_env(&name, sampler_arg.as_deref()).map(Some),
        // An argument alone selects nothing, but a bad one is still a mistake.
        None => {
            if let Some(arg) = sampler_arg {
                OtelSampler::from_env("traceidratio", Some(&arg))?;
            }
            Ok(None)
        }
    }
}

/// `OTEL_TRACES_EXPORTER`'s names as import paths (`none` alone: no exporter).
fn traces_exporter_entries(value: &str) -> Result<Vec<ProcessorEntry>, ConfigError> {
    let mut entries = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "otlp" => entries.push(ProcessorEntry::new("otlp_http:otlp")),
            "console" => entries.push(ProcessorEntry::new(DEFAULT_IMPORT_PATH)),
            "none" => {}
            other => {
                return Err(ConfigError::invalid_value(TRACES_EXPORTER_VAR.into(), format!(
                        "{other:?} is not supported; valid: otlp, console, none (or name plugins in {IMPORT_PATH_VAR})"
                    )))
            }
        }
    }
    Ok(entries)
}

/// `OTEL_PROPAGATORS`: `tracecontext`, `baggage`, or `none` alone.
fn propagators(value: &str) -> Result<Vec<Propagator>, ConfigError> {
    let mut chosen = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let propagator = match name {
            "tracecontext" => Propagator::TraceContext,
            "baggage" => Propagator::Baggage,
            "none" => continue,
            other => {
                return Err(ConfigError::invalid_value(
                    PROPAGATORS_VAR.into(),
                    format!("{other:?} is not supported; valid: tracecontext, baggage, none"),
                ))
            }
        };
        if !chosen.contains(&propagator) {
            chosen.push(propagator);
        }
    }
    Ok(chosen)
}
