//! The HTTP client opentelemetry-otlp sends through: rustls with the configured TLS
//! files, and two things the exporter's builder cannot be told. For a configuration
//! file's `meter_provider`, each request carries exactly the file's headers (the
//! builder always adds `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS`, which must not apply
//! then); and gzip is done here, so that no compression variable can turn it on
//! (opentelemetry-otlp is built without its own gzip).

use std::fmt;
use std::io::Write as _;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

use crate::{SelfMetricsError, SelfMetricsErrorKind};

/// A blocking reqwest client with the request rewrites described above.
pub(crate) struct Client {
    pub(crate) inner: reqwest::blocking::Client,
    /// `Some`: the headers each request carries besides the exporter's own
    /// (content type and encoding, user agent); any other is dropped.
    pub(crate) exact_headers: Option<HeaderMap>,
    pub(crate) gzip: bool,
}

impl fmt::Debug for Client {
    // Header values are often API keys: names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Option<Vec<&str>> = self
            .exact_headers
            .as_ref()
            .map(|h| h.keys().map(HeaderName::as_str).collect());
        f.debug_struct("Client")
            .field("exact_headers", &names)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

/// `headers` as a header map; an error names the header, never its value.
pub(crate) fn header_map<'h>(
    headers: impl Iterator<Item = (&'h String, &'h String)>,
) -> Result<HeaderMap, SelfMetricsError> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let invalid = || {
            SelfMetricsError::new(
                SelfMetricsErrorKind::InvalidSetting,
                format!("header `{name}`: not a valid HTTP header name and value"),
            )
        };
        let name = HeaderName::try_from(name.as_str()).map_err(|_| invalid())?;
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| invalid())?;
        map.insert(name, value);
    }
    Ok(map)
}

fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body)?;
    encoder.finish()
}

#[async_trait::async_trait]
impl HttpClient for Client {
    async fn send_bytes(&self, mut request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        if let Some(exact) = &self.exact_headers {
            let headers = request.headers_mut();
            let mut kept = HeaderMap::new();
            for name in [CONTENT_TYPE, CONTENT_ENCODING, USER_AGENT] {
                if let Some(value) = headers.remove(&name) {
                    kept.insert(name, value);
                }
            }
            kept.extend(exact.clone());
            *headers = kept;
        }
        if self.gzip && !request.headers().contains_key(CONTENT_ENCODING) {
            let compressed = gzip(request.body())?;
            *request.body_mut() = Bytes::from(compressed);
            request
                .headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        self.inner.send_bytes(request).await
    }
}
