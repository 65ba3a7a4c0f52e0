//! Borrowed `plugin-api` views of `opentelemetry_sdk` data, built once per span and
//! shared by every plugin processor. Public so that benchmarks and native adapters
//! can run plugin-style processors without the `.so` boundary.
//!
//! A view is built in one pass per list into buffers each thread reuses from span
//! to span ([`Scratch`]), so a span costs no heap allocation once a thread has seen
//! a span of its shape; nothing is built for lists that are empty.

use std::cell::RefCell;
use std::sync::Arc;

use abi_stable::std_types::RStr;
use opentelemetry::trace::{
    SpanContext as OtelSpanContext, SpanKind as OtelSpanKind, Status as OtelStatus, TraceState,
};
use opentelemetry::{Array, KeyValue as OtelKeyValue, StringValue, Value as OtelValue};
use opentelemetry_sdk::trace::SpanData;
use opentelemetry_sdk::Resource as OtelResource;
use spanplug_api::{
    Event, InstrumentationScope, KeyValue, Link, Resource, SpanContext, SpanId, SpanKind, SpanView,
    SpanViewExt, SpanViewExtStorage, Status, StatusCode, TraceId, Value,
};
use spanplug_loader::ResourceView as _;

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

/// Where the string-array attributes among pushed views are: a view's index and the
/// array. Their element views need a buffer of their own, complete before any view
/// can borrow it, so they are filled in after every list is pushed
/// ([`fill_string_arrays`]); most spans have none.
type StringArrays<'a> = Vec<(usize, &'a [StringValue])>;

/// Appends views of `attributes` to `views`; a string array gets a placeholder and
/// an entry in `arrays`.
#[inline(always)]
fn push_attributes<'s>(
    views: &mut Vec<KeyValue<'s>>,
    arrays: &mut StringArrays<'s>,
    attributes: impl Iterator<Item = &'s OtelKeyValue>,
) {
    for kv in attributes {
        let value = match &kv.value {
            OtelValue::Bool(b) => Value::from(*b),
            OtelValue::I64(i) => Value::from(*i),
            OtelValue::F64(f) => Value::from(*f),
            OtelValue::String(s) => Value::from(s.as_str()),
            OtelValue::Array(Array::Bool(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::I64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::F64(items)) => Value::from(items.as_slice()),
            OtelValue::Array(Array::String(items)) => {
                arrays.push((views.len(), items.as_slice()));
                Value::UNSUPPORTED
            }
            // Kinds added to the SDK after this host was written.
            _ => {
                count_unrepresentable();
                Value::UNSUPPORTED
            }
        };
        views.push(KeyValue {
            key: kv.key.as_str().into(),
            value,
        });
    }
}

/// Gives the string arrays among `views` (recorded in `arrays`) their element views,
/// which go into `elements`.
fn fill_string_arrays<'s>(
    views: &mut [KeyValue<'s>],
    arrays: &[(usize, &'s [StringValue])],
    elements: &'s mut Vec<RStr<'s>>,
) {
    elements.extend(array_elements(arrays));
    point_string_arrays(views, arrays, elements);
}

/// The element views of every array in `arrays`, one array after another.
fn array_elements<'a, 's>(
    arrays: &'a [(usize, &'s [StringValue])],
) -> impl Iterator<Item = RStr<'s>> + use<'a, 's> {
    arrays
        .iter()
        .flat_map(|(_, items)| items.iter().map(|s| RStr::from(s.as_str())))
}

/// Points each string array among `views` at its run of `elements`, which holds
/// [`array_elements`] of `arrays`.
fn point_string_arrays<'s>(
    views: &mut [KeyValue<'s>],
    arrays: &[(usize, &'s [StringValue])],
    elements: &'s [RStr<'s>],
) {
    let mut start = 0;
    for &(index, items) in arrays {
        let end = start + items.len();
        views[index].value = Value::string_array(&elements[start..end]);
        start = end;
    }
}

/// Rendered `tracestate` headers, one after another.
#[derive(Default)]
struct TraceStates {
    text: String,
    /// Where each header in `text` ends.
    ends: Vec<usize>,
}

impl TraceStates {
    const EMPTY: Self = TraceStates {
        text: String::new(),
        ends: Vec::new(),
    };

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    #[inline]
    fn push(&mut self, state: &TraceState) {
        // Most spans carry none: no rendering, no allocation.
        if *state != TraceState::NONE {
            self.text.push_str(&state.header());
        }
        self.ends.push(self.text.len());
    }

    /// The `index`th header pushed.
    fn get(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        &self.text[start..self.ends[index]]
    }
}

/// Buffers each thread reuses for the views of one span at a time, so a span costs
/// no allocation once its thread has seen one of its shape. The views they hold
/// between spans are stale (their lifetime here is a stand-in): [`relabel`] empties
/// a buffer before lending it out with the lifetime of the span at hand.
struct Scratch {
    /// Where the string arrays among `attributes` are.
    string_arrays: StringArrays<'static>,
    /// Element views of every string-array attribute, in `string_arrays`' order.
    elements: Vec<RStr<'static>>,
    /// The span's `tracestate` header, then each link's.
    trace_states: TraceStates,
    /// Attribute views: the span's, then the scope's, each event's, each link's.
    attributes: Vec<KeyValue<'static>>,
    events: Vec<Event<'static>>,
    links: Vec<Link<'static>>,
}

impl Scratch {
    const EMPTY: Self = Scratch {
        string_arrays: Vec::new(),
        elements: Vec::new(),
        trace_states: TraceStates::EMPTY,
        attributes: Vec::new(),
        events: Vec::new(),
        links: Vec::new(),
    };
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::EMPTY) };
}

/// Room for views of spans this large before a buffer grows.
const RESERVED_VIEWS: usize = 64;

/// Gives this thread's buffers room up front, so that they are not allocated (and
/// grown) in between the allocations of the spans they view.
pub(crate) fn reserve_buffers() {
    with_scratch(|scratch| {
        scratch.string_arrays.reserve(RESERVED_VIEWS / 4);
        scratch.elements.reserve(RESERVED_VIEWS);
        scratch.trace_states.text.reserve(RESERVED_VIEWS * 8);
        scratch.trace_states.ends.reserve(RESERVED_VIEWS / 4);
        scratch.attributes.reserve(RESERVED_VIEWS);
        scratch.events.reserve(RESERVED_VIEWS / 4);
        scratch.links.reserve(RESERVED_VIEWS / 4);
    });
}

/// Calls `f` with this thread's buffers; a view built while another is lent out (a
/// nested call) gets buffers of its own.
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => {
            let mut own = Scratch::EMPTY;
            f(&mut own)
        }
    })
}

/// `buffer`, emptied, as a buffer of views with the lifetime the caller needs.
///
/// # Safety
/// `A` and `B` must be the same type but for lifetimes. Stale views are never read:
/// the buffer is emptied here before every use, and `A: Copy` has no drop glue.
unsafe fn relabel<A: Copy, B>(buffer: &mut Vec<A>) -> &mut Vec<B> {
    buffer.clear();
    // SAFETY: the caller's promise: same type, so the same layout.
    unsafe { &mut *std::ptr::from_mut(buffer).cast::<Vec<B>>() }
}

/// Calls `f` with views of `attributes` (an `on_start` span's).
pub(crate) fn with_attribute_views<R>(
    attributes: &[OtelKeyValue],
    f: impl FnOnce(&[KeyValue<'_>]) -> R,
) -> R {
    with_scratch(|scratch| {
        // SAFETY: relabel's contract: each buffer holds this very type with `'static`
        // for the borrow of `attributes` (and `Copy` element types); relabel empties
        // it, and the views pushed here are read only inside this closure, while
        // `attributes` is borrowed.
        let relabelled = unsafe {
            (
                relabel(&mut scratch.string_arrays),
                relabel(&mut scratch.elements),
                relabel(&mut scratch.attributes),
            )
        };
        let (arrays, elements, views): (
            &mut StringArrays<'_>,
            &mut Vec<RStr<'_>>,
            &mut Vec<KeyValue<'_>>,
        ) = relabelled;
        push_attributes(views, arrays, attributes.iter());
        if !arrays.is_empty() {
            fill_string_arrays(views, arrays, elements);
        }
        f(views)
    })
}

/// The resource, converted once: attributes in a stable order (the SDK keeps them in
/// a hash map; `telemetry.sdk.*` first, as the Python SDK writes them, then by key),
/// with the borrowed view every span shares.
pub struct OrderedResource {
    /// Views into `_attributes`, `_elements` and `schema_url`, built once.
    view: Vec<KeyValue<'static>>,
    /// Owns the element views of string-array attributes that `view` points at.
    _elements: Box<[RStr<'static>]>,
    schema_url: Arc<str>,
    /// Owns the attributes `view` points at; read only through `view`.
    _attributes: Arc<[OtelKeyValue]>,
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

/// The SDK's resource with its attributes in a stable order (see [`OrderedResource`]).
pub fn ordered_resource(resource: &OtelResource) -> OrderedResource {
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
    resource_in_order(attributes, resource.schema_url().unwrap_or(""))
}

/// A resource whose attributes are taken in the order given (a front end whose SDK
/// keeps the order, as Python's does).
pub fn resource_in_order(attributes: Vec<OtelKeyValue>, schema_url: &str) -> OrderedResource {
    let attributes: Arc<[OtelKeyValue]> = attributes.into();
    let schema_url: Arc<str> = schema_url.into();
    // SAFETY: the views point into heap memory this struct owns and never mutates:
    // the `Arc` allocation of `attributes` (and the strings inside it) and the boxed
    // element views, neither of which moves when the struct moves. They are only
    // lent out through `view(&self)`, so they never outlive that memory.
    let stable: &'static [OtelKeyValue] = unsafe { &*Arc::as_ptr(&attributes) };
    let mut view = Vec::with_capacity(stable.len());
    let mut arrays = Vec::new();
    push_attributes(&mut view, &mut arrays, stable.iter());
    let elements: Box<[RStr<'static>]> = array_elements(&arrays).collect();
    // SAFETY: as for `stable` above: the boxed slice's heap allocation is owned by the
    // returned struct (`_elements`), never mutated, and does not move with the box;
    // its views point into `stable`. They are lent out only through `view(&self)`.
    let element_views: &'static [RStr<'static>] = unsafe { &*std::ptr::from_ref(&*elements) };
    point_string_arrays(&mut view, &arrays, element_views);
    OrderedResource {
        view,
        _elements: elements,
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
    let scope = &span.instrumentation_scope;
    let events = &span.events.events;
    let links = &span.links.links;
    with_scratch(|scratch| {
        // SAFETY: relabel's contract: each buffer holds this very type with `'static`
        // for the borrows of `span` and `resource` (and `Copy` element types);
        // relabel empties it, and the views pushed here are read only inside this
        // closure, while `span` and `resource` are borrowed.
        let relabelled = unsafe {
            (
                relabel(&mut scratch.string_arrays),
                relabel(&mut scratch.elements),
                relabel(&mut scratch.attributes),
                relabel(&mut scratch.events),
                relabel(&mut scratch.links),
            )
        };
        let (arrays, elements, attributes, event_views, link_views): (
            &mut StringArrays<'_>,
            &mut Vec<RStr<'_>>,
            &mut Vec<KeyValue<'_>>,
            &mut Vec<Event<'_>>,
            &mut Vec<Link<'_>>,
        ) = relabelled;
        let trace_states = &mut scratch.trace_states;

        // First what views point into: the `tracestate` headers.
        trace_states.clear();
        trace_states.push(span.span_context.trace_state());
        for link in links {
            trace_states.push(link.span_context.trace_state());
        }

        // Every list's attributes into one buffer, then the string arrays' elements.
        push_attributes(attributes, arrays, span.attributes.iter());
        let span_attributes = attributes.len();
        push_attributes(attributes, arrays, scope.attributes());
        let scope_attributes = attributes.len();
        for event in events {
            push_attributes(attributes, arrays, event.attributes.iter());
        }
        for link in links {
            push_attributes(attributes, arrays, link.attributes.iter());
        }
        if !arrays.is_empty() {
            fill_string_arrays(attributes, arrays, elements);
        }

        // Events and links over slices of that buffer.
        let mut rest = &attributes[scope_attributes..];
        for event in events {
            let (own, after) = rest.split_at(event.attributes.len());
            rest = after;
            event_views.push(Event {
                name: event.name.as_ref().into(),
                time_unix_nano: unix_nanos(event.timestamp),
                attributes: own.into(),
                dropped_attributes_count: event.dropped_attributes_count,
            });
        }
        for (index, link) in links.iter().enumerate() {
            let (own, after) = rest.split_at(link.attributes.len());
            rest = after;
            link_views.push(Link {
                context: span_context(&link.span_context, trace_states.get(index + 1)),
                attributes: own.into(),
                dropped_attributes_count: link.dropped_attributes_count,
            });
        }

        let scope_view = InstrumentationScope {
            name: scope.name().into(),
            version: scope.version().map(RStr::from).into(),
            schema_url: scope.schema_url().map(RStr::from).into(),
            attributes: attributes[span_attributes..scope_attributes].into(),
        };
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
        let resource_view = resource.view();
        let extension = SpanViewExtStorage::new(SpanViewExt::current());
        let view = SpanView {
            context: span_context(&span.span_context, trace_states.get(0)),
            parent_span_id: SpanId(span.parent_span_id.to_bytes()),
            parent_is_remote: span.parent_span_is_remote,
            name: span.name.as_ref().into(),
            kind: span_kind(&span.span_kind),
            start_time_unix_nano: unix_nanos(span.start_time),
            end_time_unix_nano: unix_nanos(span.end_time),
            attributes: attributes[..span_attributes].into(),
            dropped_attributes_count: span.dropped_attributes_count,
            events: event_views.as_slice().into(),
            dropped_events_count: span.events.dropped_count,
            links: link_views.as_slice().into(),
            dropped_links_count: span.links.dropped_count,
            status,
            resource: &resource_view,
            scope: &scope_view,
            flags: 0,
            extension: extension.table(),
        };
        f(&view)
    })
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
    use spanplug_api::ValueRef;

    use super::*;

    fn strings(items: &[&str]) -> OtelValue {
        OtelValue::Array(Array::String(
            items
                .iter()
                .map(|s| StringValue::from(s.to_string()))
                .collect(),
        ))
    }

    fn context(span: u64, state: &str) -> OtelSpanContext {
        OtelSpanContext::new(
            OtelTraceId::from(7),
            OtelSpanId::from(span),
            TraceFlags::SAMPLED,
            false,
            TraceState::from_str(state).unwrap(),
        )
    }

    fn array(value: &Value<'_>) -> Vec<String> {
        match value.get() {
            ValueRef::StringArray(items) => items.iter().map(|s| s.to_string()).collect(),
            other => panic!("not a string array: {other:?}"),
        }
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
        let data = span();
        let resource = ordered_resource(&OtelResource::builder_empty().build());
        // Twice: the second span reuses the thread's buffers.
        for _ in 0..2 {
            with_span_view(&data, &resource, |view| {
                assert_eq!(view.context.trace_state.as_str(), "vendor=a");
                let attributes = view.attributes.as_slice();
                assert_eq!(attributes.len(), 3);
                assert_eq!(array(&attributes[0].value), ["a", "b"]);
                assert!(matches!(attributes[1].value.get(), ValueRef::I64(3)));
                assert_eq!(array(&attributes[2].value), ["c"]);
                let scope = view.scope.attributes.as_slice();
                assert_eq!(scope[0].key.as_str(), "s");
                assert_eq!(array(&scope[0].value), ["g"]);
                let events = view.events.as_slice();
                assert_eq!(events.len(), 3);
                assert_eq!(array(&events[0].attributes.as_slice()[0].value), ["d", "e"]);
                assert!(events[1].attributes.is_empty());
                assert_eq!(events[2].name.as_str(), "third");
                assert_eq!(events[2].attributes.as_slice()[0].value.as_str(), Some("y"));
                let links = view.links.as_slice();
                assert_eq!(links[0].context.trace_state.as_str(), "");
                assert_eq!(array(&links[0].attributes.as_slice()[0].value), ["f"]);
                assert_eq!(links[1].context.trace_state.as_str(), "k=v,k2=v2");
                assert!(links[1].attributes.is_empty());
                assert_eq!(view.status.description.as_str(), "bad");
                assert_eq!(view.end_time_unix_nano - view.start_time_unix_nano, 4);
            });
        }
    }

    #[test]
    fn a_resource_keeps_its_string_arrays_in_order() {
        let resource = resource_in_order(
            vec![
                OtelKeyValue::new("a", strings(&["x", "y"])),
                OtelKeyValue::new("n", 1),
                OtelKeyValue::new("b", strings(&["z"])),
            ],
            "",
        );
        let view = resource.view();
        let attributes = view.attributes.as_slice();
        assert_eq!(array(&attributes[0].value), ["x", "y"]);
        assert!(matches!(attributes[1].value.get(), ValueRef::I64(1)));
        assert_eq!(array(&attributes[2].value), ["z"]);
    }

    #[test]
    fn a_view_built_inside_another_gets_buffers_of_its_own() {
        let outer = span();
        let mut inner = span();
        inner.attributes = vec![OtelKeyValue::new("inner", strings(&["z"]))];
        let resource = ordered_resource(&OtelResource::builder_empty().build());
        with_span_view(&outer, &resource, |view| {
            with_span_view(&inner, &resource, |nested| {
                assert_eq!(array(&nested.attributes.as_slice()[0].value), ["z"]);
            });
            assert_eq!(array(&view.attributes.as_slice()[0].value), ["a", "b"]);
        });
    }
}
