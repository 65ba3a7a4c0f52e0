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
use std::time::Duration;

use axum::extract::MatchedPath;
use http::{HeaderValue, Request, Response};
use opentelemetry::context::FutureExt as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{global, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator as _, RandomIdGenerator};
use tower_layer::Layer;
use tower_service::Service;

use crate::propagation;
use crate::request_context::RequestContext;

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
        let parent = propagation::extract(request.headers());
        let (method, method_original) = method_attributes(request.method().as_str());
        let scheme = request.uri().scheme_str().unwrap_or("http").to_string();
        let path = request.uri().path().to_string();
        let route = request
            .extensions()
            .get::<MatchedPath>()
            .map(|matched| matched.as_str().to_string());
        let request_id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|id| !id.is_empty() && id.len() <= 128)
            .map(String::from)
            .unwrap_or_else(|| RandomIdGenerator::default().new_trace_id().to_string());

        let mut context = self
            .config
            .context
            .clone()
            .with("request_id", request_id.clone());
        if let Some(route) = &route {
            context = context.with("route", route.clone());
        }
        let name = match &self.config.span_name {
            Some(name) => name.to_string(),
            // Without a matched route, the method alone: raw paths would give clients
            // unbounded span names. An unknown method names the span `HTTP`.
            None => {
                let method = if method == "_OTHER" { "HTTP" } else { method };
                match &route {
                    Some(route) => format!("{method} {route}"),
                    None => method.to_string(),
                }
            }
        };
        let mut attributes = vec![
            KeyValue::new("http.request.method", method),
            KeyValue::new("url.path", path),
            KeyValue::new("url.scheme", scheme),
            KeyValue::new("request_id", request_id.clone()),
        ];
        if let Some(original) = method_original {
            attributes.push(KeyValue::new("http.request.method_original", original));
        }
        if let Some(route) = route {
            attributes.push(KeyValue::new("http.route", route));
        }
        // Processors read the request context from the parent context at span start.
        let parent = context.to_context(&parent);
        let tracer = global::tracer("spanplug-http-server");
        let span = tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
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
        Box::pin(async move {
            let result = response.await;
            let span = cx.span();
            match &result {
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
            result.map(|mut response| {
                if let Ok(value) = HeaderValue::from_str(&request_id) {
                    response.headers_mut().insert(REQUEST_ID_HEADER, value);
                }
                response
            })
        })
    }
}

/// Limits for [`serve`]: how long a client may take, and how long shutdown waits.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServeLimits {
    /// A client must send a request's headers within this (default 10 s).
    pub header_read_timeout: Duration,
    /// A request (reading its body included) must be answered within this, or it gets
    /// `408 Request Timeout` (default 30 s).
    pub request_timeout: Duration,
    /// After the shutdown signal, open requests get this long to finish before their
    /// connections are closed (default 5 s).
    pub drain_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            drain_timeout: Duration::from_secs(5),
        }
    }
}

impl ServeLimits {
    /// How long a client may take to send its request headers.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long one request may take before it is answered with 408.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// How long shutdown waits for requests in flight before closing them.
    pub fn with_drain_timeout(mut self, timeout: Duration) -> Self {
        self.drain_timeout = timeout;
        self
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then drains: no new
/// connections, idle ones closed, open requests given `drain_timeout`, and whatever is
/// left closed, so SIGTERM ends the process on time whatever clients do. Clients
/// slower than the limits (half-sent headers, a trickled body) are dropped.
/// `axum::serve` has none of these limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()>,
    limits: ServeLimits,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    log::warn!("accepting a connection failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let limits = limits.clone();
        let mut closed = closed.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let mut router = router.clone();
                let timeout = limits.request_timeout;
                async move {
                    let call = async {
                        std::future::poll_fn(|cx| {
                            Service::<Request<hyper::body::Incoming>>::poll_ready(&mut router, cx)
                        })
                        .await?;
                        router.call(request).await
                    };
                    match tokio::time::timeout(timeout, call).await {
                        Ok(response) => response,
                        Err(_) => Ok(axum::response::IntoResponse::into_response(
                            http::StatusCode::REQUEST_TIMEOUT,
                        )),
                    }
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout)
                .serve_connection(TokioIo::new(stream), service);
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => return,
                _ = closed.wait_for(|closing| *closing) => {}
            }
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        });
        // Finished connections are reaped as we go.
        while connections.try_join_next().is_some() {}
    }
    let _ = closing.send(true);
    let drained = tokio::time::timeout(limits.drain_timeout, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        log::warn!(
            "closing {} connections still open {:?} after shutdown began",
            connections.len(),
            limits.drain_timeout
        );
        connections.abort_all();
    }
}
