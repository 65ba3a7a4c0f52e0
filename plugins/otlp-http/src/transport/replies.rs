//! What a backend answered, read and made safe to log: a 2xx body's partial success
//! (as [`crate::response`] reads it) and a refusal's body, up to
//! [`MAX_RESPONSE_BYTES`]. What a backend says is redacted of every credential the
//! settings hold (header values, the password and base64 of a `Basic` credential, the
//! endpoint's query values), cut short with control characters escaped, and a
//! message is logged once per kind and interval.

use std::collections::HashMap;
use std::io::Read as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::prelude::{Engine as _, BASE64_STANDARD};
use reqwest::blocking::Response;
use reqwest::header::CONTENT_TYPE;
use spanplug_api::text::escape_controls;

use super::{Outcome, Transport};
use crate::response;
use crate::settings::{Protocol, Settings};

const BODY_SNIPPET_CHARS: usize = 200;
/// The most of an error response's body read; the rest is discarded unread.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024;
/// A backend's message (partial success) is logged once per this interval.
const MESSAGE_LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Distinct messages remembered for that; past it the memory starts over.
const MAX_REMEMBERED_MESSAGES: usize = 64;
/// A query value shorter than this is not taken for a secret (`?v=1` would redact
/// every `1`).
const MIN_QUERY_SECRET_BYTES: usize = 4;

/// Everything a backend could echo that is a credential, longest first (so a
/// secret inside another does not break the longer one's redaction): the headers'
/// values, the base64 and the password of a `Basic` credential (from the URL's user
/// info or a header), and the endpoint's query values, raw and decoded.
pub(super) fn secrets(settings: &Settings) -> Vec<String> {
    let mut secrets = Vec::new();
    for (_, value) in &settings.headers {
        let value = value.expose();
        secrets.push(value.to_string());
        if let Some(encoded) = value.strip_prefix("Basic ") {
            secrets.push(encoded.trim().to_string());
            let decoded = BASE64_STANDARD.decode(encoded.trim()).unwrap_or_default();
            let decoded = String::from_utf8_lossy(&decoded).into_owned();
            if let Some((_, password)) = decoded.split_once(':') {
                secrets.push(password.to_string());
            }
        }
    }
    if let Ok(url) = reqwest::Url::parse(&settings.endpoint) {
        let raw = url.query().unwrap_or("").split('&');
        let raw = raw.filter_map(|pair| pair.split_once('=').map(|(_, v)| v.to_string()));
        let decoded = url.query_pairs().map(|(_, value)| value.into_owned());
        secrets.extend(
            raw.chain(decoded)
                .filter(|v| v.len() >= MIN_QUERY_SECRET_BYTES),
        );
    }
    secrets.retain(|secret| !secret.is_empty());
    secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    secrets.dedup();
    secrets
}

/// Which backend messages were logged lately, keyed by their kind: the text with
/// its digits taken out, so per-batch numbers do not make each batch's line new.
#[derive(Default)]
pub(super) struct MessageLog(Mutex<HashMap<String, Instant>>);

impl MessageLog {
    /// Whether no message of this kind was logged within the last interval (and now
    /// one counts as logged).
    pub(super) fn first_time_lately(&self, message: &str) -> bool {
        let kind: String = message.chars().filter(|c| !c.is_ascii_digit()).collect();
        let mut logged = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if logged
            .get(&kind)
            .is_some_and(|at| now.duration_since(*at) < MESSAGE_LOG_INTERVAL)
        {
            return false;
        }
        if logged.len() >= MAX_REMEMBERED_MESSAGES {
            logged.clear();
        }
        logged.insert(kind, now);
        true
    }
}

/// A response body, up to [`MAX_RESPONSE_BYTES`].
fn bounded_body(response: Response) -> Vec<u8> {
    let mut body = Vec::new();
    let _ = response.take(MAX_RESPONSE_BYTES).read_to_end(&mut body);
    body
}

/// `scheme://host:port` of a `Location`, never its path or query (which may hold
/// tokens).
fn origin_of(location: &str) -> String {
    match reqwest::Url::parse(location) {
        Ok(url) => format!(
            "{}://{}{}",
            url.scheme(),
            url.host_str().unwrap_or(""),
            url.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "a relative location".into(),
    }
}

impl Transport {
    /// A 2xx: the batch is delivered, less what a partial success rejects. A count
    /// that is not one (negative) rejects nothing, one above `spans` rejects them all,
    /// and a body that could not be read whole is counted by what was read; each is
    /// logged, once per kind of line and interval.
    pub(super) fn delivered(&self, response: Response, spans: u64) -> Outcome {
        let content_type = response.headers().get(CONTENT_TYPE);
        let json = response::is_json(
            content_type.and_then(|v| v.to_str().ok()),
            self.protocol == Protocol::Json,
        );
        let answer = response::read(response, json);
        let (rejected, odd_count) = answer.rejected_of(spans);
        let problem = answer.problem.as_ref().map(|problem| {
            let problem = self.snippet(problem);
            format!("its response could not be read whole: {problem}")
        });
        let notes: Vec<String> = odd_count.into_iter().chain(problem).collect();
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join("; "))
        };
        let message = self.snippet(&answer.error_message);
        // Logged once per kind of message and notes, whatever the counts.
        if (answer.is_partial() || !notes.is_empty())
            && self
                .logged_messages
                .first_time_lately(&format!("{notes}{message}"))
        {
            let endpoint = &self.endpoint_for_logs;
            self.logger.warn(&if answer.is_partial() {
                format!("{endpoint} accepted a batch partially: {rejected} spans rejected{notes}: {message}")
            } else {
                format!("{endpoint} accepted a batch, counted as delivered{notes}")
            });
        }
        Outcome::Delivered { rejected }
    }

    pub(super) fn refused(&self, response: Response) -> Outcome {
        let status = response.status();
        let reason = if status.is_redirection() {
            let target = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(origin_of)
                .unwrap_or_else(|| "no location".into());
            format!(
                "HTTP {} redirect to {} not followed: the export's headers carry credentials; set the endpoint to the backend's final URL",
                status.as_u16(),
                escape_controls(&target, BODY_SNIPPET_CHARS)
            )
        } else {
            let body = String::from_utf8_lossy(&bounded_body(response)).into_owned();
            format!(
                "HTTP {} (not retried): {}",
                status.as_u16(),
                self.snippet(&body)
            )
        };
        let first = self
            .logged_statuses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(status.as_u16());
        if first {
            self.logger.error(&format!(
                "{} refused a batch: {reason}",
                self.endpoint_for_logs
            ));
        }
        Outcome::Failed {
            reason,
            logged: true,
        }
    }

    /// What a backend said, safe to log: redacted whole first (a cut could split a
    /// secret and hide it), then cut short with control characters escaped.
    fn snippet(&self, text: &str) -> String {
        escape_controls(self.redact(text).trim(), BODY_SNIPPET_CHARS).into_owned()
    }

    /// Backends sometimes echo credentials in error bodies.
    fn redact(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_string(), |text, secret| {
            text.replace(secret.as_str(), "<redacted>")
        })
    }
}

#[cfg(test)]
mod tests;
