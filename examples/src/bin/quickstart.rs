//! The smallest spanplug host: tracing from a service config on the default
//! `console_file` exporter, a few requests traced like Ray Serve traces them, then
//! the span file read back and printed as trees.
//!
//! Run: `cargo run -p spanplug-examples --bin quickstart`

use std::path::PathBuf;
use std::thread;
use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::SdkTracer;
use spanplug_cli::{spans_file, tree};
use spanplug_config::TracingConfig;
use spanplug_loader::stderr_log;
use spanplug_sdk::RequestContext;

const SERVICE: &str = "quickstart";
const CONFIG: &str = "
tracing_config:
  enabled: true
  sampling_ratio: 1.0
  exporter_import_path: console_file:default_tracing_exporter
";

fn main() -> anyhow::Result<()> {
    stderr_log::init();
    let log_dir = std::env::var_os("SPANPLUG_LOG_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("spanplug").join(SERVICE));
    let mut config = TracingConfig::from_yaml_str(CONFIG)?.with_service_name(SERVICE);
    // `cargo run` leaves the plugins it built as dependencies in target/<profile>/deps.
    if let Some(exe_dir) = std::env::current_exe()?.parent() {
        config = config.with_plugin_dir(exe_dir.join("deps"));
    }
    let config = config.with_exporter_config("log_dir", log_dir.to_string_lossy());
    let guard = spanplug_sdk::init(config)?;
    let tracer = guard.tracer("spanplug-quickstart");

    for (request_id, route, user) in [("req-1", "/user/{id}", "1"), ("req-2", "/user/{id}", "42")] {
        let request = RequestContext::new()
            .with("request_id", request_id)
            .with("app", "default")
            .with("route", route);
        let _request = request.attach();
        handle_request(&tracer, route, user);
    }
    guard.shutdown()?;

    let span_file = log_dir
        .join("spans")
        .join(format!("{SERVICE}_{}.json", std::process::id()));
    let spans = spans_file::read_spans(&span_file)
        .with_context(|| format!("reading {}", span_file.display()))?;
    println!("spans written to {}\n", span_file.display());
    print!("{}", tree::render_trees(&spans.spans));
    Ok(())
}

/// proxy → APIGateway → UserService → DatabaseService, each hop a route and a
/// handle span, as in Ray Serve's multi-service example.
fn handle_request(tracer: &SdkTracer, route: &str, user: &str) {
    let root = tracer
        .span_builder("proxy_http_request")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.route", route.to_string()),
            KeyValue::new("url.path", format!("/user/{user}")),
        ])
        .start(tracer);
    let cx = Context::current_with_span(root);
    let _root = cx.clone().attach();
    let found = hop(
        tracer,
        &["APIGateway", "UserService", "DatabaseService"],
        user,
    );
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        if found { 200 } else { 404 },
    ));
    if !found {
        span.set_status(Status::error(format!("user {user} not found")));
    }
}

fn hop(tracer: &SdkTracer, deployments: &[&str], user: &str) -> bool {
    let Some((deployment, downstream)) = deployments.split_first() else {
        thread::sleep(Duration::from_millis(3));
        return user.len() == 1;
    };
    let start = |name: &'static str, kind: SpanKind| {
        tracer
            .span_builder(name)
            .with_kind(kind)
            .with_attributes([
                KeyValue::new("deployment", deployment.to_string()),
                KeyValue::new("replica_id", format!("{deployment}#1")),
            ])
            .start(tracer)
    };
    let _route =
        Context::current_with_span(start("proxy_route_to_replica", SpanKind::Client)).attach();
    let cx = Context::current_with_span(start("replica_handle_request", SpanKind::Server));
    let _handle = cx.clone().attach();
    thread::sleep(Duration::from_millis(1));
    let found = hop(tracer, downstream, user);
    if !found {
        cx.span().set_status(Status::error("user not found"));
    }
    found
}
