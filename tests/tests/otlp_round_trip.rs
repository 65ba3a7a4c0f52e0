//! What each span field becomes in every encoding `otlp_http` sends, as a real
//! OTLP/HTTP receiver on 127.0.0.1 decodes it with the official protobuf schema:
//! one test per part of the span, each run in all four encodings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, Status, TraceContextExt as _, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::common::v1::{any_value::Value as Any, AnyValue, ArrayValue};
use opentelemetry_proto::tonic::trace::v1::Span;
use spanplug_tests::otlp_config;
use spanplug_tests::otlp_receiver::{attribute, Received, Receiver};
use spanplug_tests::sample_spans::{remote_parent, start_linked_span, start_server_span};

fn array(values: Vec<Any>) -> Any {
    Any::ArrayValue(ArrayValue {
        values: values
            .into_iter()
            .map(|v| AnyValue { value: Some(v) })
            .collect(),
    })
}

fn at(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(1_795_446_583_000_000_000 + nanos)
}

/// The encodings otlp_http sends: protocol and compression.
const ENCODINGS: [(&str, &str); 4] = [
    ("http/protobuf", "none"),
    ("http/protobuf", "gzip"),
    ("http/json", "none"),
    ("http/json", "gzip"),
];

/// What exporting the sample spans in one encoding delivered.
struct Exported {
    /// The encoding, for failure messages: "http/json gzip".
    encoding: String,
    protocol: &'static str,
    compression: &'static str,
    request: Received,
    spans: Vec<Span>,
    root: SpanContext,
    child: SpanContext,
}

impl Exported {
    fn span(&self, name: &str) -> &Span {
        let found = self.spans.iter().find(|s| s.name == name);
        found.unwrap_or_else(|| panic!("{}: no span {name}", self.encoding))
    }
}

/// Exports, in one encoding, a server root with an attribute of every type, a client
/// child with an event, a link and an error status, and a span continuing a remote
/// parent.
fn export_sample_spans(protocol: &'static str, compression: &'static str) -> Exported {
    let receiver = Receiver::start();
    let config = otlp_config(
        &receiver.base_url(),
        &[
            ("protocol", protocol),
            ("compression", compression),
            ("headers", "x-custom=a%20b,x-tenant=acme"),
        ],
    );
    let guard = spanplug_sdk::init(config).unwrap();
    let scope = InstrumentationScope::builder("orders-lib")
        .with_version("1.2.3")
        .with_attributes([KeyValue::new("scope.attr", "s")])
        .build();
    let tracer = guard.provider().tracer_with_scope(scope);

    let root = start_server_span(
        &tracer,
        ("GET /orders", at(593_521_123)),
        vec![
            KeyValue::new("s", "text ✓"),
            KeyValue::new("i", 42),
            KeyValue::new("f", 0.25),
            KeyValue::new("b", true),
            KeyValue::new(
                "sa",
                Value::Array(vec![StringValue::from("x"), StringValue::from("y")].into()),
            ),
            KeyValue::new("ia", Value::Array(vec![1i64, 2].into())),
            KeyValue::new("fa", Value::Array(vec![1.5f64].into())),
            KeyValue::new("ba", Value::Array(vec![false, true].into())),
        ],
        &Context::current(),
    );
    let root_context = root.span_context().clone();
    let root_cx = Context::current_with_span(root);
    let mut child = start_linked_span(
        &tracer,
        ("SELECT orders", SpanKind::Client, at(593_615_001)),
        "congo=t61rcWkgMzE".parse().unwrap(),
        &root_cx,
    );
    child.add_event_with_timestamp("retry", at(593_620_002), vec![KeyValue::new("attempt", 2)]);
    child.set_status(Status::error("connection reset"));
    let child_context = child.span_context().clone();
    child.end_with_timestamp(at(593_629_003));
    root_cx.span().end_with_timestamp(at(594_016_004));

    let mut continued = tracer
        .span_builder("GET /user/{id}")
        .with_kind(SpanKind::Server)
        .start_with_context(
            &tracer,
            &remote_parent("rojo=00f067aa0ba902b7".parse().unwrap()),
        );
    continued.end();
    guard.shutdown().unwrap();

    let requests = receiver.requests();
    let encoding = format!("{protocol} {compression}");
    assert!(!requests.is_empty(), "{encoding}");
    let spans = receiver.delivered_spans();
    assert_eq!(spans.len(), 3, "{encoding}");
    Exported {
        encoding,
        protocol,
        compression,
        request: requests[0].clone(),
        spans,
        root: root_context,
        child: child_context,
    }
}

/// Runs `check` on the sample spans as delivered in each encoding.
fn in_each_encoding(check: impl Fn(&Exported)) {
    for (protocol, compression) in ENCODINGS {
        check(&export_sample_spans(protocol, compression));
    }
}

#[test]
fn each_encoding_posts_its_content_type_compression_and_headers() {
    in_each_encoding(|exported| {
        let (e, request) = (&exported.encoding, &exported.request);
        assert_eq!(request.method, "POST", "{e}");
        assert_eq!(request.path, "/v1/traces", "{e}");
        let content_type = if exported.protocol == "http/json" {
            "application/json"
        } else {
            "application/x-protobuf"
        };
        assert_eq!(request.header("content-type"), Some(content_type), "{e}");
        assert_eq!(
            request.header("content-encoding"),
            (exported.compression == "gzip").then_some("gzip"),
            "{e}"
        );
        assert_eq!(request.header("x-custom"), Some("a b"), "{e}");
        assert_eq!(request.header("x-tenant"), Some("acme"), "{e}");
    });
}

#[test]
fn the_resource_and_scope_round_trip_in_each_encoding() {
    in_each_encoding(|exported| {
        let e = &exported.encoding;
        let resource_spans = &exported.request.request.resource_spans[0];
        let resource = resource_spans.resource.as_ref().unwrap();
        assert_eq!(
            attribute(&resource.attributes, "service.name"),
            Some(&Any::StringValue("otlp-test".into())),
            "{e}"
        );
        assert_eq!(
            attribute(&resource.attributes, "telemetry.sdk.language"),
            Some(&Any::StringValue("rust".into())),
            "{e}"
        );
        let scope = resource_spans.scope_spans[0].scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("orders-lib", "1.2.3"),
            "{e}"
        );
        assert_eq!(
            attribute(&scope.attributes, "scope.attr"),
            Some(&Any::StringValue("s".into())),
            "{e}"
        );
    });
}

#[test]
fn a_root_span_and_an_attribute_of_every_type_round_trip_in_each_encoding() {
    in_each_encoding(|exported| {
        let (e, root, context) = (
            &exported.encoding,
            exported.span("GET /orders"),
            &exported.root,
        );
        assert_eq!(root.trace_id, context.trace_id().to_bytes(), "{e}");
        assert_eq!(root.span_id, context.span_id().to_bytes(), "{e}");
        assert!(root.parent_span_id.is_empty(), "{e}");
        assert_eq!(root.flags, 0x101, "{e}");
        assert_eq!(root.kind, 2, "{e}");
        assert_eq!(root.start_time_unix_nano, 1_795_446_583_593_521_123, "{e}");
        assert_eq!(root.end_time_unix_nano, 1_795_446_583_594_016_004, "{e}");
        let expected = [
            ("s", Any::StringValue("text ✓".into())),
            ("i", Any::IntValue(42)),
            ("f", Any::DoubleValue(0.25)),
            ("b", Any::BoolValue(true)),
            (
                "sa",
                array(vec![
                    Any::StringValue("x".into()),
                    Any::StringValue("y".into()),
                ]),
            ),
            ("ia", array(vec![Any::IntValue(1), Any::IntValue(2)])),
            ("fa", array(vec![Any::DoubleValue(1.5)])),
            (
                "ba",
                array(vec![Any::BoolValue(false), Any::BoolValue(true)]),
            ),
        ];
        assert_eq!(root.attributes.len(), expected.len(), "{e}");
        for (key, value) in &expected {
            assert_eq!(attribute(&root.attributes, key), Some(value), "{e}: {key}");
        }
        assert_eq!(root.status.as_ref().unwrap().code, 0, "{e}");
    });
}

#[test]
fn a_child_span_with_its_status_event_and_link_round_trips_in_each_encoding() {
    in_each_encoding(|exported| {
        let (e, child) = (&exported.encoding, exported.span("SELECT orders"));
        assert_eq!(child.span_id, exported.child.span_id().to_bytes(), "{e}");
        assert_eq!(
            child.parent_span_id,
            exported.root.span_id().to_bytes(),
            "{e}"
        );
        assert_eq!(child.kind, 3, "{e}");
        assert_eq!(
            (child.start_time_unix_nano, child.end_time_unix_nano),
            (1_795_446_583_593_615_001, 1_795_446_583_593_629_003),
            "{e}"
        );
        let status = child.status.as_ref().unwrap();
        assert_eq!(
            (status.code, status.message.as_str()),
            (2, "connection reset"),
            "{e}"
        );
        assert_eq!(child.events.len(), 1, "{e}");
        assert_eq!(child.events[0].name, "retry", "{e}");
        assert_eq!(
            child.events[0].time_unix_nano, 1_795_446_583_593_620_002,
            "{e}"
        );
        assert_eq!(
            attribute(&child.events[0].attributes, "attempt"),
            Some(&Any::IntValue(2)),
            "{e}"
        );
        let link = &child.links[0];
        assert_eq!(
            link.trace_id,
            0x0af7651916cd43dd8448eb211c80319cu128.to_be_bytes(),
            "{e}"
        );
        assert_eq!(link.span_id, 0xb7ad6b7169203331u64.to_be_bytes(), "{e}");
        assert_eq!(link.trace_state, "congo=t61rcWkgMzE", "{e}");
        assert_eq!(link.flags, 0x301, "{e}");
        assert_eq!(
            attribute(&link.attributes, "link.reason"),
            Some(&Any::StringValue("batch".into())),
            "{e}"
        );
    });
}

#[test]
fn a_span_continuing_a_remote_parent_keeps_its_trace_state_and_flags_in_each_encoding() {
    in_each_encoding(|exported| {
        let (e, continued) = (&exported.encoding, exported.span("GET /user/{id}"));
        assert_eq!(
            continued.trace_id,
            0x4bf92f3577b34da6a3ce929d0e0e4736u128.to_be_bytes(),
            "{e}"
        );
        assert_eq!(
            continued.parent_span_id,
            0x00f067aa0ba902b7u64.to_be_bytes(),
            "{e}"
        );
        assert_eq!(continued.trace_state, "rojo=00f067aa0ba902b7", "{e}");
        assert_eq!(continued.flags, 0x301, "{e}: a remote parent is flagged");
    });
}
