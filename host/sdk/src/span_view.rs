//! `opentelemetry_sdk` spans as a [`SpanSource`]: their views borrow the SDK's data
//! as it is (no copy), built by the loader's per-thread builder.

use opentelemetry::trace::{
    SpanContext as OtelSpanContext, SpanKind as OtelSpanKind, Status as OtelStatus, TraceState,
};
use opentelemetry::{Array, KeyValue as OtelKeyValue, Value as OtelValue};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource as OtelResource;
use spanplug_api::{
    OwnedValue, SpanContext, SpanId, SpanKind, SpanView, Status, StatusCode, TraceId, Value,
};
use spanplug_loader::span::count_unrepresentable;
use spanplug_loader::span::{
    with_attribute_views, with_view, Attribute, AttributeType, AttributeViews, ResourceRecord,
    SpanSource, ViewBuilder, ViewHead,
};

use crate::unix_time::unix_nanos;

pub(crate) fn span_kind(kind: &OtelSpanKind) -> SpanKind {
    match kind {
        OtelSpanKind::Internal => SpanKind::INTERNAL,
        OtelSpanKind::Server => SpanKind::SERVER,
        OtelSpanKind::Client => SpanKind::CLIENT,
        OtelSpanKind::Producer => SpanKind::PRODUCER,
        OtelSpanKind::Consumer => SpanKind::CONSUMER,
    }
}

/// The `tracestate` header has to be rendered before a context view can borrow it.
pub(crate) fn span_context<'a>(context: &OtelSpanContext, trace_state: &'a str) -> SpanContext<'a> {
    SpanContext {
        trace_id: TraceId(context.trace_id().to_bytes()),
        span_id: SpanId(context.span_id().to_bytes()),
        trace_flags: context.trace_flags().to_u8(),
        is_remote: context.is_remote(),
        trace_state: trace_state.into(),
    }
}

/// The SDK's attributes (`opentelemetry::KeyValue`) to the loader's builder.
#[derive(Debug)]
pub(crate) enum SdkAttributes {}

impl AttributeType for SdkAttributes {
    type Attribute = OtelKeyValue;

    #[inline(always)]
    fn key(attribute: &OtelKeyValue) -> &str {
        attribute.key.as_str()
    }

    fn swap_value(one: &mut OtelKeyValue, other: &mut OtelKeyValue) {
        std::mem::swap(&mut one.value, &mut other.value);
    }

    #[inline(always)]
    fn push_view<'s>(kv: &'s OtelKeyValue, views: &mut AttributeViews<'_, 's>) {
        let value = match &kv.value {
            OtelValue::Bool(b) => Value::from(*b),
            OtelValue::I64(i) => Value::from(*i),
            OtelValue::F64(f) => Value::from(*f),
            OtelValue::String(s) => Value::from(s.as_str()),
            OtelValue::Array(Array::Bool(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::I64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::F64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::String(items)) => {
                return views.push_string_array(kv.key.as_str(), items.iter().map(|s| s.as_str()))
            }
            // Kinds added to the SDK after this host was written.
            _ => {
                count_unrepresentable();
                Value::UNSUPPORTED
            }
        };
        views.push(kv.key.as_str(), value);
    }
}

/// An ended SDK span and the resource it is viewed with.
pub(crate) struct SdkSpan<'a> {
    pub(crate) data: &'a mut SpanData,
    pub(crate) resource: &'a ResourceRecord,
}

/// A rendered `tracestate` header; most spans carry none (no rendering, no allocation).
#[inline]
fn write_trace_state(state: &TraceState, out: &mut String) {
    if *state != TraceState::NONE {
        out.push_str(&state.header());
    }
}

impl SpanSource for SdkSpan<'_> {
    type Attributes = SdkAttributes;

    #[inline]
    fn is_sampled(&self) -> bool {
        self.data.span_context.is_sampled()
    }

    #[inline]
    fn attributes_mut(&mut self) -> &mut Vec<OtelKeyValue> {
        &mut self.data.attributes
    }

    #[inline(always)]
    fn build<'s>(&'s self, builder: &mut ViewBuilder<'s, SdkAttributes>) -> ViewHead<'s> {
        let span = &*self.data;
        let scope = &span.instrumentation_scope;
        builder.trace_state(|out| write_trace_state(span.span_context.trace_state(), out));
        builder.span_attributes(span.attributes.iter());
        builder.scope_attributes(scope.attributes());
        for event in &span.events.events {
            builder.event(
                event.name.as_ref(),
                unix_nanos(event.timestamp),
                event.attributes.iter(),
                event.dropped_attributes_count,
            );
        }
        for link in &span.links.links {
            builder.trace_state(|out| write_trace_state(link.span_context.trace_state(), out));
            builder.link(
                span_context(&link.span_context, ""),
                link.attributes.iter(),
                link.dropped_attributes_count,
            );
        }
        ViewHead {
            context: span_context(&span.span_context, ""),
            parent_span_id: SpanId(span.parent_span_id.to_bytes()),
            parent_is_remote: span.parent_span_is_remote,
            name: span.name.as_ref(),
            kind: span_kind(&span.span_kind),
            start_time_unix_nano: unix_nanos(span.start_time),
            end_time_unix_nano: unix_nanos(span.end_time),
            dropped: [
                span.dropped_attributes_count,
                span.events.dropped_count,
                span.links.dropped_count,
            ],
            status: status(&span.status),
            scope: (scope.name(), scope.version(), scope.schema_url()),
            resource: self.resource.view(),
        }
    }
}

fn status(status: &OtelStatus) -> Status<'_> {
    let (code, description) = match status {
        OtelStatus::Unset => (StatusCode::UNSET, ""),
        OtelStatus::Ok => (StatusCode::OK, ""),
        OtelStatus::Error { description } => (StatusCode::ERROR, description.as_ref()),
    };
    Status {
        code,
        description: description.into(),
    }
}

/// Calls `f` with a view of an ended span, as the processor builds it (keys made
/// unique before, by the loader).
pub fn with_span_view<R>(
    span: &mut SpanData,
    resource: &ResourceRecord,
    f: impl FnOnce(&SpanView<'_>) -> R,
) -> R {
    with_view(
        &SdkSpan {
            data: span,
            resource,
        },
        f,
    )
}

/// The SDK's resource, its attributes in a stable order: the SDK keeps them in a hash
/// map, so `telemetry.sdk.*` first (as the Python SDK writes them), then by key.
pub fn ordered_resource(resource: &OtelResource) -> ResourceRecord {
    const FIRST: [&str; 3] = [
        "telemetry.sdk.language",
        "telemetry.sdk.name",
        "telemetry.sdk.version",
    ];
    let mut attributes: Vec<OtelKeyValue> = resource
        .iter()
        .map(|(k, v)| OtelKeyValue::new(k.clone(), v.clone()))
        .collect();
    attributes.sort_by_key(|kv| {
        let key = kv.key.as_str();
        (
            FIRST.iter().position(|f| *f == key).unwrap_or(FIRST.len()),
            key.to_string(),
        )
    });
    // Through the views: the one conversion from the SDK's values.
    let attributes = with_attribute_views::<SdkAttributes, _>(&attributes, |views| {
        views
            .iter()
            .filter_map(|kv| {
                let value = OwnedValue::from_value(&kv.value)?;
                Some(Attribute::new(kv.key.as_str(), value))
            })
            .collect()
    });
    ResourceRecord::new(attributes, resource.schema_url().unwrap_or(""))
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::str::FromStr;
    use std::time::UNIX_EPOCH;

    use opentelemetry::trace::{
        Event as OtelEvent, Link as OtelLink, SpanContext as OtelSpanContext, SpanId as OtelSpanId,
        TraceFlags, TraceId as OtelTraceId,
    };
    use opentelemetry::{InstrumentationScope as OtelScope, StringValue};
    use opentelemetry_sdk::trace::{SpanEvents, SpanLinks};
    use spanplug_loader::span::test_support::{check_every_list, string_array};

    use super::*;

    fn strings(items: &[&str]) -> OtelValue {
        OtelValue::Array(Array::String(
            items
                .iter()
                .map(|s| StringValue::from(s.to_string()))
                .collect(),
        ))
    }

    fn context(span: u8, state: &str) -> OtelSpanContext {
        OtelSpanContext::new(
            OtelTraceId::from_bytes([7; 16]),
            OtelSpanId::from_bytes([span; 8]),
            TraceFlags::SAMPLED,
            false,
            TraceState::from_str(state).unwrap(),
        )
    }

    fn span() -> SpanData {
        let event = |name: &'static str, attributes| {
            let mut event = OtelEvent::with_name(name);
            event.attributes = attributes;
            event
        };
        let link = |span, state, attributes| OtelLink::new(context(span, state), attributes, 0);
        SpanData {
            span_context: context(1, "vendor=a"),
            parent_span_id: OtelSpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: OtelSpanKind::Server,
            name: Cow::Borrowed("GET /"),
            start_time: UNIX_EPOCH + std::time::Duration::from_nanos(5),
            end_time: UNIX_EPOCH + std::time::Duration::from_nanos(9),
            attributes: vec![
                OtelKeyValue::new("tags", strings(&["a", "b"])),
                OtelKeyValue::new("n", 3),
                OtelKeyValue::new("more", strings(&["c"])),
            ],
            dropped_attributes_count: 0,
            events: {
                let mut events = SpanEvents::default();
                events.events = vec![
                    event("first", vec![OtelKeyValue::new("e", strings(&["d", "e"]))]),
                    event("second", vec![]),
                    event("third", vec![OtelKeyValue::new("x", "y")]),
                ];
                events
            },
            links: {
                let mut links = SpanLinks::default();
                links.links = vec![
                    link(2, "", vec![OtelKeyValue::new("l", strings(&["f"]))]),
                    link(3, "k=v,k2=v2", vec![]),
                ];
                links
            },
            status: OtelStatus::error("bad"),
            instrumentation_scope: OtelScope::builder("lib")
                .with_attributes([OtelKeyValue::new("s", strings(&["g"]))])
                .build(),
        }
    }

    #[test]
    fn every_list_of_a_span_lands_in_its_own_view() {
        let mut data = span();
        let resource = ordered_resource(
            &OtelResource::builder_empty()
                .with_attributes([OtelKeyValue::new("service.name", "api")])
                .build(),
        );
        // Twice: the second span reuses the thread's buffers.
        for _ in 0..2 {
            with_span_view(&mut data, &resource, check_every_list);
        }
    }

    #[test]
    fn the_sdk_resource_is_ordered_telemetry_sdk_first_then_by_key() {
        let resource = ordered_resource(
            &OtelResource::builder_empty()
                .with_attributes([
                    OtelKeyValue::new("zone", "b"),
                    OtelKeyValue::new("telemetry.sdk.name", "opentelemetry"),
                    OtelKeyValue::new("tags", strings(&["x", "y"])),
                    OtelKeyValue::new("telemetry.sdk.language", "rust"),
                ])
                .build(),
        );
        let view = resource.view();
        let attributes = view.attributes.as_slice();
        let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "telemetry.sdk.language",
                "telemetry.sdk.name",
                "tags",
                "zone"
            ]
        );
        assert_eq!(string_array(&attributes[2].value), ["x", "y"]);
    }
}
