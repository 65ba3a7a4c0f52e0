//! What every handler shares: how a service calls another (a CLIENT span, the
//! trace context injected) and how it traces its own work (an application span).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{Method, StatusCode};
use opentelemetry::trace::{FutureExt as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use serde_json::{json, Value};
use spanplug_http::client::InjectTraceContext as _;

use super::Role;

/// What every handler needs: where the other services are, and an HTTP client.
#[derive(Clone)]
pub(super) struct Services {
    pub(super) role: Role,
    pub(super) client: reqwest::Client,
    pub(super) urls: Arc<BTreeMap<Role, String>>,
    pub(super) users: Arc<Mutex<BTreeMap<String, Value>>>,
}

pub(super) const APP: &str = "default";

pub(super) fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl Services {
    /// Calls another deployment the way Ray Serve routes to a replica: a CLIENT span
    /// `proxy_route_to_replica`, with the context injected into the request.
    pub(super) async fn call(
        &self,
        callee: Role,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let tracer = global::tracer("multi-service");
        let span = tracer
            .span_builder("proxy_route_to_replica")
            .with_kind(SpanKind::Client)
            .with_attributes([
                KeyValue::new("deployment", callee.deployment()),
                KeyValue::new("app", APP),
                KeyValue::new("route", path.to_string()),
                KeyValue::new("http.request.method", method.to_string()),
            ])
            .start(&tracer);
        let cx = Context::current_with_span(span);
        let url = format!("{}{path}", self.urls[&callee]);
        let result = async {
            let mut request = self.client.request(method, &url).with_trace_context();
            if let Some(body) = &body {
                request = request.json_body(body);
            }
            let response = request.send().await?;
            let status = response.status();
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>((
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            ))
        }
        .with_context(cx.clone())
        .await;
        let span = cx.span();
        match result {
            Ok((status, value)) => {
                span.set_attribute(KeyValue::new(
                    "http.response.status_code",
                    i64::from(status.as_u16()),
                ));
                if status.is_server_error() {
                    span.set_status(Status::error(format!(
                        "{} answered {status}",
                        callee.deployment()
                    )));
                }
                (status, value)
            }
            Err(error) => {
                span.set_status(Status::error(format!(
                    "calling {}: {error}",
                    callee.deployment()
                )));
                (
                    StatusCode::BAD_GATEWAY,
                    json!({"success": false, "error": "upstream unavailable"}),
                )
            }
        }
    }
}

/// `RequestBuilder::json` needs reqwest's `json` feature; this is all it does.
pub(super) trait JsonBody {
    fn json_body(self, body: &Value) -> Self;
}

impl JsonBody for reqwest::RequestBuilder {
    fn json_body(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(body.to_string())
    }
}

/// Runs `work` inside an application span named `<Deployment>.<handler>`; a status
/// of 400 or more marks the span as an error.
pub(super) async fn app_span<F>(role: Role, handler: &str, work: F) -> (StatusCode, Value)
where
    F: std::future::Future<Output = (StatusCode, Value)>,
{
    let tracer = global::tracer("multi-service");
    let span = tracer.start(format!("{}.{handler}", role.deployment()));
    let cx = Context::current_with_span(span);
    let (status, value) = work.with_context(cx.clone()).await;
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(status.as_u16()),
    ));
    if status.is_client_error() || status.is_server_error() {
        let message = value["error"]
            .as_str()
            .unwrap_or("request failed")
            .to_string();
        span.set_status(Status::error(message));
    }
    (status, value)
}
