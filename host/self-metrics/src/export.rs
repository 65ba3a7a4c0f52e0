//! Where the metrics go: the OpenTelemetry spec's variables over the
//! `self_metrics` config, and the OTLP/HTTP (protobuf) exporter they describe.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_otlp::{MetricExporter, WithExportConfig, WithHttpConfig};
use spanplug_config::SelfMetricsConfig;

use crate::{SelfMetricsError, SelfMetricsErrorKind};

/// The spec's default `OTEL_METRIC_EXPORT_INTERVAL`.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(60_000);
/// PEM files larger than this are refused.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// What the pipeline runs with, once the environment is read.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) interval: Duration,
    config: SelfMetricsConfig,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A variable in milliseconds; an error names it and its value.
fn millis_var(name: &str) -> Result<Option<Duration>, SelfMetricsError> {
    let Some(text) = var(name) else {
        return Ok(None);
    };
    match text.trim().parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms))),
        _ => Err(SelfMetricsError::new(
            SelfMetricsErrorKind::InvalidSetting,
            format!("{name}: expected a positive number of milliseconds, got {text:?}"),
        )),
    }
}

/// Whether self metrics are on: `OTEL_METRICS_EXPORTER` decides when it says `otlp` or
/// `none`, else whether `config` (the `self_metrics` key) asks for them (another value,
/// such as `prometheus` for the application's own SDK, is warned about and left aside).
pub(crate) fn resolve(
    config: Option<&SelfMetricsConfig>,
) -> Result<Option<Resolved>, SelfMetricsError> {
    let config = match var("OTEL_METRICS_EXPORTER").as_deref().map(str::trim) {
        Some("none") => None,
        Some("otlp") => Some(config.cloned().unwrap_or_default()),
        Some(other) => {
            // The variable may be meant for the application's own metrics SDK: say so,
            // and let the config decide rather than fail tracing.
            log::warn!(
                "OTEL_METRICS_EXPORTER={other:?}: spanplug sends its own metrics with otlp only; self metrics follow tracing_config.self_metrics"
            );
            config.cloned()
        }
        None => config.cloned(),
    };
    let Some(config) = config else {
        return Ok(None);
    };
    let interval = millis_var("OTEL_METRIC_EXPORT_INTERVAL")?
        .or(config.interval)
        .unwrap_or(DEFAULT_INTERVAL);
    Ok(Some(Resolved { interval, config }))
}

impl Resolved {
    /// The OTLP/HTTP protobuf exporter. `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` wins over
    /// `self_metrics.endpoint`, which wins over `OTEL_EXPORTER_OTLP_ENDPOINT` +
    /// `/v1/metrics` (opentelemetry-otlp's own resolution, as are the headers and
    /// timeout variables, which extend or override the config's).
    pub(crate) fn exporter(&self) -> Result<MetricExporter, SelfMetricsError> {
        let build_error = |e: String| SelfMetricsError::new(SelfMetricsErrorKind::Exporter, e);
        let headers: HashMap<String, String> = self
            .config
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut builder = MetricExporter::builder()
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_headers(headers)
            .with_http_client(http_client()?);
        if var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").is_none() {
            if let Some(endpoint) = &self.config.endpoint {
                builder = builder.with_endpoint(endpoint.clone());
            }
        }
        if let Some(timeout) = self.config.timeout {
            builder = builder.with_timeout(timeout);
        }
        builder.build().map_err(|e| build_error(e.to_string()))
    }
}

/// The first of the metrics variable and the general one that is set.
fn tls_var(suffix: &str) -> Option<(String, String)> {
    [
        format!("OTEL_EXPORTER_OTLP_METRICS_{suffix}"),
        format!("OTEL_EXPORTER_OTLP_{suffix}"),
    ]
    .into_iter()
    .find_map(|name| var(&name).map(|value| (name, value)))
}

fn read_pem((name, path): &(String, String)) -> Result<Vec<u8>, SelfMetricsError> {
    spanplug_api::files::read_regular_file(std::path::Path::new(path), MAX_PEM_BYTES).map_err(|e| {
        SelfMetricsError::new(SelfMetricsErrorKind::InvalidSetting, format!("{name}: {e}"))
    })
}

/// A blocking client with rustls (ring) and the TLS files of the spec's variables
/// (`OTEL_EXPORTER_OTLP_[METRICS_]CERTIFICATE`, `..._CLIENT_CERTIFICATE`, `..._CLIENT_KEY`),
/// built on a thread of its own (reqwest refuses to build one inside an async runtime).
fn http_client() -> Result<reqwest::blocking::Client, SelfMetricsError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let invalid = |e: String| SelfMetricsError::new(SelfMetricsErrorKind::InvalidSetting, e);
    let mut builder = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false);
    if let Some(setting) = tls_var("CERTIFICATE") {
        let certificates = reqwest::Certificate::from_pem_bundle(&read_pem(&setting)?)
            .map_err(|e| invalid(format!("{}: not a PEM certificate: {e}", setting.0)))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    match (tls_var("CLIENT_CERTIFICATE"), tls_var("CLIENT_KEY")) {
        (Some(cert), Some(key)) => {
            let mut pem = read_pem(&cert)?;
            pem.extend(read_pem(&key)?);
            let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                invalid(format!(
                    "{} and {} do not form a PEM client identity",
                    cert.0, key.0
                ))
            })?;
            builder = builder.identity(identity);
        }
        (None, None) => {}
        (cert, key) => {
            let named = cert.or(key).map(|(name, _)| name).unwrap_or_default();
            return Err(invalid(format!(
                "{named}: a client certificate and its key must be set together"
            )));
        }
    }
    std::thread::scope(|scope| scope.spawn(|| builder.build()).join())
        .map_err(|_| invalid("building the HTTP client panicked".into()))?
        .map_err(|e| {
            SelfMetricsError::new(
                SelfMetricsErrorKind::Exporter,
                format!("cannot build the HTTP client: {e}"),
            )
        })
}
