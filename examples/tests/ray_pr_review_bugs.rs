//! The bugs reviewers found in the Ray PR that added Serve tracing
//! (`shared/seeds/ray-serve-tracing-pr.md`), each shown absent here with real HTTP
//! through the axum `TraceLayer` and spans read back from `console_file`.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState, Tracer as _,
};
use opentelemetry::{global, Context, KeyValue};
use serde_json::Value;
use spanplug_cli::spans_file::{read_spans, SpanRecord};
use spanplug_config::TracingConfig;
use spanplug_http::client::InjectTraceContext as _;
use spanplug_http::server::TraceLayer;
use spanplug_sdk::{RequestContext, TracingGuard};
use spanplug_tests::plugin_dir;

/// The tests share the global tracer provider the layer uses: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn init(log_dir: &Path, import_paths: &[&str]) -> TracingGuard {
    let config = import_paths
        .iter()
        .fold(TracingConfig::default(), |c, p| {
            c.with_exporter_import_path(*p)
        })
        .with_plugin_dir(plugin_dir())
        .with_service_name("review-bugs")
        .with_exporter_config("log_dir", log_dir.to_string_lossy());
    spanplug_sdk::init(config).unwrap()
}

fn records(log_dir: &Path) -> Vec<SpanRecord> {
    let set = read_spans(&log_dir.join("spans")).unwrap();
    assert!(set.problems.is_empty(), "{:?}", set.problems);
    set.spans
}

/// Serves the router `make` builds (given its own base URL) on a loopback port for
/// the duration of `test`.
fn with_server<T>(make: impl FnOnce(&str) -> Router, test: impl AsyncFnOnce(String) -> T) -> T {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = make(&base);
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let result = test(base).await;
        server.abort();
        result
    })
}

fn layered(router: Router) -> Router {
    router.route_layer(
        TraceLayer::new()
            .span_name("replica_handle_request")
            .with_context("app", "default"),
    )
}

#[test]
fn context_is_detached_after_every_request() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(dir.path(), &["console_file:default_tracing_exporter"]);
    // With a context leaked on a worker thread, a later request would become a child
    // of an earlier one.
    let router = layered(Router::new().route("/", get(|| async { "ok" })));
    with_server(
        |_| router,
        async |base| {
            let client = reqwest::Client::new();
            for _ in 0..20 {
                client.get(&base).send().await.unwrap();
            }
        },
    );
    assert!(
        !Context::current().has_active_span(),
        "nothing left attached on the test thread"
    );
    {
        let _request = RequestContext::new().with("request_id", "r1").attach();
        assert!(RequestContext::current().is_some());
    }
    assert_eq!(
        RequestContext::current(),
        None,
        "the request context detaches with its guard"
    );
    guard.shutdown().unwrap();
    let spans = records(dir.path());
    assert_eq!(spans.len(), 20);
    assert!(
        spans.iter().all(|s| s.parent_id.is_none()),
        "every request is its own root"
    );
    let traces: std::collections::HashSet<&str> =
        spans.iter().map(|s| s.trace_id.as_str()).collect();
    assert_eq!(traces.len(), 20);
}

#[test]
fn an_unsampled_span_does_not_disturb_its_parent() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(dir.path(), &["console_file:default_tracing_exporter"]);
    let tracer = guard.tracer("review");
    tracer.in_span("parent", |_| {
        let unsampled = Context::new().with_remote_span_context(SpanContext::new(
            TraceId::from(7u128),
            SpanId::from(9u64),
            TraceFlags::default(),
            true,
            TraceState::default(),
        ));
        {
            let _unsampled = tracer.start_with_context("unsampled", &unsampled);
        }
        // Still the parent's context: attributes and children land on it.
        Context::current()
            .span()
            .set_attribute(KeyValue::new("after_unsampled", true));
        tracer.in_span("child", |_| {});
    });
    guard.shutdown().unwrap();
    let spans = records(dir.path());
    let names: Vec<&str> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["child", "parent"]);
    assert_eq!(
        spans[0].parent_id.as_deref(),
        Some(spans[1].span_id.as_str())
    );
    assert_eq!(spans[1].attributes["after_unsampled"], Value::Bool(true));
}

#[test]
fn concurrent_requests_never_share_request_context() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(
        dir.path(),
        &[
            "context_enricher:serve_context",
            "console_file:default_tracing_exporter",
        ],
    );
    let router = layered(Router::new().route(
        "/work/{n}",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            global::tracer("handler").in_span("handler", |_| {});
            "done"
        }),
    ));
    with_server(
        |_| router,
        async |base| {
            let client = reqwest::Client::new();
            let requests = (0..40).map(|n| {
                let request = client
                    .get(format!("{base}/work/{n}"))
                    .header("x-request-id", format!("req-{n}"));
                async move { request.send().await.unwrap() }
            });
            for response in futures_join_all(requests).await {
                assert!(response.status().is_success());
            }
        },
    );
    guard.shutdown().unwrap();
    let spans = records(dir.path());
    assert_eq!(spans.len(), 80);
    for server in spans.iter().filter(|s| s.name == "replica_handle_request") {
        let request_id = server.attributes["request_id"].as_str().unwrap();
        let handler = spans
            .iter()
            .find(|s| s.parent_id.as_deref() == Some(&server.span_id))
            .unwrap();
        // The enricher copied the request context of *this* request onto both.
        assert_eq!(
            server.attributes["request_id"],
            handler.attributes["request_id"]
        );
        assert_eq!(handler.attributes["route"], Value::from("/work/{n}"));
        assert!(request_id.starts_with("req-"));
    }
}

/// Polls every future to completion concurrently (no extra dependency).
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        outputs.push(handle.await.unwrap());
    }
    outputs
}

#[test]
fn status_codes_are_integers_and_tracestate_survives_every_hop() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(dir.path(), &["console_file:default_tracing_exporter"]);
    // `/hop` calls `/echo` with the current context; `/echo` answers 404 with the
    // `tracestate` it received.
    let make = |base: &str| {
        let base = base.to_string();
        layered(
            Router::new()
                .route(
                    "/echo",
                    get(|headers: axum::http::HeaderMap| async move {
                        let state = headers
                            .get("tracestate")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("");
                        (axum::http::StatusCode::NOT_FOUND, state.to_string())
                    }),
                )
                .route(
                    "/hop",
                    get(move || async move {
                        let client = reqwest::Client::new();
                        let response = client
                            .get(format!("{base}/echo"))
                            .with_trace_context()
                            .send()
                            .await
                            .unwrap();
                        response.text().await.unwrap()
                    }),
                ),
        )
    };
    let echoed = with_server(make, async |base| {
        reqwest::Client::new()
            .get(format!("{base}/hop"))
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .header("tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    guard.shutdown().unwrap();
    assert_eq!(
        echoed, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7",
        "tracestate reached the second hop"
    );
    let spans = records(dir.path());
    assert_eq!(spans.len(), 2);
    for span in &spans {
        assert_eq!(span.trace_id, "0x4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(
            span.attributes["http.response.status_code"].is_i64(),
            "an integer: {:?}",
            span.attributes
        );
        assert!(
            span.trace_state.contains("{key=congo, value=t61rcWkgMzE}"),
            "{}",
            span.trace_state
        );
    }
    let codes: Vec<i64> = spans
        .iter()
        .map(|s| s.attributes["http.response.status_code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [404, 200]);
}

/// Open file descriptors of this process that point at `path`.
fn open_descriptors(path: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|target| target == path))
        .count()
}

#[test]
fn the_default_exporter_closes_its_file_on_shutdown() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(dir.path(), &["console_file:default_tracing_exporter"]);
    guard.tracer("review").in_span("one", |_| {});
    let file = std::fs::read_dir(dir.path().join("spans"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let file = file.canonicalize().unwrap();
    assert_eq!(
        open_descriptors(&file),
        1,
        "the exporter holds its file while running"
    );
    guard.shutdown().unwrap();
    assert_eq!(open_descriptors(&file), 0, "and closes it on shutdown");
    assert_eq!(records(dir.path()).len(), 1);
}

/// The HTTP semantic conventions beyond the PR: `url.scheme`, `error.type` on a 5xx,
/// and a method the conventions do not know recorded as `_OTHER` with the original
/// (bounded) beside it.
#[test]
fn server_spans_follow_the_http_semantic_conventions() {
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let guard = init(dir.path(), &["console_file:default_tracing_exporter"]);
    let make = |_: &str| {
        Router::new()
            .route(
                "/fail",
                get(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE })
                    .fallback(|| async { "any method" }),
            )
            .route_layer(TraceLayer::new())
    };
    let long_method = "X".repeat(100);
    with_server(make, async |base| {
        let client = reqwest::Client::new();
        client.get(format!("{base}/fail")).send().await.unwrap();
        for method in ["PURGE", long_method.as_str()] {
            let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
            client
                .request(method, format!("{base}/fail"))
                .send()
                .await
                .unwrap();
        }
    });
    guard.shutdown().unwrap();
    let mut spans = records(dir.path());
    spans.sort_by_key(|s| s.start_us);
    assert_eq!(spans.len(), 3);
    let failed = &spans[0];
    assert_eq!(failed.name, "GET /fail");
    assert_eq!(failed.attributes["url.scheme"], "http");
    assert_eq!(failed.attributes["error.type"], "503");
    assert_eq!(failed.status_code, "ERROR");
    let purge = &spans[1];
    assert_eq!(purge.name, "HTTP /fail");
    assert_eq!(purge.attributes["http.request.method"], "_OTHER");
    assert_eq!(purge.attributes["http.request.method_original"], "PURGE");
    assert!(!purge.attributes.contains_key("error.type"));
    assert_eq!(
        spans[2].attributes["http.request.method_original"],
        "X".repeat(64)
    );
}
