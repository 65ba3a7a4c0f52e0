//! Exporter settings with the OpenTelemetry spec's names and defaults. Each setting
//! is taken from the first of these that sets it:
//!
//! 1. the entry's own `config` (`config: {endpoint: …}` under its `import_path`):
//!    what a user wrote for one entry beats anything process-wide, such as an
//!    `OTEL_EXPORTER_OTLP_ENDPOINT` a platform injects;
//! 2. the preset's vendor variables: `HONEYCOMB_API_ENDPOINT` for the endpoint,
//!    `HONEYCOMB_WRITE_KEY` (or `HONEYCOMB_API_KEY`) and `HONEYCOMB_DATASET_NAME` for
//!    their headers (a header the entry's own `headers` sets wins over them);
//! 3. `OTEL_EXPORTER_OTLP_TRACES_*`, then `OTEL_EXPORTER_OTLP_*` (`OTEL_BSP_*` for
//!    batching);
//! 4. the shared `exporter_config`;
//! 5. the preset's default, then the spec's.
//!
//! Two keys serve an OpenTelemetry configuration file, where the file is the whole
//! configuration: `read_env: false` reads no variable at all (steps 2 and 3 are
//! skipped), and `traces_endpoint` is the full URL used as it is (the file's
//! `endpoint`, which already ends in `/v1/traces`), over `endpoint`.
//!
//! A setting comes whole from one source: an entry's `headers` replaces the
//! environment's list (`headers: ""` sends none), it does not add to it.
//! `DD_SERVICE`, `DD_ENV`, `DD_VERSION` and `HONEYCOMB_SERVICE_NAME` set resource
//! attributes, which no other source sets. A variable set to something that is not
//! UTF-8 is an error naming it, unless a source above it already decided.
//!
//! A platform's credentials never follow an entry elsewhere
//! (`settings/credentials.rs`): when the environment names an
//! endpoint (a vendor endpoint variable, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_ENDPOINT`, as platforms inject), headers from
//! `OTEL_EXPORTER_OTLP_(TRACES_)HEADERS` and from vendor variables go only to its
//! origin (scheme, host, port). An entry whose endpoint comes from its own `config`
//! or from `exporter_config` with another origin does not get them: for it those
//! variables are as if unset (so `exporter_config`'s `headers` apply), and one
//! warning at load names them, never their values, and how to send them anyway
//! (`headers: "${env:OTEL_EXPORTER_OTLP_HEADERS}"` in the entry). A vendor's own key
//! also goes to the vendor's default endpoint (`HONEYCOMB_WRITE_KEY` to
//! `https://api.honeycomb.io`). When the environment names no endpoint, its headers
//! go to whichever endpoint the configuration names. An endpoint's user info is a
//! credential of that URL alone. Certificates are not withheld: a client key never
//! leaves the process.

mod credentials;
mod endpoint;
mod headers;
mod sources;

use std::fmt;
use std::time::Duration;

use spanplug_api::PluginContext;

pub use self::headers::parse_headers;

use self::credentials::EnvCredentials;
use self::sources::{Found, Lookup, ReadEnv};

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

/// The exporter's settings, resolved from the entry's `config`, the environment,
/// `exporter_config` and a preset (see the module docs for the order). `Debug`
/// shows the endpoint's log form and the headers' names only.
#[derive(Clone)]
pub struct Settings {
    /// The full traces URL (`.../v1/traces`), checked when resolved; without user
    /// info (it became an `authorization` header) or fragment.
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
    /// The warning logged at load when credentials from the environment were
    /// withheld from this endpoint: which variables, and why.
    pub withheld: Option<String>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| &**name).collect();
        f.debug_struct("Settings")
            .field("endpoint", &self.endpoint_for_logs())
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .field("protocol", &self.protocol)
            .field("compression", &self.compression)
            .field("certificate", &self.certificate)
            .field("client_certificate", &self.client_certificate)
            .field("client_key", &self.client_key)
            .field("batch", &self.batch)
            .field("resource_overrides", &self.resource_overrides)
            .field("withheld", &self.withheld)
            .finish()
    }
}

/// Every key an entry's own `config` may set; anything else is refused by name.
pub const KEYS: &[&str] = &[
    "endpoint",
    "headers",
    "timeout",
    "protocol",
    "compression",
    "certificate",
    "client_certificate",
    "client_key",
    "schedule_delay",
    "max_queue_size",
    "max_export_batch_size",
    "export_timeout",
    "traces_endpoint",
    "read_env",
];

fn millis(found: Option<Found>, default_ms: u64) -> Result<Duration, String> {
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

fn count(found: Option<Found>, default: usize) -> Result<usize, String> {
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

fn protocol(found: Option<Found>) -> Result<Protocol, String> {
    match found {
        None => Ok(Protocol::Protobuf),
        Some((_, p)) if p == "http/protobuf" => Ok(Protocol::Protobuf),
        Some((_, p)) if p == "http/json" => Ok(Protocol::Json),
        Some((key, other)) => Err(format!(
            "{key}: otlp_http speaks `http/protobuf` (default) or `http/json`, got {other:?}"
        )),
    }
}

fn compression(found: Option<Found>) -> Result<Compression, String> {
    match found.map(|(k, v)| (k, v.to_ascii_lowercase())) {
        None => Ok(Compression::None),
        Some((_, c)) if c == "none" => Ok(Compression::None),
        Some((_, c)) if c == "gzip" => Ok(Compression::Gzip),
        Some((key, other)) => Err(format!("{key}: expected `gzip` or `none`, got {other:?}")),
    }
}

fn batch(lookup: &Lookup<'_, '_>) -> Result<BatchSettings, String> {
    let batch = BatchSettings {
        schedule_delay: millis(
            lookup.get("schedule_delay", &["OTEL_BSP_SCHEDULE_DELAY"])?,
            5000,
        )?,
        max_queue_size: count(
            lookup.get("max_queue_size", &["OTEL_BSP_MAX_QUEUE_SIZE"])?,
            2048,
        )?,
        max_export_batch_size: count(
            lookup.get("max_export_batch_size", &["OTEL_BSP_MAX_EXPORT_BATCH_SIZE"])?,
            512,
        )?,
        export_timeout: millis(
            lookup.get("export_timeout", &["OTEL_BSP_EXPORT_TIMEOUT"])?,
            30_000,
        )?,
    };
    // The spec: a batch larger than the queue is clamped to the queue.
    Ok(BatchSettings {
        max_export_batch_size: batch.max_export_batch_size.min(batch.max_queue_size),
        ..batch
    })
}

/// A backend's defaults and variables.
#[derive(Debug)]
pub struct Preset {
    /// The base URL when none is configured; `/v1/traces` is appended.
    pub default_endpoint: &'static str,
    /// A vendor variable that replaces the base endpoint (e.g. `HONEYCOMB_API_ENDPOINT`).
    pub endpoint_env: Option<&'static str>,
    /// Headers from vendor variables: (header name, the variables to read, first set wins).
    pub header_envs: &'static [(&'static str, &'static [&'static str])],
    /// Resource attributes from vendor variables: (variable, attribute).
    pub resource_envs: &'static [(&'static str, &'static str)],
}

/// Plain OTLP, to the spec's default `http://localhost:4318`.
pub const OTLP: Preset = Preset {
    default_endpoint: "http://localhost:4318",
    endpoint_env: None,
    header_envs: &[],
    resource_envs: &[],
};

/// The endpoint's setting whose value is the full traces URL, used as it is.
const TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// The variables that name an endpoint, first one set wins: the preset's, then the
/// spec's.
fn endpoint_vars(preset: &Preset) -> Vec<&'static str> {
    let spec = [TRACES_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT"];
    preset.endpoint_env.into_iter().chain(spec).collect()
}

/// The endpoint and the setting it came from.
fn resolve_endpoint(
    preset: &Preset,
    lookup: &Lookup<'_, '_>,
) -> Result<(String, endpoint::Endpoint), String> {
    if let Some(url) = lookup.ctx.entry_config_value("traces_endpoint") {
        let source = "config.traces_endpoint".to_string();
        let endpoint = endpoint::parse(&source, url, false)?;
        return Ok((source, endpoint));
    }
    let (source, url) = lookup
        .get("endpoint", &endpoint_vars(preset))?
        .unwrap_or_else(|| {
            (
                "the default endpoint".into(),
                preset.default_endpoint.into(),
            )
        });
    let endpoint = endpoint::parse(&source, &url, source != TRACES_ENDPOINT)?;
    Ok((source, endpoint))
}

impl Settings {
    /// Resolves every setting for `preset` in the order of this module's docs; an
    /// error names the setting that is wrong, or an unknown key of the entry's own
    /// `config` and the valid ones.
    pub fn resolve(preset: &Preset, ctx: &PluginContext<'_>) -> Result<Settings, String> {
        Self::resolve_with(preset, ctx, &spanplug_api::settings::env_var)
    }

    fn resolve_with(
        preset: &Preset,
        ctx: &PluginContext<'_>,
        env: ReadEnv<'_>,
    ) -> Result<Settings, String> {
        ctx.check_keys(KEYS)?;
        let no_env = |_: &str| Ok(None);
        let env: ReadEnv<'_> = match ctx.entry_config_value("read_env") {
            None | Some("true") => env,
            Some("false") => &no_env,
            Some(other) => {
                return Err(format!(
                    "config.read_env: expected `true` or `false`, got {other:?}"
                ))
            }
        };
        let lookup = Lookup { ctx, env };
        let (source, endpoint) = resolve_endpoint(preset, &lookup)?;
        let mut env_credentials = EnvCredentials::decide(preset, &lookup, &source, &endpoint.url);
        let headers = headers::resolve(preset, &lookup, &mut env_credentials)?;
        let mut resource_overrides = Vec::new();
        for (var, attribute) in preset.resource_envs {
            if let Some(value) = (lookup.env)(var)? {
                resource_overrides.push((attribute.to_string(), value));
            }
        }
        let mut settings = Settings {
            endpoint: endpoint.url,
            headers,
            timeout: millis(lookup.otlp("timeout", "TIMEOUT")?, 10_000)?,
            protocol: protocol(lookup.otlp("protocol", "PROTOCOL")?)?,
            compression: compression(lookup.otlp("compression", "COMPRESSION")?)?,
            certificate: lookup.otlp_path("certificate", "CERTIFICATE")?,
            client_certificate: lookup.otlp_path("client_certificate", "CLIENT_CERTIFICATE")?,
            client_key: lookup.otlp_path("client_key", "CLIENT_KEY")?,
            batch: batch(&lookup)?,
            resource_overrides,
            withheld: None,
        };
        if let Some(credential) = endpoint.basic_auth {
            settings.default_header("authorization", credential);
        }
        settings.withheld = env_credentials.notice(&settings.endpoint_for_logs(), &source);
        if let Some(notice) = &settings.withheld {
            ctx.logger().warn(notice);
        }
        Ok(settings)
    }

    /// Sets a header unless the user already configured it.
    pub fn default_header(&mut self, name: &str, value: Secret) {
        if !self.headers.iter().any(|(k, _)| k == name) {
            self.headers.push((name.to_string(), value));
        }
    }

    /// The endpoint without credentials, query or fragment, for logs.
    pub fn endpoint_for_logs(&self) -> String {
        endpoint::for_logs(&self.endpoint)
    }
}

#[cfg(test)]
mod tests;
