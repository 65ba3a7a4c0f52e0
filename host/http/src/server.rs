//! A tower layer for axum servers: continues the caller's trace, opens a SERVER
//! span with the OpenTelemetry HTTP semantic conventions (`http.request.method`,
//! `_OTHER` plus `http.request.method_original` for unknown methods, `url.path`,
//! `url.scheme`, `http.route`, `http.response.status_code`, `error.type` on 5xx), makes the request context
//! (request_id, route, plus the layer's own entries) visible to `on_start`
//! processors, and records server errors as span status.
//!
//! Apply it with `Router::route_layer` so the matched route is known.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use axum::extract::MatchedPath;
use http::{HeaderValue, Request, Response};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
use tower_layer::Layer;
use tower_service::Service;

use spanplug_sdk::RequestContext;

mod accepting;
mod serving;
mod write_deadline;

pub use serving::{serve, ServeLimits};

const REQUEST_ID_HEADER: &str = "x-request-id";
/// The methods the HTTP semantic conventions know; others are recorded as `_OTHER`.
const KNOWN_METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
];
/// Clients choose methods: an unknown one is kept, cut to this many bytes.
const MAX_METHOD_ORIGINAL: usize = 64;

/// `http.request.method` and, for a method the conventions do not know,
/// `http.request.method_original` (bounded).
fn method_attributes(method: &str) -> (&'static str, Option<String>) {
    match KNOWN_METHODS.iter().find(|known| **known == method) {
        Some(known) => (known, None),
        None => {
            let mut end = method.len().min(MAX_METHOD_ORIGINAL);
            while !method.is_char_boundary(end) {
                end -= 1;
            }
            ("_OTHER", Some(method[..end].to_string()))
        }
    }
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct TraceLayer {
    config: Arc<LayerConfig>,
}

#[derive(Clone, Debug, Default)]
struct LayerConfig {
    span_name: Option<Cow<'static, str>>,
    context: RequestContext,
}

impl TraceLayer {
    /// A layer with the default span name and no request context.
    pub fn new() -> Self {
        TraceLayer::default()
    }

    /// A fixed span name (e.g. Ray Serve's `replica_handle_request`); by default
    /// `"{method} {route}"`, as the semantic conventions name server spans.
    pub fn span_name(mut self, name: impl Into<Cow<'static, str>>) -> Self {
        Arc::make_mut(&mut self.config).span_name = Some(name.into());
        self
    }

    /// A request-context entry set on every request (e.g. `app`, `deployment`, `replica_id`).
    pub fn with_context(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let config = Arc::make_mut(&mut self.config);
        config.context = std::mem::take(&mut config.context).with(key, value);
        self
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = TraceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceService {
            inner,
            config: Arc::clone(&self.config),
        }
    }
}

/// The service a [`TraceLayer`] wraps around each inner service.
#[derive(Clone, Debug)]
pub struct TraceService<S> {
    inner: S,
    config: Arc<LayerConfig>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, B, R> Service<Request<B>> for TraceService<S>
where
    S: Service<Request<B>, Response = Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display,
    B: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<S::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let facts = RequestFacts::of(&request);
        // Processors read the request context from the parent context at span start.
        let parent = self
            .config
            .request_context(&facts)
            .to_context(&crate::extract(request.headers()));
        let tracer = global::tracer("spanplug-http-server");
        let span = tracer
            .span_builder(self.config.span_name(&facts))
            .with_kind(SpanKind::Server)
            .with_attributes(facts.attributes())
            .start_with_context(&tracer, &parent);
        let cx = parent.with_span(span);

        // Call the clone that was polled ready, leave a fresh one for next time.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        // Current during `call` too: services may do work before returning their future.
        let response = {
            let _current = cx.clone().attach();
            inner.call(request)
        }
        .with_context(cx.clone());
        let request_id = facts.request_id;
        Box::pin(async move {
            let result = response.await;
            record_outcome(&cx, &result);
            result.map(|mut response| {
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                response
            })
        })
    }
}

/// What the layer reads of a request before calling the service.
struct RequestFacts {
    method: &'static str,
    method_original: Option<String>,
    scheme: String,
    path: String,
    route: Option<String>,
    request_id: String,
}

impl RequestFacts {
    fn of<B>(request: &Request<B>) -> Self {
        let (method, method_original) = method_attributes(request.method().as_str());
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .map(String::from)
            .unwrap_or_else(|| RandomIdGenerator::default().new_trace_id().to_string());
        RequestFacts {
            method,
            method_original,
            scheme: request.uri().scheme_str().unwrap_or("http").to_string(),
            path: request.uri().path().to_string(),
            route: request
                .extensions()
                .get::<MatchedPath>()
                .map(|matched| matched.as_str().to_string()),
            request_id,
        }
    }

    /// The SERVER span's attributes at its start.
    fn attributes(&self) -> Vec<KeyValue> {
        let mut attributes = vec![
            KeyValue::new("http.request.method", self.method),
            KeyValue::new("url.path", self.path.clone()),
            KeyValue::new("url.scheme", self.scheme.clone()),
            KeyValue::new("request_id", self.request_id.clone()),
        ];
        if let Some(original) = &self.method_original {
            attributes.push(KeyValue::new(
                "http.request.method_original",
                original.clone(),
            ));
        }
        if let Some(route) = &self.route {
            attributes.push(KeyValue::new("http.route", route.clone()));
        }
        attributes
    }
}

impl LayerConfig {
    /// The layer's entries, then `request_id` and `route`.
    fn request_context(&self, facts: &RequestFacts) -> RequestContext {
        let mut context = self
            .context
            .clone()
            .with("request_id", facts.request_id.clone());
        if let Some(route) = &facts.route {
            context = context.with("route", route.clone());
        }
        context
    }

    fn span_name(&self, facts: &RequestFacts) -> String {
        if let Some(name) = &self.span_name {
            return name.to_string();
        }
        // Without a matched route, the method alone: raw paths would give clients
        // unbounded span names. An unknown method names the span `HTTP`.
        let method = if facts.method == "_OTHER" {
            "HTTP"
        } else {
            facts.method
        };
        match &facts.route {
            Some(route) => format!("{method} {route}"),
            None => method.to_string(),
        }
    }
}

/// The status code, and an error status for a 5xx or a failed service; ends the span.
fn record_outcome<R, E: std::fmt::Display>(cx: &Context, result: &Result<Response<R>, E>) {
    let span = cx.span();
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(status),
            ));
            if status >= 500 {
                span.set_attribute(KeyValue::new("error.type", status.to_string()));
                span.set_status(Status::error(format!("HTTP {status}")));
            }
        }
        Err(error) => {
            span.set_attribute(KeyValue::new("error.type", "_OTHER"));
            span.set_status(Status::error(error.to_string()));
        }
    }
    span.end();
}
