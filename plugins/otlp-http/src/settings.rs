//! Exporter settings from presets, `exporter_config` and the environment, with the
//! OpenTelemetry spec's names and defaults. The more specific source wins:
//! preset default < `exporter_config` < `OTEL_EXPORTER_OTLP_*` < `OTEL_EXPORTER_OTLP_TRACES_*`
//! < the vendor's own variables (`HONEYCOMB_*`, `DD_*`).

use std::fmt;
use std::time::Duration;

use spanplug_api::PluginContext;

/// A header value or key material: never printed, not even in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: for requests and for scrubbing logs, never for printing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The OTLP/HTTP encoding (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `http/protobuf`, the default.
    Protobuf,
    /// `http/json`.
    Json,
}

impl Protocol {
    /// The `Content-Type` of a request body in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::Protobuf => "application/x-protobuf",
            Protocol::Json => "application/json",
        }
    }
}

/// Request body compression (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// `none`, the default.
    None,
    /// `gzip`.
    Gzip,
}

/// Batching as the spec's `OTEL_BSP_*` variables describe it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSettings {
    /// `OTEL_BSP_SCHEDULE_DELAY` (default 5 s): how long a batch that is not full waits.
    pub schedule_delay: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE` (default 2048); spans past it are dropped and counted.
    pub max_queue_size: usize,
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` (default 512, at most `max_queue_size`): spans
    /// per request.
    pub max_export_batch_size: usize,
    /// The whole export of one batch, retries included.
    pub export_timeout: Duration,
}

/// The exporter's settings, resolved from a preset, `exporter_config` and the environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The full traces URL (`.../v1/traces`).
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_HEADERS`: extra request headers, names in lower case.
    pub headers: Vec<(String, Secret)>,
    /// One HTTP request.
    pub timeout: Duration,
    /// `OTEL_EXPORTER_OTLP_PROTOCOL` (default `http/protobuf`).
    pub protocol: Protocol,
    /// `OTEL_EXPORTER_OTLP_COMPRESSION` (default none).
    pub compression: Compression,
    /// PEM files: a CA to trust, and a client certificate and key for mTLS; each as
    /// (the setting it came from, as given, and the path).
    pub certificate: Option<(String, String)>,
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: set together with `client_key`.
    pub client_certificate: Option<(String, String)>,
    /// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: the client certificate's private key.
    pub client_key: Option<(String, String)>,
    /// Batching (`OTEL_BSP_*`).
    pub batch: BatchSettings,
    /// Resource attributes this preset sets over the host's (e.g. `DD_SERVICE`).
    pub resource_overrides: Vec<(String, String)>,
}

/// Where a setting's value can come from; `None` fields do not apply.
struct Sources<'a> {
    config: Option<&'a str>,
    env: Option<&'a str>,
    traces_env: Option<&'a str>,
}

/// Looks a setting up in `exporter_config` and the environment, most specific first.
struct Lookup<'c, 'p> {
    ctx: &'c PluginContext<'p>,
}

impl Lookup<'_, '_> {
    fn get(&self, sources: Sources<'_>) -> Option<(String, String)> {
        let env = |name: Option<&str>| {
            name.and_then(|n| {
                std::env::var(n)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .map(|v| (n.to_string(), v))
            })
        };
        env(sources.traces_env)
            .or_else(|| env(sources.env))
            .or_else(|| {
                sources.config.and_then(|key| {
                    self.ctx
                        .config_value(key)
                        .map(|v| (format!("exporter_config.{key}"), v.to_string()))
                })
            })
    }

    fn otlp(&self, config: &str, suffix: &str) -> Option<(String, String)> {
        let env = format!("OTEL_EXPORTER_OTLP_{suffix}");
        let traces_env = format!("OTEL_EXPORTER_OTLP_TRACES_{suffix}");
        self.get(Sources {
            config: Some(config),
            env: Some(&env),
            traces_env: Some(&traces_env),
        })
    }

    fn bsp(&self, config: &str, env: &str) -> Option<(String, String)> {
        self.get(Sources {
            config: Some(config),
            env: Some(env),
            traces_env: None,
        })
    }
}

fn millis(found: Option<(String, String)>, default_ms: u64) -> Result<Duration, String> {
    match found {
        None => Ok(Duration::from_millis(default_ms)),
        Some((key, value)) => value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                format!("{key}: expected a positive whole number of milliseconds, got {value:?}")
            }),
    }
}

fn count(found: Option<(String, String)>, default: usize) -> Result<usize, String> {
    match found {
        None => Ok(default),
        Some((key, value)) => value
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{key}: expected a positive whole number, got {value:?}")),
    }
}

/// `key=value,key2=value2` with percent-encoded values (the W3C baggage format the
/// spec uses for `OTEL_EXPORTER_OTLP_HEADERS`). Error messages name the key only.
pub fn parse_headers(source: &str, text: &str) -> Result<Vec<(String, Secret)>, String> {
    spanplug_api::settings::key_value_pairs(source, text)?
        .into_iter()
        .map(|(key, value)| {
            if !key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                return Err(format!("{source}: {key:?} is not a valid header name"));
            }
            let value = percent_decode(value).ok_or_else(|| {
                format!("{source}: the value of header {key:?} is not valid percent-encoded UTF-8")
            })?;
            Ok((key.to_ascii_lowercase(), Secret::new(value)))
        })
        .collect()
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `base` + `/v1/traces`, as the spec builds the traces URL from the generic endpoint.
fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}

/// The value is left out of the error: a malformed URL may still carry credentials.
fn check_url(key: &str, url: &str) -> Result<(), String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(())
    } else {
        Err(format!(
            "{key}: expected a URL starting with http:// or https://"
        ))
    }
}

/// A backend's defaults.
pub struct Preset {
    /// The base URL when none is configured; `/v1/traces` is appended.
    pub default_endpoint: &'static str,
    /// A vendor variable that replaces the base endpoint (e.g. `HONEYCOMB_API_ENDPOINT`).
    pub endpoint_env: Option<&'static str>,
}

/// Plain OTLP, to the spec's default `http://localhost:4318`.
pub const OTLP: Preset = Preset {
    default_endpoint: "http://localhost:4318",
    endpoint_env: None,
};

impl Settings {
    /// Resolves every setting for `preset`; an error names the setting that is wrong.
    pub fn resolve(preset: &Preset, ctx: &PluginContext<'_>) -> Result<Settings, String> {
        let lookup = Lookup { ctx };
        let endpoint = match (
            preset.endpoint_env.and_then(|n| {
                std::env::var(n)
                    .ok()
                    .filter(|v| !v.is_empty())
                    .map(|v| (n, v))
            }),
            lookup.get(Sources {
                config: None,
                env: None,
                traces_env: Some("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            }),
        ) {
            (Some((name, base)), _) => {
                check_url(name, &base)?;
                traces_url(&base)
            }
            (None, Some((key, url))) => {
                check_url(&key, &url)?;
                url
            }
            (None, None) => {
                let (key, base) = lookup
                    .get(Sources {
                        config: Some("endpoint"),
                        env: Some("OTEL_EXPORTER_OTLP_ENDPOINT"),
                        traces_env: None,
                    })
                    .unwrap_or_else(|| ("default".into(), preset.default_endpoint.to_string()));
                check_url(&key, &base)?;
                traces_url(&base)
            }
        };
        let headers = match lookup.otlp("headers", "HEADERS") {
            Some((key, text)) => parse_headers(&key, &text)?,
            None => Vec::new(),
        };
        let protocol = match lookup.otlp("protocol", "PROTOCOL") {
            None => Protocol::Protobuf,
            Some((_, p)) if p == "http/protobuf" => Protocol::Protobuf,
            Some((_, p)) if p == "http/json" => Protocol::Json,
            Some((key, other)) => {
                return Err(format!(
                "{key}: otlp_http speaks `http/protobuf` (default) or `http/json`, got {other:?}"
            ))
            }
        };
        let compression = match lookup
            .otlp("compression", "COMPRESSION")
            .map(|(k, v)| (k, v.to_ascii_lowercase()))
        {
            None => Compression::None,
            Some((_, c)) if c == "none" => Compression::None,
            Some((_, c)) if c == "gzip" => Compression::Gzip,
            Some((key, other)) => {
                return Err(format!("{key}: expected `gzip` or `none`, got {other:?}"))
            }
        };
        let file = |config: &str, suffix: &str| lookup.otlp(config, suffix);
        let batch = BatchSettings {
            schedule_delay: millis(
                lookup.bsp("schedule_delay", "OTEL_BSP_SCHEDULE_DELAY"),
                5000,
            )?,
            max_queue_size: count(
                lookup.bsp("max_queue_size", "OTEL_BSP_MAX_QUEUE_SIZE"),
                2048,
            )?,
            max_export_batch_size: count(
                lookup.bsp("max_export_batch_size", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"),
                512,
            )?,
            export_timeout: millis(
                lookup.bsp("export_timeout", "OTEL_BSP_EXPORT_TIMEOUT"),
                30_000,
            )?,
        };
        // The spec: a batch larger than the queue is clamped to the queue.
        let batch = BatchSettings {
            max_export_batch_size: batch.max_export_batch_size.min(batch.max_queue_size),
            ..batch
        };
        Ok(Settings {
            endpoint,
            headers,
            timeout: millis(lookup.otlp("timeout", "TIMEOUT"), 10_000)?,
            protocol,
            compression,
            certificate: file("certificate", "CERTIFICATE"),
            client_certificate: file("client_certificate", "CLIENT_CERTIFICATE"),
            client_key: file("client_key", "CLIENT_KEY"),
            batch,
            resource_overrides: Vec::new(),
        })
    }

    /// Sets a header unless the user already configured it.
    pub fn default_header(&mut self, name: &str, value: Secret) {
        if !self.headers.iter().any(|(k, _)| k == name) {
            self.headers.push((name.to_string(), value));
        }
    }

    /// The endpoint without credentials, query or fragment, for logs.
    pub fn endpoint_for_logs(&self) -> String {
        let url = self.endpoint.split(['?', '#']).next().unwrap_or("");
        let Some((scheme, rest)) = url.split_once("://") else {
            return url.to_string();
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = authority.rsplit('@').next().unwrap_or(authority);
        format!("{scheme}://{host}{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_percent_decoded_and_never_printed() {
        let headers = parse_headers("H", "x-honeycomb-team=abc%20123 , Api-Key=k%3Dv").unwrap();
        assert_eq!(headers[0].0, "x-honeycomb-team");
        assert_eq!(headers[0].1.expose(), "abc 123");
        assert_eq!(headers[1].0, "api-key");
        assert_eq!(headers[1].1.expose(), "k=v");
        assert_eq!(
            format!("{headers:?}"),
            r#"[("x-honeycomb-team", <redacted>), ("api-key", <redacted>)]"#
        );
        let error = parse_headers("H", "a=secret%zz").unwrap_err();
        assert!(!error.contains("secret"), "{error}");
    }

    #[test]
    fn traces_url_appends_the_signal_path() {
        assert_eq!(
            traces_url("http://collector:4318"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://collector:4318/"),
            "http://collector:4318/v1/traces"
        );
    }
}
