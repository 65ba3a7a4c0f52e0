//! From the borrowed span view to OTLP protobuf messages, and batches to request bodies.

use std::io::Write;

use flate2::{write::GzEncoder, Compression as GzLevel};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    span, status, ResourceSpans, ScopeSpans, Span, Status,
};
use prost::Message;
use spanplug_api as api;

use crate::settings::{Compression, Protocol};

/// OTLP span flags: bit 8 says the remote bit (bit 9) is known.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

fn flags(trace_flags: u8, is_remote: bool) -> u32 {
    u32::from(trace_flags) | CONTEXT_HAS_IS_REMOTE | if is_remote { CONTEXT_IS_REMOTE } else { 0 }
}

fn any_value(value: &api::Value<'_>) -> AnyValue {
    use any_value::Value as V;
    let array = |values: Vec<AnyValue>| V::ArrayValue(ArrayValue { values });
    let wrap = |v: V| AnyValue { value: Some(v) };
    wrap(match value {
        api::Value::Bool(b) => V::BoolValue(*b),
        api::Value::I64(i) => V::IntValue(*i),
        api::Value::F64(f) => V::DoubleValue(*f),
        api::Value::String(s) => V::StringValue(s.to_string()),
        api::Value::BoolArray(items) => {
            array(items.iter().map(|b| wrap(V::BoolValue(*b))).collect())
        }
        api::Value::I64Array(items) => array(items.iter().map(|i| wrap(V::IntValue(*i))).collect()),
        api::Value::F64Array(items) => {
            array(items.iter().map(|f| wrap(V::DoubleValue(*f))).collect())
        }
        api::Value::StringArray(items) => array(
            items
                .iter()
                .map(|s| wrap(V::StringValue(s.to_string())))
                .collect(),
        ),
    })
}

pub fn key_values(attributes: &[api::KeyValue<'_>]) -> Vec<KeyValue> {
    attributes
        .iter()
        .map(|kv| KeyValue {
            key: kv.key.to_string(),
            value: Some(any_value(&kv.value)),
            ..Default::default()
        })
        .collect()
}

pub fn string_key_value(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

fn kind(kind: api::SpanKind) -> span::SpanKind {
    match kind {
        api::SpanKind::Internal => span::SpanKind::Internal,
        api::SpanKind::Server => span::SpanKind::Server,
        api::SpanKind::Client => span::SpanKind::Client,
        api::SpanKind::Producer => span::SpanKind::Producer,
        api::SpanKind::Consumer => span::SpanKind::Consumer,
    }
}

fn status(view: &api::Status<'_>) -> Status {
    let code = match view.code {
        api::StatusCode::Unset => status::StatusCode::Unset,
        api::StatusCode::Ok => status::StatusCode::Ok,
        api::StatusCode::Error => status::StatusCode::Error,
    };
    Status {
        message: view.description.to_string(),
        code: code as i32,
    }
}

/// Copies a span out of the host's view, in the form it is sent.
pub fn span(view: &api::SpanView<'_>) -> Span {
    let parent = if view.parent_span_id.is_valid() {
        view.parent_span_id.0.to_vec()
    } else {
        Vec::new()
    };
    Span {
        trace_id: view.context.trace_id.0.to_vec(),
        span_id: view.context.span_id.0.to_vec(),
        trace_state: view.context.trace_state.to_string(),
        parent_span_id: parent,
        flags: flags(view.context.trace_flags, view.parent_is_remote),
        name: view.name.to_string(),
        kind: kind(view.kind) as i32,
        start_time_unix_nano: view.start_time_unix_nano,
        end_time_unix_nano: view.end_time_unix_nano,
        attributes: key_values(view.attributes.as_slice()),
        dropped_attributes_count: view.dropped_attributes_count,
        events: view
            .events
            .iter()
            .map(|e| span::Event {
                time_unix_nano: e.time_unix_nano,
                name: e.name.to_string(),
                attributes: key_values(e.attributes.as_slice()),
                dropped_attributes_count: e.dropped_attributes_count,
            })
            .collect(),
        dropped_events_count: view.dropped_events_count,
        links: view
            .links
            .iter()
            .map(|l| span::Link {
                trace_id: l.context.trace_id.0.to_vec(),
                span_id: l.context.span_id.0.to_vec(),
                trace_state: l.context.trace_state.to_string(),
                attributes: key_values(l.attributes.as_slice()),
                dropped_attributes_count: l.dropped_attributes_count,
                flags: flags(l.context.trace_flags, l.context.is_remote),
            })
            .collect(),
        dropped_links_count: view.dropped_links_count,
        status: Some(status(&view.status)),
    }
}

/// The instrumentation scope a span came from, with its schema URL.
#[derive(Clone, Debug, PartialEq)]
pub struct Scope {
    scope: InstrumentationScope,
    schema_url: String,
}

pub fn scope(view: &api::InstrumentationScope<'_>) -> Scope {
    Scope {
        scope: InstrumentationScope {
            name: view.name.to_string(),
            version: view.version.map(|v| v.to_string()).unwrap_or_default(),
            attributes: key_values(view.attributes.as_slice()),
            dropped_attributes_count: 0,
        },
        schema_url: view.schema_url.map(|v| v.to_string()).unwrap_or_default(),
    }
}

/// One request's worth of spans: a single resource, spans grouped by scope in the
/// order their scopes first appear.
pub fn request(resource: &Resource, spans: Vec<(Scope, Span)>) -> ExportTraceServiceRequest {
    let mut scope_spans: Vec<ScopeSpans> = Vec::new();
    for (scope, span) in spans {
        let same_scope = |group: &&mut ScopeSpans| {
            group.scope.as_ref() == Some(&scope.scope) && group.schema_url == scope.schema_url
        };
        match scope_spans.iter_mut().find(same_scope) {
            Some(group) => group.spans.push(span),
            None => scope_spans.push(ScopeSpans {
                scope: Some(scope.scope),
                spans: vec![span],
                schema_url: scope.schema_url,
            }),
        }
    }
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans,
            schema_url: String::new(),
        }],
    }
}

pub fn body(
    request: &ExportTraceServiceRequest,
    protocol: Protocol,
    compression: Compression,
) -> Vec<u8> {
    let plain = match protocol {
        Protocol::Protobuf => request.encode_to_vec(),
        Protocol::Json => serde_json::to_vec(request).expect("OTLP messages always serialize"),
    };
    match compression {
        Compression::None => plain,
        Compression::Gzip => {
            let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 4), GzLevel::fast());
            encoder
                .write_all(&plain)
                .and_then(|()| encoder.finish())
                .expect("gzip into memory cannot fail")
        }
    }
}
