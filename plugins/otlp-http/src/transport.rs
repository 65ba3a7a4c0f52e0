//! One batch to the backend: HTTP with a per-request timeout, retries with
//! exponential backoff and jitter on 429/502/503/504 and connection errors,
//! `Retry-After` honoured, OTLP partial success read back.
//!
//! Nobody on the other end is trusted: redirects are never followed (the configured
//! headers carry credentials, and OTLP backends do not redirect), and what a backend
//! answers is read and logged as [`replies`] says.

mod replies;

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER,
};
use reqwest::StatusCode;
use spanplug_api::Logger;

use crate::settings::{Compression, Protocol, Settings};

use self::replies::MessageLog;
pub use self::replies::MAX_RESPONSE_BYTES;

const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How long a retry sleep runs before it checks whether the deadline moved.
const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// What happened to one batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; `rejected` spans were refused by a partial-success response.
    Delivered {
        /// Spans the backend refused (`rejected_spans`); 0 for a full success.
        rejected: u64,
    },
    /// Not delivered; the reason is safe to log. `logged` when this module already
    /// logged it (a refusal is logged once per status code).
    Failed {
        /// What went wrong; header secrets are redacted and backend text cut short.
        reason: String,
        /// `true` when the transport logs it itself (refusals, once per status code).
        logged: bool,
    },
}

/// Sends encoded batches to the endpoint with the configured headers, TLS and timeout.
pub struct Transport {
    client: Client,
    endpoint: String,
    endpoint_for_logs: String,
    /// One request; the export deadline can shorten it.
    timeout: Duration,
    /// Credentials redacted from what a backend says ([`replies::secrets`]).
    secrets: Vec<String>,
    protocol: Protocol,
    /// The HTTP status of the last response to the current or last `send` (0: none).
    last_status: AtomicU16,
    logger: Logger,
    /// Non-retryable statuses already logged, so each is logged once.
    logged_statuses: Mutex<HashSet<u16>>,
    /// Backend messages logged recently, by kind.
    logged_messages: MessageLog,
}

/// The endpoint's log form and the request settings; never a credential.
impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("endpoint", &self.endpoint_for_logs)
            .field("timeout", &self.timeout)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

/// PEM files are small; a larger one is not what the setting meant.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A PEM file named by a setting: a bounded, non-blocking read of a regular file that
/// holds a block labelled `label` (e.g. `CERTIFICATE`, `PRIVATE KEY`).
fn read_pem((key, path): &(String, String), label: &str) -> Result<Vec<u8>, String> {
    let bytes = spanplug_api::files::read_regular_file(std::path::Path::new(path), MAX_PEM_BYTES)
        .map_err(|e| format!("{key}: {e}"))?;
    let text = String::from_utf8_lossy(&bytes);
    let has_block = text.lines().any(|line| {
        line.strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|found| found.ends_with(label))
    });
    if !has_block {
        return Err(format!(
            "{key}: {path} holds no PEM {label} block (-----BEGIN ...{label}-----)"
        ));
    }
    Ok(bytes)
}

impl Transport {
    /// Builds the HTTP client; an error for an invalid header or an unusable
    /// certificate or key.
    pub fn new(settings: &Settings, logger: Logger) -> Result<Self, String> {
        // This plugin's own rustls: pick its crypto provider (ring) once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(settings.protocol.content_type()),
        );
        if settings.compression == Compression::Gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        for (name, value) in &settings.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("header name {name:?} is not valid"))?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                format!("the value of header {name:?} contains characters not allowed in a header")
            })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let mut builder = Client::builder()
            // Credentials never follow a redirect: a 3xx is a failed export.
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .default_headers(headers)
            .user_agent(concat!("spanplug-otlp-http/", env!("CARGO_PKG_VERSION")));
        if let Some(setting) = &settings.certificate {
            let pem = read_pem(setting, "CERTIFICATE")?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                format!("{}: {} is not a PEM certificate: {e}", setting.0, setting.1)
            })?;
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
        }
        match (&settings.client_certificate, &settings.client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = read_pem(cert, "CERTIFICATE")?;
                pem.extend(read_pem(key, "PRIVATE KEY")?);
                let identity = reqwest::Identity::from_pem(&pem).map_err(|_| {
                    format!(
                        "{} and {} do not form a PEM client identity (a certificate and its private key)",
                        cert.0, key.0
                    )
                })?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY must be set together".into())
            }
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport {
            client,
            endpoint: settings.endpoint.clone(),
            timeout: settings.timeout,
            endpoint_for_logs: settings.endpoint_for_logs(),
            secrets: replies::secrets(settings),
            protocol: settings.protocol,
            logger,
            logged_statuses: Mutex::new(HashSet::new()),
            logged_messages: MessageLog::default(),
            last_status: AtomicU16::new(0),
        })
    }

    /// Sends `body` (`spans` spans), retrying until it is delivered, refused, or
    /// `deadline()` passes. `deadline` is re-read between attempts: shutdown can bring
    /// it forward.
    pub fn send(&self, body: &[u8], spans: u64, deadline: &dyn Fn() -> Instant) -> Outcome {
        let mut backoff = INITIAL_BACKOFF;
        let mut attempts = 0;
        self.last_status.store(0, Ordering::Relaxed);
        loop {
            attempts += 1;
            let left = deadline().saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Outcome::Failed {
                    reason: format!("export deadline passed after {} attempts", attempts - 1),
                    logged: false,
                };
            }
            let result = self
                .client
                .post(&self.endpoint)
                .timeout(left.min(self.timeout))
                .body(body.to_vec())
                .send();
            if let Ok(response) = &result {
                self.last_status
                    .store(response.status().as_u16(), Ordering::Relaxed);
            }
            let (retry_after, last_error) = match result {
                Ok(response) if response.status().is_success() => {
                    return self.delivered(response, spans)
                }
                Ok(response) if is_retryable(response.status()) => (
                    retry_after(&response),
                    format!("HTTP {}", response.status().as_u16()),
                ),
                Ok(response) => return self.refused(response),
                Err(error) if error.is_connect() || error.is_timeout() || error.is_request() => {
                    (None, describe(&error))
                }
                Err(error) => {
                    return Outcome::Failed {
                        reason: describe(&error),
                        logged: false,
                    }
                }
            };
            // `Retry-After: 0` must not turn retries into a busy loop.
            let wait = retry_after
                .filter(|wait| !wait.is_zero())
                .unwrap_or_else(|| jitter(backoff));
            backoff = (backoff * 2).min(MAX_BACKOFF);
            if Instant::now() + wait >= deadline() {
                return Outcome::Failed {
                    reason: format!("gave up after {attempts} attempts before the export deadline; last: {last_error}"),
                    logged: false,
                };
            }
            sleep_until(Instant::now() + wait, deadline);
        }
    }
}

impl Transport {
    /// The HTTP status of the last `send`'s last response; `None` if none came.
    pub fn last_status(&self) -> Option<u16> {
        Some(self.last_status.load(Ordering::Relaxed)).filter(|status| *status != 0)
    }

    /// The endpoint's host and port (the scheme's default when none is given).
    pub fn server(&self) -> Option<(String, u16)> {
        let url = reqwest::Url::parse(&self.endpoint).ok()?;
        Some((url.host_str()?.to_string(), url.port_or_known_default()?))
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds (the HTTP-date form falls back to the backoff).
fn retry_after(response: &Response) -> Option<Duration> {
    let seconds = response
        .headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(Duration::from_secs(seconds.min(MAX_BACKOFF.as_secs())))
}

/// reqwest's message without the URL, which could carry credentials.
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "connection failed"
    } else if error.is_timeout() {
        "request timed out"
    } else {
        "request failed"
    };
    let mut source = std::error::Error::source(error);
    let mut detail = String::new();
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}: {detail}")
    }
}

/// `base` scaled by a factor in [0.5, 1.5), so many exporters do not retry in step.
fn jitter(base: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mut x = u64::from(nanos) ^ 0x9e37_79b9_7f4a_7c15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    base.mul_f64(0.5 + (x % 1000) as f64 / 1000.0)
}

fn sleep_until(until: Instant, deadline: &dyn Fn() -> Instant) {
    loop {
        let now = Instant::now();
        let end = until.min(deadline());
        if now >= end {
            return;
        }
        std::thread::sleep((end - now).min(SLEEP_SLICE));
    }
}
