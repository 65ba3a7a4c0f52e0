//! `tracing_config.self_metrics`: whether and where spanplug sends its own
//! `otel.sdk.*` metrics. Off unless asked for; the `OTEL_METRICS_EXPORTER`,
//! `OTEL_EXPORTER_OTLP_METRICS_*` and `OTEL_METRIC_EXPORT_INTERVAL` variables are read
//! by spanplug-self-metrics when the pipeline starts, and win over these values,
//! except for a configuration file's `meter_provider` ([`SelfMetricsConfig::from_file`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::Value;
use spanplug_loader::ConfigMap;

use crate::yaml::fields::{config_map, yaml_bool, yaml_kind, yaml_string};

/// The keys a `self_metrics` map may have.
const KEYS: &str = "endpoint, headers, interval_ms, timeout_ms";

/// `self_metrics: true`, or a map of these (every key optional). `Debug` hides header
/// values, which often hold API keys, and the endpoint's user info.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SelfMetricsConfig {
    /// The full OTLP/HTTP metrics URL (`.../v1/metrics`).
    pub endpoint: Option<String>,
    /// Headers sent with every export (e.g. `x-honeycomb-team`).
    pub headers: ConfigMap,
    /// How often metrics are collected and sent.
    pub interval: Option<Duration>,
    /// How long one export may take.
    pub timeout: Option<Duration>,
    /// Set for a configuration file's `meter_provider`: the file is the whole
    /// configuration, so no `OTEL_*` variable applies (file-mode precedence).
    pub from_file: bool,
    /// Aggregation temporality; `None` leaves it to the variable, then cumulative.
    pub temporality: Option<MetricsTemporality>,
    /// How histograms are aggregated; `None` is explicit buckets.
    pub histogram_aggregation: Option<HistogramAggregation>,
    /// Request bodies gzip-compressed.
    pub gzip: bool,
    /// PEM file of the certificates that verify the server.
    pub certificate: Option<PathBuf>,
    /// PEM file of the client certificate (mTLS), with `client_key`.
    pub client_certificate: Option<PathBuf>,
    /// PEM file of the client key (mTLS), with `client_certificate`.
    pub client_key: Option<PathBuf>,
}

/// The temporality metrics are exported with (`temporality_preference`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricsTemporality {
    /// Every point covers the whole life of its instrument.
    Cumulative,
    /// Points cover the last interval (up-down counters stay cumulative).
    Delta,
    /// Delta for counters and histograms, cumulative for the rest.
    LowMemory,
}

/// The default aggregation of histograms (`default_histogram_aggregation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistogramAggregation {
    /// Fixed bucket boundaries (the instrument's advice, else the SDK's defaults).
    ExplicitBucket,
    /// Base-2 exponential buckets (160 at most, scale 20 at most: the spec's defaults).
    Base2Exponential,
}

impl std::fmt::Debug for SelfMetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let endpoint = self.endpoint.as_deref().map(hide_user_info);
        f.debug_struct("SelfMetricsConfig")
            .field("endpoint", &endpoint)
            .field("headers", &self.headers)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("from_file", &self.from_file)
            .field("temporality", &self.temporality)
            .field("histogram_aggregation", &self.histogram_aggregation)
            .field("gzip", &self.gzip)
            .field("certificate", &self.certificate)
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &self.client_key)
            .finish()
    }
}

/// `https://user:key@host/...` as `https://<user info>@host/...`.
fn hide_user_info(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    match authority.rfind('@') {
        Some(at) => format!("{scheme}://<user info>{}", &rest[at..]),
        None => url.to_string(),
    }
}

impl SelfMetricsConfig {
    /// Sends to this OTLP/HTTP metrics URL.
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Adds a header sent with every export.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Collects and sends this often.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// The TLS files, relative ones taken against `dir` (a configuration file's folder).
    pub(crate) fn resolve_files(&mut self, dir: &Path) {
        for file in [
            &mut self.certificate,
            &mut self.client_certificate,
            &mut self.client_key,
        ]
        .into_iter()
        .flatten()
        {
            if file.is_relative() {
                *file = dir.join(&*file);
            }
        }
    }
}

/// Reads the key's value: `true`/`false`, nothing, or a map.
pub(crate) fn parse(value: &Value) -> Result<Option<SelfMetricsConfig>, String> {
    let key = "tracing_config.self_metrics";
    let map = match value {
        Value::Null => return Ok(None),
        Value::Bool(_) => {
            return Ok(yaml_bool(key, value)?.then(SelfMetricsConfig::default));
        }
        Value::Mapping(map) => map,
        other => {
            return Err(format!(
                "{key}: expected true, false or a map ({KEYS}), got {}",
                yaml_kind(other)
            ))
        }
    };
    let mut config = SelfMetricsConfig::default();
    for (name, value) in map {
        let name = name.as_str().unwrap_or_default();
        let here = format!("{key}.{name}");
        match name {
            "endpoint" => config.endpoint = Some(yaml_string(&here, value)?),
            "headers" => config.headers = config_map(&here, value)?,
            "interval_ms" => config.interval = Some(millis(&here, value)?),
            "timeout_ms" => config.timeout = Some(millis(&here, value)?),
            _ => return Err(format!("{here}: unknown key; valid keys: {KEYS}")),
        }
    }
    Ok(Some(config))
}

fn millis(key: &str, value: &Value) -> Result<Duration, String> {
    value
        .as_u64()
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
        .ok_or_else(|| {
            format!(
                "{key}: expected a positive number of milliseconds, got {}",
                yaml_kind(value)
            )
        })
}

#[cfg(test)]
mod tests {
    use crate::TracingConfig;

    #[test]
    fn self_metrics_is_off_unless_asked_for_and_reads_true_or_a_map() {
        let off = TracingConfig::from_yaml_str("tracing_config: {enabled: true}").unwrap();
        assert_eq!(off.self_metrics, None);
        let on = TracingConfig::from_yaml_str("tracing_config: {self_metrics: true}").unwrap();
        assert_eq!(on.self_metrics, Some(Default::default()));
        let map = TracingConfig::from_yaml_str(
            "tracing_config:\n  self_metrics:\n    endpoint: http://m:4318/v1/metrics\n    headers: {x-key: sekrit}\n    interval_ms: 250\n",
        )
        .unwrap();
        let metrics = map.self_metrics.unwrap();
        assert_eq!(
            metrics.endpoint.as_deref(),
            Some("http://m:4318/v1/metrics")
        );
        assert_eq!(metrics.headers.get("x-key"), Some("sekrit"));
        assert_eq!(
            metrics.interval,
            Some(std::time::Duration::from_millis(250))
        );
        assert!(!format!("{metrics:?}").contains("sekrit"));
        let with_user = metrics.with_endpoint("https://u:pw@m:4318/v1/metrics");
        let shown = format!("{with_user:?}");
        assert!(
            shown.contains("https://<user info>@m:4318/v1/metrics") && !shown.contains("pw"),
            "{shown}"
        );
    }

    #[test]
    fn an_unknown_self_metrics_key_names_the_valid_ones() {
        let error = TracingConfig::from_yaml_str("tracing_config: {self_metrics: {endpont: x}}")
            .unwrap_err()
            .to_string();
        assert!(error.contains("tracing_config.self_metrics.endpont: unknown key; valid keys: endpoint, headers, interval_ms, timeout_ms"), "{error}");
    }
}
