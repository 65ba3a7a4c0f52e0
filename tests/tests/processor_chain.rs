//! ABI 0.2 behaviours end to end, through real plugins: per-entry settings, the
//! transform chain (span_filter, redact) in front of real exporters, unique attribute
//! keys, and on_start/on_end symmetry for record-only spans.

use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::KeyValue;
use spanplug_config::TracingConfig;
use spanplug_sdk::loader::ProcessorEntry;
use spanplug_sdk::{RequestContext, SpanplugProcessor};
use spanplug_tests::otlp_receiver::Receiver;
use spanplug_tests::{config, plugin_dir, read_records, span_files};

#[test]
fn two_otlp_entries_each_get_every_span_and_only_their_own_header() {
    let (a, b) = (Receiver::start(), Receiver::start());
    std::env::set_var("SPANPLUG_TEST_KEY_B", "key-for-b");
    let yaml = format!(
        "tracing_config:\n  exporter_import_path:\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{}\", headers: \"x-tenant=a\"}}\n    - import_path: otlp_http:otlp\n      config: {{endpoint: \"{}\", headers: \"x-api-key=${{env:SPANPLUG_TEST_KEY_B}}\"}}\n  exporter_config: {{schedule_delay: 20}}\n",
        a.base_url(),
        b.base_url()
    );
    let config = TracingConfig::from_yaml_str(&yaml)
        .unwrap()
        .with_plugin_dir(plugin_dir())
        .with_service_name("two-backends");
    assert!(!format!("{config:?}").contains("key-for-b"));
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("t");
    for i in 0..5 {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    guard.shutdown().unwrap();
    for (receiver, own, other) in [
        (&a, ("x-tenant", "a"), "x-api-key"),
        (&b, ("x-api-key", "key-for-b"), "x-tenant"),
    ] {
        let spans = receiver.wait_for_spans(5, Duration::from_secs(10));
        assert_eq!(spans.len(), 5);
        for request in receiver.requests() {
            assert_eq!(request.header(own.0), Some(own.1));
            assert_eq!(
                request.header(other),
                None,
                "{other} leaked to the other entry"
            );
        }
    }
}

#[test]
fn span_filter_drops_matching_spans_for_the_processors_after_it_only() {
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("record.txt");
    let config = config(&["test_plugins:recorder"], dir.path())
        .with_exporter_config("record_file", record_file.to_string_lossy())
        .with_exporter(
            ProcessorEntry::new("span_filter:drop")
                .with_config("names", "GET /health*")
                .with_config("attributes", "http.route=/internal/*")
                .with_config("kinds", "client"),
        )
        .with_exporter_import_path("console_file:default_tracing_exporter");
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("t");
    tracer.in_span("GET /healthz", |_| {});
    tracer.in_span("GET /users", |_| {});
    let mut internal = tracer.start("GET /internal/metrics");
    internal.set_attribute(KeyValue::new("http.route", "/internal/metrics"));
    internal.end();
    tracer
        .span_builder("call db")
        .with_kind(SpanKind::Client)
        .start(&tracer)
        .end();
    guard.shutdown().unwrap();

    let names: Vec<String> = read_records(dir.path())
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(names, ["GET /users"]);
    // The recorder comes before the filter: it saw every span end.
    let record = std::fs::read_to_string(&record_file).unwrap();
    assert_eq!(
        record.lines().filter(|l| l.starts_with("end ")).count(),
        4,
        "{record}"
    );
}

#[test]
fn redact_leaves_no_trace_of_an_email_in_console_file_or_otlp_output() {
    let dir = tempfile::tempdir().unwrap();
    let receiver = Receiver::start();
    let config = config(
        &["redact:attributes", "console_file:default_tracing_exporter"],
        dir.path(),
    )
    .with_exporter(
        ProcessorEntry::new("otlp_http:otlp")
            .with_config("endpoint", receiver.base_url())
            .with_config("schedule_delay", "20"),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("t");
    let mut span = tracer.start("GET /users/bob.smith@example.com/orders");
    span.set_attribute(KeyValue::new(
        "url.path",
        "/users/bob.smith@example.com/orders",
    ));
    span.set_attribute(KeyValue::new("user.password", "hunter2"));
    span.set_attribute(KeyValue::new(
        "http.request.header.authorization",
        "Bearer abc.def",
    ));
    span.set_attribute(KeyValue::new("payment", "paid with 4111 1111 1111 1111"));
    span.add_event(
        "lookup",
        vec![KeyValue::new("who", "bob.smith@example.com")],
    );
    span.set_status(Status::error("no orders for bob.smith@example.com"));
    span.end();
    guard.shutdown().unwrap();

    let file = std::fs::read_to_string(&span_files(dir.path())[0]).unwrap();
    let delivered = format!("{:?}", receiver.wait_for_spans(1, Duration::from_secs(10)));
    for (output, text) in [("console_file", &file), ("otlp_http", &delivered)] {
        for secret in [
            "bob.smith@example.com",
            "hunter2",
            "abc.def",
            "4111 1111 1111 1111",
        ] {
            assert!(!text.contains(secret), "{output} holds {secret}: {text}");
        }
        assert!(
            text.contains("/users/[REDACTED]/orders"),
            "{output}: {text}"
        );
        assert!(
            text.contains("no orders for [REDACTED]"),
            "{output}: {text}"
        );
    }
    let record = &read_records(dir.path())[0];
    assert_eq!(record.name, "GET /users/[REDACTED]/orders");
    assert_eq!(
        record.attributes["user.password"],
        serde_json::json!("[REDACTED]")
    );
    assert_eq!(
        record.attributes["payment"],
        serde_json::json!("paid with [REDACTED]")
    );
    assert_eq!(
        record.events[0]["attributes"]["who"],
        serde_json::json!("[REDACTED]")
    );
}

#[test]
fn redact_hash_mode_keeps_equal_values_joinable_and_remove_mode_drops_them() {
    let run = |mode: &str| {
        let dir = tempfile::tempdir().unwrap();
        let config = config(&[], dir.path())
            .with_exporter(ProcessorEntry::new("redact:attributes").with_config("mode", mode))
            .with_exporter_import_path("console_file:default_tracing_exporter");
        let guard = spanplug_sdk::init(config).unwrap();
        let tracer = guard.tracer("t");
        for _ in 0..2 {
            let mut span = tracer.start("s");
            span.set_attribute(KeyValue::new("contact", "ann@example.org"));
            span.set_attribute(KeyValue::new("api_key", "k-1"));
            span.end();
        }
        guard.shutdown().unwrap();
        read_records(dir.path())
    };
    let hashed = run("hash");
    let contact = hashed[0].attributes["contact"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        contact.starts_with("sha256:") && contact.len() == 7 + 16,
        "{contact}"
    );
    assert_eq!(
        hashed[1].attributes["contact"],
        hashed[0].attributes["contact"]
    );
    let removed = run("remove");
    assert!(!removed[0].attributes.contains_key("contact"));
    assert!(!removed[0].attributes.contains_key("api_key"));
}

#[test]
fn a_transformer_that_panics_drops_the_span_for_the_processors_after_it() {
    let dir = tempfile::tempdir().unwrap();
    spanplug_tests::log_capture::install();
    let config = config(
        &[
            "test_plugins:failing_transformer",
            "console_file:default_tracing_exporter",
        ],
        dir.path(),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    guard.tracer("t").in_span("half edited", |_| {});
    guard.shutdown().unwrap();
    assert!(
        read_records(dir.path()).is_empty(),
        "a half-done edit must not be exported"
    );
    let failures =
        spanplug_tests::log_capture::lines_containing("failed in transform (the span is dropped)");
    assert!(
        failures
            .iter()
            .any(|l| l.contains("fixture panic in transform")),
        "{:?}",
        spanplug_tests::log_capture::all()
    );
}

/// Records every span but samples none: the SDK's record-only decision.
#[derive(Clone, Debug)]
struct RecordOnly;

impl opentelemetry_sdk::trace::ShouldSample for RecordOnly {
    fn should_sample(
        &self,
        _parent: Option<&opentelemetry::Context>,
        _trace_id: opentelemetry::trace::TraceId,
        _name: &str,
        _kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        opentelemetry_sdk::trace::SamplingResult {
            decision: opentelemetry_sdk::trace::SamplingDecision::RecordOnly,
            attributes: Vec::new(),
            trace_state: Default::default(),
        }
    }
}

#[test]
fn record_only_spans_reach_on_end_of_processors_that_saw_them_start_and_are_not_exported() {
    let dir = tempfile::tempdir().unwrap();
    let record_file = dir.path().join("record.txt");
    let config = config(
        &[
            "test_plugins:recorder",
            "console_file:default_tracing_exporter",
        ],
        dir.path(),
    )
    .with_exporter_config("record_file", record_file.to_string_lossy());
    let resource = spanplug_sdk::resource(&config);
    let processor = SpanplugProcessor::load(&config, &resource).unwrap();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_sampler(RecordOnly)
        .with_resource(resource)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("t");
    {
        let _request = RequestContext::new().with("request_id", "r-1").attach();
        tracer.in_span("recorded only", |cx| {
            assert!(!cx.span().span_context().is_sampled())
        });
    }
    provider.shutdown().unwrap();
    let record = std::fs::read_to_string(&record_file).unwrap();
    let lines: Vec<&str> = record.lines().collect();
    assert_eq!(lines.len(), 2, "{record}");
    assert!(lines[0].starts_with("start recorded only"), "{record}");
    assert!(lines[1].starts_with("end recorded only"), "{record}");
    assert!(
        read_records(dir.path()).is_empty(),
        "record-only spans are not exported"
    );
}
