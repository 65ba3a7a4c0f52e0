//! Borrowed `plugin-api` views of `opentelemetry_sdk` data, built once per span and
//! shared by every plugin processor. Public so that benchmarks and native adapters
//! can run plugin-style processors without the `.so` boundary.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use abi_stable::std_types::RStr;
use opentelemetry::trace::{
    SpanContext as OtelSpanContext, SpanKind as OtelSpanKind, Status as OtelStatus,
};
use opentelemetry::{Array, Value as OtelValue};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource as OtelResource;
use spanplug_api::{
    Event, InstrumentationScope, KeyValue, Link, Resource, SpanContext, SpanId, SpanKind, SpanView,
    Status, StatusCode, TraceId, Value,
};
use spanplug_loader::ResourceView as _;

pub(crate) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

pub(crate) fn span_kind(kind: &OtelSpanKind) -> SpanKind {
    match kind {
        OtelSpanKind::Internal => SpanKind::INTERNAL,
        OtelSpanKind::Server => SpanKind::SERVER,
        OtelSpanKind::Client => SpanKind::CLIENT,
        OtelSpanKind::Producer => SpanKind::PRODUCER,
        OtelSpanKind::Consumer => SpanKind::CONSUMER,
    }
}

pub use spanplug_loader::chain::{count_unrepresentable, unrepresentable_values};

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

/// Element views of the string arrays among `values`, in order; string arrays are
/// the one value kind whose view needs storage of its own.
pub(crate) fn string_arrays<'a>(values: impl Iterator<Item = &'a OtelValue>) -> Vec<Vec<RStr<'a>>> {
    values
        .filter_map(|value| match value {
            OtelValue::Array(Array::String(items)) => {
                Some(items.iter().map(|s| RStr::from(s.as_str())).collect())
            }
            _ => None,
        })
        .collect()
}

/// Views of `attributes`; `arrays` comes from [`string_arrays`] over the same values.
pub(crate) fn key_values<'a>(
    attributes: impl Iterator<Item = (&'a str, &'a OtelValue)>,
    arrays: &'a [Vec<RStr<'a>>],
) -> Vec<KeyValue<'a>> {
    let mut views = Vec::new();
    push_key_values(&mut views, attributes, arrays);
    views
}

thread_local! {
    /// The span attributes' views, reused from span to span on each thread: one
    /// allocation per thread rather than one per span. Empty between uses.
    static SPAN_ATTRIBUTES: std::cell::Cell<Vec<KeyValue<'static>>> =
        const { std::cell::Cell::new(Vec::new()) };
}

/// [`key_values`] into `views`.
fn push_key_values<'a>(
    views: &mut Vec<KeyValue<'a>>,
    attributes: impl Iterator<Item = (&'a str, &'a OtelValue)>,
    arrays: &'a [Vec<RStr<'a>>],
) {
    let mut next_array = arrays.iter();
    views.extend(attributes.map(|(key, value)| KeyValue {
        key: key.into(),
        value: match value {
            OtelValue::Bool(b) => Value::from(*b),
            OtelValue::I64(i) => Value::from(*i),
            OtelValue::F64(f) => Value::from(*f),
            OtelValue::String(s) => Value::from(s.as_str()),
            OtelValue::Array(Array::Bool(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::I64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::F64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::String(_)) => {
                Value::string_array(next_array.next().map(Vec::as_slice).unwrap_or_default())
            }
            // Kinds added to the SDK after this host was written.
            _ => {
                count_unrepresentable();
                Value::UNSUPPORTED
            }
        },
    }));
}

fn otel_key_values(
    kvs: &[opentelemetry::KeyValue],
) -> impl Iterator<Item = (&str, &OtelValue)> + Clone {
    kvs.iter().map(|kv| (kv.key.as_str(), &kv.value))
}

/// The resource, converted once: attributes in a stable order (the SDK keeps them in
/// a hash map; `telemetry.sdk.*` first, as the Python SDK writes them, then by key),
/// with the borrowed view every span shares.
pub struct OrderedResource {
    /// Views into `_attributes`, `_string_arrays` and `schema_url`, built once.
    view: Vec<KeyValue<'static>>,
    /// Owns the element views of string-array attributes that `view` points at.
    _string_arrays: Vec<Vec<RStr<'static>>>,
    schema_url: Arc<str>,
    /// Owns the attributes `view` points at; read only through `view`.
    _attributes: Arc<[opentelemetry::KeyValue]>,
}

impl spanplug_loader::factory::ResourceView for OrderedResource {
    /// The view, borrowed for as long as `self`.
    fn view(&self) -> Resource<'_> {
        Resource {
            attributes: self.view.as_slice().into(),
            schema_url: (*self.schema_url).into(),
        }
    }
}

pub fn ordered_resource(resource: &OtelResource) -> OrderedResource {
    const FIRST: [&str; 3] = [
        "telemetry.sdk.language",
        "telemetry.sdk.name",
        "telemetry.sdk.version",
    ];
    let mut attributes: Vec<opentelemetry::KeyValue> = resource
        .iter()
        .map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone()))
        .collect();
    attributes.sort_by_key(|kv| {
        let key = kv.key.as_str();
        (
            FIRST.iter().position(|f| *f == key).unwrap_or(FIRST.len()),
            key.to_string(),
        )
    });
    let attributes: Arc<[opentelemetry::KeyValue]> = attributes.into();
    let schema_url: Arc<str> = resource.schema_url().unwrap_or("").into();
    // SAFETY: the views point into heap memory this struct owns and never mutates:
    // the `Arc` allocation of `attributes` (and the strings inside it) and the element
    // buffers of `string_arrays`, none of which move when the struct moves. They are
    // only lent out through `view(&self)`, so they never outlive that memory.
    let stable: &'static [opentelemetry::KeyValue] = unsafe { &*Arc::as_ptr(&attributes) };
    let string_arrays = string_arrays(stable.iter().map(|kv| &kv.value));
    let arrays: &'static [Vec<RStr<'static>>] =
        unsafe { &*(string_arrays.as_slice() as *const [Vec<RStr<'static>>]) };
    let view = key_values(otel_key_values(stable), arrays);
    OrderedResource {
        view,
        _string_arrays: string_arrays,
        schema_url,
        _attributes: attributes,
    }
}

/// Calls `f` with a view of an ended span.
pub fn with_span_view<R>(
    span: &SpanData,
    resource: &OrderedResource,
    f: impl FnOnce(&SpanView<'_>) -> R,
) -> R {
    let resource_view = resource.view();

    let scope = &span.instrumentation_scope;
    // Most spans have no scope attributes, events or links: those cost nothing then.
    let scope_arrays = string_arrays(scope.attributes().map(|kv| &kv.value));
    let scope_attributes = key_values(
        scope.attributes().map(|kv| (kv.key.as_str(), &kv.value)),
        &scope_arrays,
    );
    let scope_view = InstrumentationScope {
        name: scope.name().into(),
        version: scope.version().map(RStr::from).into(),
        schema_url: scope.schema_url().map(RStr::from).into(),
        attributes: scope_attributes.as_slice().into(),
    };

    let span_arrays = string_arrays(span.attributes.iter().map(|kv| &kv.value));
    // Taken from the thread (a nested call finds it empty and allocates its own).
    let mut span_attributes: Vec<KeyValue<'_>> = SPAN_ATTRIBUTES.take();
    push_key_values(
        &mut span_attributes,
        otel_key_values(&span.attributes),
        &span_arrays,
    );

    let events = &span.events.events;
    let event_arrays: Vec<_> = events
        .iter()
        .map(|e| string_arrays(e.attributes.iter().map(|kv| &kv.value)))
        .collect();
    let event_attributes: Vec<_> = events
        .iter()
        .zip(&event_arrays)
        .map(|(e, arrays)| key_values(otel_key_values(&e.attributes), arrays))
        .collect();
    let event_views: Vec<Event<'_>> = events
        .iter()
        .zip(&event_attributes)
        .map(|(e, attributes)| Event {
            name: e.name.as_ref().into(),
            time_unix_nano: unix_nanos(e.timestamp),
            attributes: attributes.as_slice().into(),
            dropped_attributes_count: e.dropped_attributes_count,
        })
        .collect();

    let links = &span.links.links;
    let link_states: Vec<String> = links
        .iter()
        .map(|l| l.span_context.trace_state().header())
        .collect();
    let link_arrays: Vec<_> = links
        .iter()
        .map(|l| string_arrays(l.attributes.iter().map(|kv| &kv.value)))
        .collect();
    let link_attributes: Vec<_> = links
        .iter()
        .zip(&link_arrays)
        .map(|(l, arrays)| key_values(otel_key_values(&l.attributes), arrays))
        .collect();
    let link_views: Vec<Link<'_>> = links
        .iter()
        .zip(link_states.iter().zip(&link_attributes))
        .map(|(l, (state, attributes))| Link {
            context: span_context(&l.span_context, state),
            attributes: attributes.as_slice().into(),
            dropped_attributes_count: l.dropped_attributes_count,
        })
        .collect();

    let trace_state = span.span_context.trace_state().header();
    let status = match &span.status {
        OtelStatus::Unset => Status {
            code: StatusCode::UNSET,
            description: RStr::from(""),
        },
        OtelStatus::Ok => Status {
            code: StatusCode::OK,
            description: RStr::from(""),
        },
        OtelStatus::Error { description } => Status {
            code: StatusCode::ERROR,
            description: description.as_ref().into(),
        },
    };
    let view = SpanView {
        context: span_context(&span.span_context, &trace_state),
        parent_span_id: SpanId(span.parent_span_id.to_bytes()),
        parent_is_remote: span.parent_span_is_remote,
        name: span.name.as_ref().into(),
        kind: span_kind(&span.span_kind),
        start_time_unix_nano: unix_nanos(span.start_time),
        end_time_unix_nano: unix_nanos(span.end_time),
        attributes: span_attributes.as_slice().into(),
        dropped_attributes_count: span.dropped_attributes_count,
        events: event_views.as_slice().into(),
        dropped_events_count: span.events.dropped_count,
        links: link_views.as_slice().into(),
        dropped_links_count: span.links.dropped_count,
        status,
        resource: &resource_view,
        scope: &scope_view,
        flags: 0,
    };
    let result = f(&view);
    span_attributes.clear();
    // SAFETY: the vector is empty, so no view of this span's data outlives it; only
    // its allocation goes back to the thread for the next span.
    let empty: Vec<KeyValue<'static>> = unsafe { std::mem::transmute(span_attributes) };
    SPAN_ATTRIBUTES.set(empty);
    result
}
