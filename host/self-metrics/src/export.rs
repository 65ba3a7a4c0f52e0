//! Where the metrics go: the OpenTelemetry spec's variables over the
//! `self_metrics` config (none of them for a configuration file's, which is the whole
//! configuration), and the OTLP/HTTP (protobuf) exporter they describe.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use opentelemetry_otlp::{MetricExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::metrics::Temporality;
use spanplug_config::{MetricsTemporality, SelfMetricsConfig};

use crate::client::{header_map, Client};
use crate::{SelfMetricsError, SelfMetricsErrorKind};

/// The spec's default `OTEL_METRIC_EXPORT_INTERVAL`.
const DEFAULT_INTERVAL: Duration = Duration::from_millis(60_000);
/// The spec's defaults for a file's `otlp_http` metrics exporter.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
const DEFAULT_TIMEOUT: Duration = Duration::from_millis(10_000);
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
    if let Some(config) = config.filter(|c| c.from_file) {
        return Ok(Some(Resolved {
            interval: config.interval.unwrap_or(DEFAULT_INTERVAL),
            config: config.clone(),
        }));
    }
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
    pub(crate) fn histogram_aggregation(&self) -> Option<spanplug_config::HistogramAggregation> {
        self.config.histogram_aggregation
    }

    /// The OTLP/HTTP protobuf exporter. `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` wins over
    /// `self_metrics.endpoint`, which wins over `OTEL_EXPORTER_OTLP_ENDPOINT` +
    /// `/v1/metrics` (opentelemetry-otlp's own resolution, as are the headers, timeout
    /// and temporality variables, which extend or override the config's). From a
    /// configuration file, everything is given so that no variable applies.
    pub(crate) fn exporter(&self) -> Result<MetricExporter, SelfMetricsError> {
        let build_error = |e: String| SelfMetricsError::new(SelfMetricsErrorKind::Exporter, e);
        let config = &self.config;
        let from_file = config.from_file;
        let client = Client {
            inner: http_client(config)?,
            exact_headers: if from_file {
                Some(header_map(config.headers.iter())?)
            } else {
                None
            },
            gzip: config.gzip,
        };
        let mut builder = MetricExporter::builder();
        let cumulative = from_file.then_some(MetricsTemporality::Cumulative);
        if let Some(temporality) = config.temporality.or(cumulative) {
            builder = builder.with_temporality(match temporality {
                MetricsTemporality::Delta => Temporality::Delta,
                MetricsTemporality::LowMemory => Temporality::LowMemory,
                _ => Temporality::Cumulative,
            });
        }
        let mut builder = builder
            .with_http()
            .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
            .with_http_client(client);
        if from_file {
            let endpoint = config.endpoint.as_deref().unwrap_or(DEFAULT_ENDPOINT);
            builder = builder
                .with_endpoint(endpoint)
                .with_timeout(config.timeout.unwrap_or(DEFAULT_TIMEOUT));
        } else {
            let headers: HashMap<String, String> = config
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            builder = builder.with_headers(headers);
            if var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT").is_none() {
                if let Some(endpoint) = &config.endpoint {
                    builder = builder.with_endpoint(endpoint.clone());
                }
            }
            if let Some(timeout) = config.timeout {
                builder = builder.with_timeout(timeout);
            }
        }
        builder.build().map_err(|e| build_error(e.to_string()))
    }
}

/// A TLS file: the first of the metrics variable and the general one that is set,
/// else the config's (only the config's for a configuration file), with its name.
fn tls_file(
    suffix: &str,
    configured: Option<&PathBuf>,
    config: &SelfMetricsConfig,
) -> Option<(String, String)> {
    let from_config = || {
        configured.map(|path| {
            let name = format!("self metrics {}", suffix.to_ascii_lowercase());
            (name, path.to_string_lossy().into_owned())
        })
    };
    if config.from_file {
        return from_config();
    }
    [
        format!("OTEL_EXPORTER_OTLP_METRICS_{suffix}"),
        format!("OTEL_EXPORTER_OTLP_{suffix}"),
    ]
    .into_iter()
    .find_map(|name| var(&name).map(|value| (name, value)))
    .or_else(from_config)
}

fn read_pem((name, path): &(String, String)) -> Result<Vec<u8>, SelfMetricsError> {
    spanplug_api::files::read_regular_file(std::path::Path::new(path), MAX_PEM_BYTES).map_err(|e| {
        SelfMetricsError::new(SelfMetricsErrorKind::InvalidSetting, format!("{name}: {e}"))
    })
}

/// A blocking client with rustls (ring) and the TLS files of the spec's variables
/// (`OTEL_EXPORTER_OTLP_[METRICS_]CERTIFICATE`, `..._CLIENT_CERTIFICATE`, `..._CLIENT_KEY`)
/// or the config, each request bounded by the config's timeout, built on a thread of
/// its own (reqwest refuses to build one inside an async runtime).
fn http_client(config: &SelfMetricsConfig) -> Result<reqwest::blocking::Client, SelfMetricsError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let invalid = |e: String| SelfMetricsError::new(SelfMetricsErrorKind::InvalidSetting, e);
    let mut builder = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .referer(false);
    if let Some(timeout) = config.timeout {
        builder = builder.timeout(timeout);
    }
    if let Some(setting) = tls_file("CERTIFICATE", config.certificate.as_ref(), config) {
        let certificates = reqwest::Certificate::from_pem_bundle(&read_pem(&setting)?)
            .map_err(|e| invalid(format!("{}: not a PEM certificate: {e}", setting.0)))?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    let client_certificate = config.client_certificate.as_ref();
    match (
        tls_file("CLIENT_CERTIFICATE", client_certificate, config),
        tls_file("CLIENT_KEY", config.client_key.as_ref(), config),
    ) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_files_tls_files_are_read_and_named_when_missing() {
        let mut config = SelfMetricsConfig::default().with_endpoint("https://m:4318/v1/metrics");
        config.from_file = true;
        config.certificate = Some(PathBuf::from("/nonexistent/spanplug-ca.pem"));
        let resolved = resolve(Some(&config)).unwrap().unwrap();
        assert_eq!(resolved.interval, DEFAULT_INTERVAL);
        let error = resolved.exporter().unwrap_err();
        assert_eq!(error.kind(), SelfMetricsErrorKind::InvalidSetting);
        let message = error.to_string();
        assert!(
            message.contains("self metrics certificate")
                && message.contains("/nonexistent/spanplug-ca.pem"),
            "{message}"
        );
        config.client_key = Some(PathBuf::from("/k.pem"));
        config.certificate = None;
        let message = resolve(Some(&config))
            .unwrap()
            .unwrap()
            .exporter()
            .unwrap_err()
            .to_string();
        assert!(message.contains("must be set together"), "{message}");
    }
}
