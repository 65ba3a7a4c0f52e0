//! Plugin processors at work inside the SDK: order, request context in `on_start`,
//! attributes set by plugins, and panics that never reach the host.

use opentelemetry::trace::{SpanKind, Tracer as _};
use opentelemetry::KeyValue;
use serde_json::json;
use spanplug_sdk::RequestContext;
use spanplug_tests::{config, read_records};

#[test]
fn on_start_sees_the_request_context_and_its_attributes_are_exported() {
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("record.txt");
    let config = config(
        &[
            "test_plugins:recorder",
            "console_file:default_tracing_exporter",
        ],
        dir.path(),
    )
    .with_exporter_config("record_file", record_file.to_string_lossy())
    .with_exporter_config("tag", "ctx");
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("test");
    {
        let _request = RequestContext::new()
            .with("request_id", "req-7")
            .with("app", "default")
            .with("deployment", "UserService")
            .attach();
        tracer.in_span("replica_handle_request", |_| {
            tracer.in_span("db_query", |_| {});
        });
    }
    tracer.in_span("outside_any_request", |_| {});
    guard.shutdown().unwrap();

    let record = std::fs::read_to_string(&record_file).unwrap();
    let lines: Vec<&str> = record.lines().collect();
    assert_eq!(
        lines[0],
        "start replica_handle_request request_id=req-7,app=default,deployment=UserService"
    );
    assert_eq!(
        lines[1],
        "start db_query request_id=req-7,app=default,deployment=UserService"
    );
    assert!(lines[2].starts_with("end db_query "), "{record}");
    assert_eq!(lines[4], "start outside_any_request ");

    let records = read_records(dir.path());
    let by_name = |name: &str| records.iter().find(|r| r.name == name).unwrap();
    assert_eq!(
        by_name("db_query").attributes["ctx.request_id"],
        json!("req-7")
    );
    let raw = std::fs::read_to_string(spanplug_tests::span_files(dir.path()).remove(0)).unwrap();
    assert_eq!(
        raw.matches("\"ctx.request_id\"").count(),
        2,
        "one key per span that started in the request: {raw}"
    );
    assert!(!by_name("outside_any_request")
        .attributes
        .contains_key("ctx.request_id"));
    assert_eq!(
        by_name("db_query").parent_id.as_deref(),
        Some(by_name("replica_handle_request").span_id.as_str())
    );
}

#[test]
fn request_context_follows_a_future_across_threads() {
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("record.txt");
    let config = config(&["test_plugins:recorder"], dir.path())
        .with_exporter_config("record_file", record_file.to_string_lossy());
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("test");
    let future = RequestContext::new()
        .with("request_id", "async-1")
        .scope(async move {
            tracer.in_span("in_future", |_| {});
        });
    // Polled on another thread, where nothing is attached.
    std::thread::spawn(move || futures_executor_lite(future))
        .join()
        .unwrap();
    guard.shutdown().unwrap();
    let record = std::fs::read_to_string(&record_file).unwrap();
    assert!(
        record.starts_with("start in_future request_id=async-1\n"),
        "{record}"
    );
}

/// Polls a future that never waits to completion.
fn futures_executor_lite<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

#[test]
fn a_panicking_processor_never_takes_the_host_or_its_neighbours_down() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(
        &[
            "test_plugins:panicking",
            "console_file:default_tracing_exporter",
            "test_plugins:panicking",
        ],
        dir.path(),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("test");
    for i in 0..50 {
        tracer
            .span_builder(format!("span-{i}"))
            .with_kind(SpanKind::Internal)
            .with_attributes([KeyValue::new("i", i)])
            .start(&tracer);
    }
    assert!(guard
        .force_flush()
        .unwrap_err()
        .to_string()
        .contains("panicked: fixture panic in force_flush"));
    let error = guard.shutdown().unwrap_err().to_string();
    assert!(
        error.contains("panicking (test_plugins:panicking): panicked: fixture panic in shutdown"),
        "{error}"
    );
    // The exporter between the two panicking processors got every span.
    let records = read_records(dir.path());
    assert_eq!(records.len(), 50);
}

/// A panic in a processor's destructor, run when the last provider lets go of the
/// `SpanplugProcessor`: caught inside the plugin (abi_stable would abort the process).
#[test]
fn a_processor_that_panics_in_its_destructor_does_not_abort_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("dropped");
    let config = config(
        &[
            "test_plugins:panicking",
            "console_file:default_tracing_exporter",
        ],
        dir.path(),
    )
    .with_exporter_config("panic_in", "drop")
    .with_exporter_config("drop_marker", marker.to_string_lossy());
    let guard = spanplug_sdk::init(config).unwrap();
    guard.tracer("test").in_span("before_drop", |_| {});
    guard.shutdown().unwrap();
    // `init` made the provider global too: replacing it drops the last reference.
    opentelemetry::global::set_tracer_provider(
        opentelemetry::trace::noop::NoopTracerProvider::new(),
    );
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "dropped");
    // Still here, and the spans were written.
    assert_eq!(read_records(dir.path())[0].name, "before_drop");
}

#[test]
fn jsonl_format_writes_one_compact_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(&["console_file:default_tracing_exporter"], dir.path())
        .with_exporter_config("format", "jsonl");
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("test");
    tracer.in_span("parent", |_| tracer.in_span("child", |_| {}));
    guard.shutdown().unwrap();
    let files = spanplug_tests::span_files(dir.path());
    assert!(files[0].to_string_lossy().ends_with(".jsonl"), "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(value["context"]["span_id"]
            .as_str()
            .unwrap()
            .starts_with("0x"));
    }
    assert!(
        lines[0].starts_with("{\"name\":\"child\",\"context\":{\"trace_id\":\"0x"),
        "{}",
        lines[0]
    );
    let records = read_records(dir.path());
    let tree = spanplug_cli::tree::render_trees(&records);
    assert!(
        tree.contains("1. parent (spanplug-test) - Duration: "),
        "{tree}"
    );
    assert!(
        tree.contains("   └── 2. child (spanplug-test) - Duration: "),
        "{tree}"
    );
}

#[test]
fn disabled_tracing_loads_nothing_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(&["test_plugins:factory_error"], dir.path());
    config.enabled = false;
    let guard = spanplug_sdk::init(config).unwrap();
    assert!(!guard.is_enabled());
    guard.tracer("test").in_span("ignored", |_| {});
    guard.shutdown().unwrap();
    assert!(spanplug_tests::span_files(dir.path()).is_empty());
}

#[test]
fn tracing_crate_spans_reach_the_plugins() {
    use tracing_subscriber::layer::SubscriberExt as _;

    let dir = tempfile::tempdir().unwrap();
    let guard = spanplug_sdk::init(config(
        &["console_file:default_tracing_exporter"],
        dir.path(),
    ))
    .unwrap();
    let subscriber = tracing_subscriber::registry().with(guard.tracing_layer());
    tracing::subscriber::with_default(subscriber, || {
        let outer = tracing::info_span!("handle_request", request_id = "r-1");
        let _outer = outer.enter();
        tracing::info_span!("load_user").in_scope(|| {});
    });
    guard.shutdown().unwrap();
    let records = read_records(dir.path());
    let outer = records.iter().find(|r| r.name == "handle_request").unwrap();
    let inner = records.iter().find(|r| r.name == "load_user").unwrap();
    assert_eq!(outer.attributes["request_id"], json!("r-1"));
    assert_eq!(inner.parent_id.as_deref(), Some(outer.span_id.as_str()));
}

/// Set in the child process of `debug_span_processor_writes_to_stdout`.
const STDOUT_CHILD: &str = "SPANPLUG_TEST_STDOUT_CHILD";

#[test]
fn debug_span_processor_writes_to_stdout() {
    if std::env::var_os(STDOUT_CHILD).is_some() {
        let dir = tempfile::tempdir().unwrap();
        let guard =
            spanplug_sdk::init(config(&["console_file:debug_span_processor"], dir.path())).unwrap();
        guard.tracer("stdout").in_span("printed", |_| {});
        guard.shutdown().unwrap();
        return;
    }
    // The plugin writes to file descriptor 1 itself, past the test harness's capture:
    // run this test again in a child process and read its stdout.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "debug_span_processor_writes_to_stdout",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(STDOUT_CHILD, "1")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let start = stdout
        .find("{\n    \"name\": \"printed\"")
        .expect("span record on stdout");
    let record: serde_json::Value = serde_json::Deserializer::from_str(&stdout[start..])
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(record["kind"], json!("SpanKind.INTERNAL"));
    assert_eq!(
        record["resource"]["attributes"]["service.name"],
        json!("spanplug-test")
    );
}
