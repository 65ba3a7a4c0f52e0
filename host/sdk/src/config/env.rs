//! Environment overrides of a [`TracingConfig`]. Every variable the host reads goes
//! through [`spanplug_loader::env`]: a value that is not UTF-8 is an error naming the
//! variable (never taken as unset), and booleans have one reading.

use spanplug_loader::env::{otel_switch, switch, var};
use spanplug_loader::trust::ALLOW_INSECURE_VAR;

use super::{
    parse_ratio, ExporterEntry, OnError, OtelSampler, Propagator, TracingConfig,
    DEFAULT_IMPORT_PATH, ENABLED_VAR, IMPORT_PATH_VAR, LOG_DIR_VAR, ON_ERROR_VAR, PROPAGATORS_VAR,
    REQUIRE_SHA256_VAR, SAMPLER_ARG_VAR, SAMPLER_VAR, SAMPLING_RATIO_VAR, SDK_DISABLED_VAR,
    TRACES_EXPORTER_VAR,
};
use crate::error::ConfigError;

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
    /// module docs for their precedence).
    pub fn with_env_overrides(mut self) -> Result<Self, ConfigError> {
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
        let sampler_arg = var(SAMPLER_ARG_VAR)?;
        self.otel_sampler = match var(SAMPLER_VAR)? {
            Some(name) => Some(OtelSampler::from_env(&name, sampler_arg.as_deref())?),
            // An argument alone selects nothing, but a bad one is still a mistake.
            None => {
                if let Some(arg) = sampler_arg {
                    OtelSampler::from_env("traceidratio", Some(&arg))?;
                }
                None
            }
        };
        if let Some(value) = var(IMPORT_PATH_VAR)? {
            self.exporter_import_path = value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(ExporterEntry::new)
                .collect();
        }
        if let Some(value) = var(TRACES_EXPORTER_VAR)? {
            let entries = traces_exporter_entries(&value)?;
            if self.exporter_import_path.is_empty() {
                self.default_exporter = !entries.is_empty();
                self.exporter_import_path = entries;
            }
        }
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
            self.exporter_config.insert("log_dir".into(), dir);
        }
        Ok(self)
    }
}

/// `OTEL_TRACES_EXPORTER`'s names as import paths (`none` alone: no exporter).
fn traces_exporter_entries(value: &str) -> Result<Vec<ExporterEntry>, ConfigError> {
    let mut entries = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "otlp" => entries.push(ExporterEntry::new("otlp_http:otlp")),
            "console" => entries.push(ExporterEntry::new(DEFAULT_IMPORT_PATH)),
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
