//! `meter_provider`: the first periodic reader with an `otlp_http` exporter becomes
//! spanplug's own `otel.sdk.*` metrics ([`SelfMetricsConfig`], `from_file` set so that
//! no variable applies). The same file legitimately configures the application's own
//! metrics SDK, so what spanplug cannot apply to its metrics is a warning naming its
//! path, never an error.

use std::path::PathBuf;
use std::time::Duration;

use spanplug_api::settings::percent_decode;

use crate::{HistogramAggregation, MetricsTemporality, SelfMetricsConfig, TracingConfig};

use super::components::header_pairs;
use super::map::{entries, int, single, text, Mapper};
use super::node::{Node, Value};
use super::schema::join;

/// Why a field is left to others.
const THE_APPS: &str =
    "it configures the application's own metrics SDK, not spanplug's own metrics";
/// The spec's defaults.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
const DEFAULT_INTERVAL_MS: i64 = 60_000;
const DEFAULT_READER_TIMEOUT_MS: i64 = 30_000;
const DEFAULT_EXPORTER_TIMEOUT_MS: i64 = 10_000;
/// `tls`'s files: the server's CA, the client certificate and its key.
const TLS_FILES: [&str; 3] = ["ca_file", "cert_file", "key_file"];

impl Mapper {
    pub(super) fn meter_provider(&mut self, node: &Node, config: &mut TracingConfig) {
        for (key, child) in entries(node) {
            let at = join("meter_provider", key);
            match (key.as_str(), &child.value) {
                ("readers", Value::List(readers)) => {
                    for (i, reader) in readers.iter().enumerate() {
                        self.reader(&format!("{at}[{i}]"), reader, config);
                    }
                }
                _ => self.warn(&at, child, format!("not applied: {THE_APPS}")),
            }
        }
    }

    fn reader(&mut self, path: &str, node: &Node, config: &mut TracingConfig) {
        let Some((kind, body)) = single(node) else {
            return;
        };
        let at = join(path, kind);
        if kind != "periodic" {
            return self.warn(&at, body, format!(
                "not applied: spanplug pushes its own metrics with a periodic otlp_http reader; {THE_APPS}"
            ));
        }
        if config.self_metrics.is_some() {
            return self.warn(&at, body, format!(
                "not applied: spanplug sends its own metrics through the first periodic otlp_http reader only; {THE_APPS}"
            ));
        }
        let exporter = body.get("exporter").and_then(single);
        let Some(("otlp_http", props)) = exporter else {
            let (name, props) = exporter.unwrap_or(("exporter", body));
            let there = if name == "exporter" {
                join(&at, name)
            } else {
                join(&join(&at, "exporter"), name)
            };
            return self.warn(
                &there,
                props,
                format!(
                    "not applied: spanplug sends its own metrics with otlp_http only; {THE_APPS}"
                ),
            );
        };
        let mut metrics = SelfMetricsConfig {
            from_file: true,
            ..SelfMetricsConfig::default()
        };
        metrics.interval = Some(self.positive_ms(&at, body, "interval", DEFAULT_INTERVAL_MS));
        let reader_timeout = self.positive_ms(&at, body, "timeout", DEFAULT_READER_TIMEOUT_MS);
        for (key, child) in entries(body) {
            if !matches!(key.as_str(), "interval" | "timeout" | "exporter") {
                self.warn(&join(&at, key), child, format!("not applied: {THE_APPS}"));
            }
        }
        let exporter_path = join(&join(&at, "exporter"), "otlp_http");
        self.otlp_http_metrics(&exporter_path, props, &mut metrics);
        // The reader's timeout bounds the whole export, the exporter's each request:
        // one request per export, so the shorter of the two applies.
        metrics.timeout = metrics.timeout.map(|t| t.min(reader_timeout));
        config.self_metrics = Some(metrics);
    }

    fn otlp_http_metrics(&mut self, path: &str, props: &Node, metrics: &mut SelfMetricsConfig) {
        let endpoint = text(props.get("endpoint")).unwrap_or(DEFAULT_ENDPOINT);
        metrics.endpoint = Some(endpoint.to_string());
        metrics.timeout =
            Some(self.positive_ms(path, props, "timeout", DEFAULT_EXPORTER_TIMEOUT_MS));
        let (pairs, problem) = header_pairs(path, props);
        self.warnings.extend(problem);
        for (name, value) in pairs {
            match percent_decode(&value) {
                Some(value) => {
                    metrics.headers.insert(name, value);
                }
                None => self.warn(
                    &join(path, "headers_list"),
                    props,
                    format!("the value of header `{name}` is not valid percent-encoding; header not sent"),
                ),
            }
        }
        let tls = props.get("tls");
        let file = |key: &str| text(tls.and_then(|t| t.get(key))).map(PathBuf::from);
        metrics.certificate = file(TLS_FILES[0]);
        metrics.client_certificate = file(TLS_FILES[1]);
        metrics.client_key = file(TLS_FILES[2]);
        for (key, child) in entries(props) {
            let at = join(path, key);
            let value = text(Some(child));
            match (key.as_str(), value) {
                ("compression", Some("gzip")) => metrics.gzip = true,
                ("encoding", Some("json")) => self.warn(&at, child, "not applied: spanplug sends its own metrics as protobuf"),
                ("compression", Some(other)) if other != "none" => self.warn(&at, child, format!(
                    "not applied: spanplug compresses its own metrics with gzip or none, not `{other}`"
                )),
                ("temporality_preference", Some(name)) => {
                    metrics.temporality = Some(match name {
                        "delta" => MetricsTemporality::Delta,
                        "low_memory" => MetricsTemporality::LowMemory,
                        _ => MetricsTemporality::Cumulative,
                    });
                }
                ("default_histogram_aggregation", Some("base2_exponential_bucket_histogram")) => {
                    metrics.histogram_aggregation = Some(HistogramAggregation::Base2Exponential);
                }
                ("default_histogram_aggregation", Some(_)) => {
                    metrics.histogram_aggregation = Some(HistogramAggregation::ExplicitBucket);
                }
                _ => {}
            }
        }
    }

    /// A reader's or exporter's milliseconds: absent or null is `default`; 0 (no limit,
    /// or for an interval meaningless) is warned about and `default` applies.
    fn positive_ms(&mut self, path: &str, node: &Node, key: &str, default: i64) -> Duration {
        let ms = match int(node.get(key)) {
            Some(0) => {
                self.warn(
                    &join(path, key),
                    node.get(key).unwrap_or(node),
                    format!("0 is not supported for spanplug's own metrics; {default} ms applies"),
                );
                default
            }
            Some(ms) if ms > 0 => ms,
            _ => default,
        };
        Duration::from_millis(ms.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use crate::{HistogramAggregation, MetricsTemporality, OtelConfigFile};

    const TRACES: &str = "file_format: \"1.0\"\ntracer_provider:\n  processors:\n    - simple:\n        exporter:\n          console:\n";

    fn parse(meter_provider: &str) -> OtelConfigFile {
        let env = |name: &str| (name == "KEY").then(|| "s3cret".to_string());
        let text = format!("{TRACES}{meter_provider}");
        OtelConfigFile::parse(&text, &env, PathBuf::from("/etc/otel/otel.yaml")).unwrap()
    }

    #[test]
    fn a_periodic_otlp_http_reader_is_spanplugs_own_metrics_from_the_file() {
        let file = parse("meter_provider:\n  readers:\n    - periodic:\n        interval: 250\n        timeout: 4000\n        exporter:\n          otlp_http:\n            endpoint: https://m:4318/custom/path\n            headers_list: a=1%2C2,x-key=old\n            headers:\n              - name: x-key\n                value: ${KEY}\n            timeout: 5000\n            compression: gzip\n            temporality_preference: delta\n            default_histogram_aggregation: base2_exponential_bucket_histogram\n            tls:\n              ca_file: certs/ca.pem\n              cert_file: /abs/client.pem\n");
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        let metrics = file.config.self_metrics.unwrap();
        assert!(metrics.from_file);
        assert_eq!(
            metrics.endpoint.as_deref(),
            Some("https://m:4318/custom/path")
        );
        assert_eq!(metrics.headers.get("a"), Some("1,2"));
        assert_eq!(metrics.headers.get("x-key"), Some("s3cret"));
        assert_eq!(metrics.interval, Some(Duration::from_millis(250)));
        assert_eq!(metrics.timeout, Some(Duration::from_millis(4000)));
        assert!(metrics.gzip);
        assert_eq!(metrics.temporality, Some(MetricsTemporality::Delta));
        assert_eq!(
            metrics.histogram_aggregation,
            Some(HistogramAggregation::Base2Exponential)
        );
        assert_eq!(
            metrics.certificate.as_deref(),
            Some(Path::new("/etc/otel/certs/ca.pem"))
        );
        assert_eq!(
            metrics.client_certificate.as_deref(),
            Some(Path::new("/abs/client.pem"))
        );
        assert_eq!(metrics.client_key, None);
        assert!(!format!("{metrics:?}").contains("s3cret"));
    }

    #[test]
    fn an_empty_otlp_http_exporter_gets_the_specs_defaults_and_no_meter_provider_is_off() {
        let file = parse("meter_provider:\n  readers:\n    - periodic:\n        exporter:\n          otlp_http:\n");
        let metrics = file.config.self_metrics.unwrap();
        assert_eq!(
            metrics.endpoint.as_deref(),
            Some("http://localhost:4318/v1/metrics")
        );
        assert_eq!(metrics.interval, Some(Duration::from_secs(60)));
        assert_eq!(metrics.timeout, Some(Duration::from_secs(10)));
        assert!(!metrics.gzip && metrics.headers.iter().next().is_none());
        assert_eq!(parse("").config.self_metrics, None);
    }

    #[test]
    fn what_configures_the_applications_metrics_is_warned_about_by_path() {
        let file = parse("meter_provider:\n  readers:\n    - pull:\n        exporter:\n          prometheus/development:\n    - periodic:\n        exporter:\n          otlp_grpc:\n    - periodic:\n        exporter:\n          console:\n    - periodic:\n        interval: 0\n        producers:\n          - opencensus:\n        exporter:\n          otlp_http:\n            endpoint: http://m/v1/metrics\n            encoding: json\n            compression: zstd\n    - periodic:\n        exporter:\n          otlp_http:\n  views:\n    - selector:\n        instrument_name: x\n      stream:\n        name: y\n  exemplar_filter: always_on\n");
        let metrics = file.config.self_metrics.unwrap();
        assert_eq!(metrics.endpoint.as_deref(), Some("http://m/v1/metrics"));
        assert_eq!(metrics.interval, Some(Duration::from_secs(60)));
        assert!(!metrics.gzip);
        let expected = [
            "meter_provider.readers[0].pull (line 9): not applied: spanplug pushes its own metrics with a periodic otlp_http reader; it configures the application's own metrics SDK, not spanplug's own metrics",
            "meter_provider.readers[1].periodic.exporter.otlp_grpc (line 14): not applied: spanplug sends its own metrics with otlp_http only; it configures the application's own metrics SDK",
            "meter_provider.readers[2].periodic.exporter.console (line 17): not applied",
            "meter_provider.readers[3].periodic.interval (line 19): 0 is not supported for spanplug's own metrics; 60000 ms applies",
            "meter_provider.readers[3].periodic.producers (line 20): not applied: it configures the application's own metrics SDK",
            "meter_provider.readers[3].periodic.exporter.otlp_http.encoding (line 25): not applied: spanplug sends its own metrics as protobuf",
            "meter_provider.readers[3].periodic.exporter.otlp_http.compression (line 26): not applied: spanplug compresses its own metrics with gzip or none, not `zstd`",
            "meter_provider.readers[4].periodic (line 27): not applied: spanplug sends its own metrics through the first periodic otlp_http reader only",
            "meter_provider.views (line 30): not applied: it configures the application's own metrics SDK",
            "meter_provider.exemplar_filter (line 35): not applied: it configures",
        ];
        for (warning, expected) in file.warnings.iter().zip(expected) {
            assert!(
                warning.starts_with(expected),
                "{warning}\nexpected: {expected}"
            );
        }
        assert_eq!(file.warnings.len(), expected.len(), "{:#?}", file.warnings);
    }
}
