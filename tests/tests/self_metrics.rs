//! spanplug's own `otel.sdk.*` metrics, sent over real OTLP/HTTP to a receiver that
//! decodes them with opentelemetry-proto, agree with the exporter's shutdown summary:
//! every span is accounted for once, per component.

use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use spanplug_config::SelfMetricsConfig;
use spanplug_tests::otlp_config;
use spanplug_tests::otlp_receiver::{histogram_points, last_sum, sum_of, Receiver, Reply};

const SPANS: i64 = 300;

#[test]
fn processed_and_exported_add_up_to_every_span_and_match_the_shutdown_summary() {
    let traces = Receiver::start();
    // Slow first (the queue overflows meanwhile), then a partial success, then a 400.
    traces.script([
        Reply::Delay(Duration::from_millis(400)),
        Reply::PartialSuccess {
            rejected: 2,
            message: "2 spans too old".into(),
        },
        Reply::Status {
            code: 400,
            retry_after: None,
            body: "bad batch".into(),
        },
    ]);
    let metrics = Receiver::start();
    let config = otlp_config(
        &traces.base_url(),
        &[("max_queue_size", "20"), ("max_export_batch_size", "5")],
    )
    .with_self_metrics(
        SelfMetricsConfig::default()
            .with_endpoint(format!("{}/v1/metrics", metrics.base_url()))
            .with_interval(Duration::from_secs(60)),
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let component = guard.plugins()[0].component_names[0].clone();
    assert_eq!(component, "otlp_http:otlp/0");
    let tracer = guard.tracer("agreement");
    for i in 0..SPANS {
        tracer.in_span(format!("span-{i}"), |_| {});
    }
    let summary = guard.shutdown().expect_err("spans were lost").to_string();

    let received = metrics.metrics();
    assert!(!received.is_empty(), "no metrics arrived");
    let named = format!("otel.component.name={component}");
    let processor = ["otel.component.type=batching_span_processor", &named];
    let exporter = ["otel.component.type=otlp_http_span_exporter", &named];
    let processed = |error: Option<&str>| {
        let error = error.map(|e| format!("error.type={e}"));
        let with: Vec<&str> = processor.iter().copied().chain(error.as_deref()).collect();
        let value = last_sum(&received, "otel.sdk.processor.span.processed", &with);
        // A point without error.type must not be one of the error points.
        value.unwrap_or(0)
    };
    let exported = |error: &str| {
        let error = format!("error.type={error}");
        let with: Vec<&str> = exporter.iter().copied().chain([error.as_str()]).collect();
        last_sum(&received, "otel.sdk.exporter.span.exported", &with).unwrap_or(0)
    };
    let queue_full = processed(Some("queue_full"));
    let shut = processed(Some("already_shutdown"));
    // The success point is the one whose sum is not an error point's.
    let all_processed = sum_of(&received, "otel.sdk.processor.span.processed", &processor);
    let handed_on = all_processed - queue_full - shut;
    let (rejected, failed) = (exported("rejected"), exported("failed"));
    let all_exported = sum_of(&received, "otel.sdk.exporter.span.exported", &exporter);
    let delivered = all_exported - rejected - failed - exported("export_thread_died");

    assert_eq!(
        all_processed, SPANS,
        "processed + queue_full + already_shutdown"
    );
    assert_eq!(
        delivered + rejected + failed,
        handed_on,
        "exported, by outcome"
    );
    assert!(
        queue_full > 0 && rejected == 2 && failed == 5 && delivered > 0,
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "{delivered} delivered, {queue_full} dropped (queue full), {failed} failed, {rejected} rejected by the backend"
        )),
        "metrics: delivered {delivered}, queue_full {queue_full}, failed {failed}, rejected {rejected}; summary: {summary}"
    );

    // The host's side: every span started as a sampled root, none still live.
    let started = last_sum(
        &received,
        "otel.sdk.span.started",
        &[
            "otel.span.sampling_result=RECORD_AND_SAMPLE",
            "otel.span.parent.origin=none",
        ],
    );
    assert_eq!(started, Some(SPANS));
    let live = last_sum(
        &received,
        "otel.sdk.span.live",
        &["otel.span.sampling_result=RECORD_AND_SAMPLE"],
    );
    assert_eq!(live, Some(0));
    // And each export call's duration, by HTTP status and outcome.
    let durations = histogram_points(&received, "otel.sdk.exporter.operation.duration");
    let server = format!("server.port={}", traces.port());
    for wanted in [
        "http.response.status_code=400",
        "error.type=rejected",
        "http.response.status_code=200",
    ] {
        assert!(
            durations.iter().any(|(attributes, count)| *count > 0
                && attributes.iter().any(|a| a == wanted)
                && attributes.contains(&server)),
            "{wanted} not among {durations:?}"
        );
    }
}

/// A chain of `span_filter` then `console_file`: the filter reports what its rules
/// dropped, the file exporter what it was handed and wrote, and the two add up.
#[test]
fn a_filters_drops_and_the_file_exporters_writes_add_up_to_every_span() {
    use spanplug_config::TracingConfig;
    use spanplug_sdk::loader::ProcessorEntry;
    let metrics = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let config = TracingConfig::default()
        .with_exporter(ProcessorEntry::new("span_filter:drop").with_config("names", "GET /health*"))
        .with_exporter_import_path("console_file:default_tracing_exporter")
        .with_plugin_dir(spanplug_tests::plugin_dir())
        .with_exporter_config("log_dir", dir.path().to_string_lossy())
        .with_service_name("self-metrics")
        .with_self_metrics(
            SelfMetricsConfig::default()
                .with_endpoint(format!("{}/v1/metrics", metrics.base_url())),
        );
    let guard = spanplug_sdk::init(config).unwrap();
    let tracer = guard.tracer("chain");
    for i in 0..10 {
        let name = if i % 3 == 0 {
            "GET /health"
        } else {
            "GET /items"
        };
        tracer.in_span(name, |_| {});
    }
    guard.shutdown().unwrap();
    let received = metrics.metrics();
    let filter = [
        "otel.component.name=span_filter:drop/0",
        "otel.component.type=span_filter",
        "error.type=dropped_by_filter",
    ];
    assert_eq!(
        last_sum(&received, "otel.sdk.processor.span.processed", &filter),
        Some(4)
    );
    let file = ["otel.component.name=console_file:default_tracing_exporter/0"];
    let queue = [file[0], "otel.component.type=batching_span_processor"];
    assert_eq!(
        sum_of(&received, "otel.sdk.processor.span.processed", &queue),
        6
    );
    let writer = [file[0], "otel.component.type=console_file_span_exporter"];
    assert_eq!(
        sum_of(&received, "otel.sdk.exporter.span.exported", &writer),
        6
    );
    assert_eq!(spanplug_tests::read_records(dir.path()).len(), 6);
}
