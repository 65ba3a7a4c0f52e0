//! console_file writes exactly what the Python SDK's ConsoleSpanExporter writes: the
//! same four spans as `tests/fixtures/reference/python-console-spans.json`, created through the
//! SDK with the reference's ids and times, must produce the same bytes up to the
//! resource (which names the SDK that wrote it).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Span as _, SpanId, SpanKind, Status, TraceContextExt as _, TraceId, TraceState, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{IdGenerator, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use spanplug_sdk::SpanplugProcessor;
use spanplug_tests::sample_spans::{remote_parent, start_linked_span, start_server_span};
use spanplug_tests::{config, span_files};

#[derive(Debug)]
struct ScriptedIds {
    traces: Mutex<VecDeque<u128>>,
    spans: Mutex<VecDeque<u64>>,
}

impl IdGenerator for ScriptedIds {
    fn new_trace_id(&self) -> TraceId {
        TraceId::from(
            self.traces
                .lock()
                .unwrap()
                .pop_front()
                .expect("scripted trace id"),
        )
    }

    fn new_span_id(&self) -> SpanId {
        SpanId::from(
            self.spans
                .lock()
                .unwrap()
                .pop_front()
                .expect("scripted span id"),
        )
    }
}

/// `2026-11-23T15:09:43.<micros>Z`.
fn at(micros: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_446_583) + Duration::from_micros(micros)
}

fn reference_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference/python-console-spans.json")
}

fn strings(items: &[&'static str]) -> opentelemetry::Value {
    let items: Vec<opentelemetry::StringValue> = items.iter().map(|s| (*s).into()).collect();
    opentelemetry::Value::Array(items.into())
}

/// Each record's text before its `"resource"` key.
fn before_resource(text: &str) -> Vec<String> {
    text.split("\n{")
        .map(|record| {
            record
                .split("    \"resource\": {")
                .next()
                .unwrap()
                .trim_start_matches('{')
                .to_string()
        })
        .collect()
}

/// A provider with the reference's resource and ids, writing through console_file
/// under `log_dir`.
fn reference_provider(log_dir: &Path) -> SdkTracerProvider {
    let resource = Resource::builder_empty()
        .with_attributes([
            KeyValue::new("service.name", "peers-reference"),
            KeyValue::new("service.version", "1.2.3"),
            KeyValue::new("deployment.environment", "test"),
        ])
        .build();
    let processor = SpanplugProcessor::load(&config(&[], log_dir), &resource).unwrap();
    SdkTracerProvider::builder()
        .with_id_generator(ScriptedIds {
            traces: Mutex::new([0xbc2564d2e265a6dbf1bcb79e2e4904c8].into()),
            spans: Mutex::new(
                [
                    0xd8436f71b2c3baf9,
                    0x485843da67b4c379,
                    0x7563bd3b167a0558,
                    0x3d6188a6ff9ba92d,
                ]
                .into(),
            ),
        })
        .with_resource(resource)
        .with_span_processor(processor)
        .build()
}

/// The reference's four spans, with its names, kinds, times, attributes, event,
/// link, status and remote parent.
fn create_reference_spans(tracer: &SdkTracer) {
    let root = start_server_span(
        tracer,
        ("GET /orders", at(593_521)),
        vec![
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("server.duration_ratio", 0.25),
            KeyValue::new("http.ok", true),
            KeyValue::new("http.route.segments", strings(&["orders", "list"])),
            KeyValue::new("user.count", 3),
        ],
        &Context::current(),
    );
    let root_cx = Context::current_with_span(root);
    let mut load = start_linked_span(
        tracer,
        ("load-orders", SpanKind::Internal, at(593_578)),
        TraceState::default(),
        &root_cx,
    );
    load.add_event_with_timestamp(
        "cache.miss",
        at(593_592),
        vec![
            KeyValue::new("cache.key", "orders:42"),
            KeyValue::new("cache.tries", 2),
            KeyValue::new("cache.cold", false),
        ],
    );
    let load_cx = root_cx.with_span(load);
    let mut select = tracer
        .span_builder("SELECT orders")
        .with_kind(SpanKind::Client)
        .with_start_time(at(593_615))
        .with_attributes([KeyValue::new("db.system", "postgresql")])
        .start_with_context(tracer, &load_cx);
    select.set_status(Status::error("connection reset by peer"));
    select.end_with_timestamp(at(593_629));
    load_cx.span().end_with_timestamp(at(593_910));
    root_cx.span().end_with_timestamp(at(594_016));

    let remote = remote_parent("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7".parse().unwrap());
    let mut user = start_server_span(
        tracer,
        ("GET /user/{id}", at(665_090)),
        vec![
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("tags", strings(&["a", "b"])),
            KeyValue::new("ratio", 0.5),
        ],
        &remote,
    );
    user.end_with_timestamp(at(665_112));
}

/// The span file console_file writes for the reference's spans.
fn write_reference_spans() -> String {
    let log_dir = tempfile::tempdir().unwrap();
    let provider = reference_provider(log_dir.path());
    create_reference_spans(&provider.tracer("reference"));
    provider.shutdown().unwrap();
    let files = span_files(log_dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    std::fs::read_to_string(&files[0]).unwrap()
}

/// The span's name, for failure messages.
fn record_name(record: &str) -> &str {
    record
        .split("\"name\": \"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("<no name>")
}

#[test]
fn each_span_matches_the_python_console_exporter_byte_for_byte_up_to_the_resource() {
    let written = write_reference_spans();
    let reference = std::fs::read_to_string(reference_path()).unwrap();
    let (ours, theirs) = (before_resource(&written), before_resource(&reference));
    assert_eq!(ours.len(), 4);
    for (ours, theirs) in ours.iter().zip(&theirs) {
        assert_eq!(ours, theirs, "span {}", record_name(theirs));
    }
}

/// The resource keeps Python's layout with this process's attributes.
#[test]
fn the_resource_keeps_pythons_layout_with_this_processs_attributes() {
    let written = write_reference_spans();
    let records: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&written)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected_resource = serde_json::json!({
        "attributes": {
            "deployment.environment": "test",
            "service.name": "peers-reference",
            "service.version": "1.2.3",
        },
        "schema_url": "",
    });
    for record in &records {
        assert_eq!(
            record["resource"], expected_resource,
            "span {}",
            record["name"]
        );
    }
    assert!(written.ends_with("}\n") && !written.ends_with("}\n\n"));
    assert!(written.contains("    \"resource\": {\n        \"attributes\": {\n            \"deployment.environment\": \"test\",\n"));
}

/// Every attribute value kind the SDK has, written by the real plugin and read back
/// by the reader behind `spanplug tree` and `view`: non-finite floats as Python's
/// json module spells them.
#[test]
fn every_value_kind_round_trips_through_a_span_file() {
    use serde_json::json;
    let log_dir = tempfile::tempdir().unwrap();
    let resource = Resource::builder_empty()
        .with_attributes([KeyValue::new("service.name", "kinds")])
        .build();
    let processor = SpanplugProcessor::load(&config(&[], log_dir.path()), &resource).unwrap();
    let provider = SdkTracerProvider::builder()
        .with_resource(resource)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("kinds");
    let values = [
        ("string", opentelemetry::Value::from("tab\tquote\" é")),
        ("bool", true.into()),
        ("int", (-42_i64).into()),
        ("float", 1.5.into()),
        ("nan", f64::NAN.into()),
        ("inf", f64::INFINITY.into()),
        ("neg_inf", f64::NEG_INFINITY.into()),
        ("strings", strings(&["a", "b"])),
        (
            "bools",
            opentelemetry::Value::Array(vec![true, false].into()),
        ),
        ("ints", opentelemetry::Value::Array(vec![1_i64, -2].into())),
        (
            "floats",
            opentelemetry::Value::Array(vec![0.5, f64::NAN, f64::NEG_INFINITY].into()),
        ),
    ];
    tracer
        .span_builder("kinds")
        .with_attributes(values.map(|(key, value)| KeyValue::new(key, value)))
        .start(&tracer)
        .end();
    provider.shutdown().unwrap();

    let text = std::fs::read_to_string(&span_files(log_dir.path())[0]).unwrap();
    assert!(text.contains("\"nan\": NaN,"), "{text}");
    assert!(text.contains("\"neg_inf\": -Infinity,"), "{text}");
    let records = spanplug_tests::read_records(log_dir.path());
    let attributes = serde_json::Value::Object(records[0].attributes.clone());
    assert_eq!(
        attributes,
        json!({
            "string": "tab\tquote\" é",
            "bool": true,
            "int": -42,
            "float": 1.5,
            "nan": "NaN",
            "inf": "Infinity",
            "neg_inf": "-Infinity",
            "strings": ["a", "b"],
            "bools": [true, false],
            "ints": [1, -2],
            "floats": [0.5, "NaN", "-Infinity"],
        })
    );
}
