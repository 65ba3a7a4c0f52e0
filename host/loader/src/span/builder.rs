//! The per-thread view builder: a span's views are built in one pass per list into
//! buffers each thread reuses from span to span, so a span costs no heap allocation
//! once a thread has seen a span of its shape; nothing is built for empty lists.

use std::cell::RefCell;
use std::marker::PhantomData;

use abi_stable::std_types::{RSlice, RStr};
use spanplug_api::{
    Event, InstrumentationScope, KeyValue, Link, Resource, SpanContext, SpanId, SpanKind, SpanView,
    SpanViewExt, SpanViewExtStorage, Status,
};

use super::attributes::{point_string_arrays, AttributeType, AttributeViews};

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

    /// The `index`th header pushed.
    #[inline(always)]
    fn get(&self, index: usize) -> &str {
        let start = index.checked_sub(1).map_or(0, |i| self.ends[i]);
        &self.text[start..self.ends[index]]
    }
}

/// Buffers each thread reuses for the views of one span at a time. The views they
/// hold between spans are stale (their lifetime here is a stand-in): [`relabel`]
/// empties a buffer before lending it out with the lifetime of the span at hand.
struct Scratch {
    arrays: Vec<(usize, usize)>,
    /// Element views of every string-array attribute, in `arrays`' order.
    elements: Vec<RStr<'static>>,
    /// The span's `tracestate` header, then each link's.
    trace_states: TraceStates,
    /// Attribute views: the span's, then the scope's, each event's, each link's.
    attributes: Vec<KeyValue<'static>>,
    /// Where each event's and link's attributes end in `attributes`.
    ends: Vec<usize>,
    events: Vec<Event<'static>>,
    links: Vec<Link<'static>>,
}

impl Scratch {
    const EMPTY: Self = Scratch {
        arrays: Vec::new(),
        elements: Vec::new(),
        trace_states: TraceStates::EMPTY,
        attributes: Vec::new(),
        ends: Vec::new(),
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
pub fn reserve_view_buffers() {
    with_scratch(|scratch| {
        scratch.arrays.reserve(RESERVED_VIEWS / 4);
        scratch.elements.reserve(RESERVED_VIEWS);
        scratch.trace_states.text.reserve(RESERVED_VIEWS * 8);
        scratch.trace_states.ends.reserve(RESERVED_VIEWS / 4);
        scratch.attributes.reserve(RESERVED_VIEWS);
        scratch.ends.reserve(RESERVED_VIEWS / 4);
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

/// Calls `f` with views of `attributes` (a starting span's).
pub fn with_attribute_views<T: AttributeType, R>(
    attributes: &[T::Attribute],
    f: impl FnOnce(&[KeyValue<'_>]) -> R,
) -> R {
    with_scratch(|scratch| {
        scratch.arrays.clear();
        // SAFETY: relabel's contract: each buffer holds this very type with `'static`
        // for the borrow of `attributes` (`Copy` elements); relabel empties it, and
        // the views pushed here are read only inside this closure.
        let (elements, views) = unsafe {
            (
                relabel(&mut scratch.elements),
                relabel(&mut scratch.attributes),
            )
        };
        let mut pushing = AttributeViews {
            views,
            arrays: &mut scratch.arrays,
            elements,
        };
        pushing.extend::<T>(attributes.iter());
        let AttributeViews {
            views,
            arrays,
            elements,
        } = pushing;
        point_string_arrays(views, arrays, elements);
        f(views)
    })
}

/// The fields of a span that are not lists, from its source.
#[derive(Clone, Copy, Debug)]
pub struct ViewHead<'s> {
    /// The span's context; its `trace_state` is the first one the source pushed.
    pub context: SpanContext<'s>,
    /// `SpanId::INVALID` for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process.
    pub parent_is_remote: bool,
    /// The span's name.
    pub name: &'s str,
    /// Server, client, ...
    pub kind: SpanKind,
    /// Unix nanoseconds.
    pub start_time_unix_nano: u64,
    /// Unix nanoseconds.
    pub end_time_unix_nano: u64,
    /// Dropped over the SDK's limits: attributes, events, links.
    pub dropped: [u32; 3],
    /// The span's status.
    pub status: Status<'s>,
    /// The scope's name, version and schema URL (its attributes are pushed).
    pub scope: (&'s str, Option<&'s str>, Option<&'s str>),
    /// The resource the span carries.
    pub resource: Resource<'s>,
}

/// What a [`SpanSource`](super::SpanSource) pushes a span's lists into, in this
/// order: its `tracestate`, its attributes, its scope's, then each event and link.
pub struct ViewBuilder<'s, T> {
    attributes: AttributeViews<'s, 's>,
    /// Where the span's attributes end, and the scope's.
    span_end: usize,
    scope_end: usize,
    /// Where each event's attributes end, then each link's.
    ends: &'s mut Vec<usize>,
    trace_states: &'s mut TraceStates,
    events: &'s mut Vec<Event<'s>>,
    links: &'s mut Vec<Link<'s>>,
    attribute_type: PhantomData<T>,
}

impl<T> std::fmt::Debug for ViewBuilder<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewBuilder")
            .field("attributes", &self.attributes.views.len())
            .field("events", &self.events.len())
            .field("links", &self.links.len())
            .finish()
    }
}

impl std::fmt::Debug for TraceStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

// The bound every list method needs: the attributes outlive the views built of them.
impl<'s, T: AttributeType> ViewBuilder<'s, T>
where
    T::Attribute: 's,
{
    /// Writes a `tracestate` header (the span's first, then each link's, before it).
    #[inline]
    pub fn trace_state(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.trace_states.text);
        self.trace_states.ends.push(self.trace_states.text.len());
    }

    /// Pushes the span's attributes (first).
    #[inline(always)]
    pub fn span_attributes(&mut self, list: impl Iterator<Item = &'s T::Attribute>) {
        self.span_end = self.push(list);
    }

    /// Pushes the scope's attributes (second).
    #[inline(always)]
    pub fn scope_attributes(&mut self, list: impl Iterator<Item = &'s T::Attribute>) {
        self.scope_end = self.push(list);
    }

    /// Pushes a list of attributes; returns where it ends.
    #[inline(always)]
    fn push(&mut self, list: impl Iterator<Item = &'s T::Attribute>) -> usize {
        self.attributes.extend::<T>(list);
        self.attributes.views.len()
    }

    /// Pushes an event's or a link's attributes and notes where they end; returns the
    /// empty slice `finish` replaces with them.
    #[inline(always)]
    fn push_nested(
        &mut self,
        attributes: impl Iterator<Item = &'s T::Attribute>,
    ) -> RSlice<'s, KeyValue<'s>> {
        let end = self.push(attributes);
        self.ends.push(end);
        RSlice::default()
    }

    /// Pushes an event and its attributes.
    pub fn event(
        &mut self,
        name: &'s str,
        time_unix_nano: u64,
        attributes: impl Iterator<Item = &'s T::Attribute>,
        dropped_attributes_count: u32,
    ) {
        let attributes = self.push_nested(attributes);
        self.events.push(Event {
            name: name.into(),
            time_unix_nano,
            attributes,
            dropped_attributes_count,
        });
    }

    /// Pushes a link and its attributes; its `tracestate` is the next one pushed after
    /// the span's.
    pub fn link(
        &mut self,
        context: SpanContext<'s>,
        attributes: impl Iterator<Item = &'s T::Attribute>,
        dropped_attributes_count: u32,
    ) {
        let attributes = self.push_nested(attributes);
        self.links.push(Link {
            context,
            attributes,
            dropped_attributes_count,
        });
    }

    /// Completes the views and calls `f` with the span's.
    #[inline(always)]
    fn finish<R>(self, head: ViewHead<'s>, f: impl FnOnce(&SpanView<'_>) -> R) -> R {
        let ViewBuilder {
            attributes: pushed,
            span_end,
            scope_end,
            ends,
            trace_states,
            events,
            links,
            ..
        } = self;
        let AttributeViews {
            views,
            arrays,
            elements,
        } = pushed;
        if !arrays.is_empty() {
            point_string_arrays(views, arrays, elements);
        }
        let views: &'s [KeyValue<'s>] = views;
        let trace_states: &'s TraceStates = trace_states;
        // The `index`th event's or link's attributes.
        let list = |index: usize| {
            let start = index.checked_sub(1).map_or(scope_end, |i| ends[i]);
            &views[start..ends[index]]
        };
        for (index, event) in events.iter_mut().enumerate() {
            event.attributes = list(index).into();
        }
        for (index, link) in links.iter_mut().enumerate() {
            link.attributes = list(index + events.len()).into();
            link.context.trace_state = trace_states.get(index + 1).into();
        }
        let (name, version, schema_url) = head.scope;
        let scope = InstrumentationScope {
            name: name.into(),
            version: version.map(RStr::from).into(),
            schema_url: schema_url.map(RStr::from).into(),
            attributes: views[span_end..scope_end].into(),
        };
        let extension = SpanViewExtStorage::new(SpanViewExt::current());
        let mut context = head.context;
        context.trace_state = trace_states.get(0).into();
        let view = SpanView {
            context,
            parent_span_id: head.parent_span_id,
            parent_is_remote: head.parent_is_remote,
            name: head.name.into(),
            kind: head.kind,
            start_time_unix_nano: head.start_time_unix_nano,
            end_time_unix_nano: head.end_time_unix_nano,
            attributes: views[..span_end].into(),
            dropped_attributes_count: head.dropped[0],
            events: events.as_slice().into(),
            dropped_events_count: head.dropped[1],
            links: links.as_slice().into(),
            dropped_links_count: head.dropped[2],
            status: head.status,
            resource: &head.resource,
            scope: &scope,
            flags: 0,
            extension: extension.table(),
        };
        f(&view)
    }
}

/// Calls `f` with a view of `span`, built in this thread's buffers.
#[inline]
pub fn with_view<S: super::SpanSource + ?Sized, R>(
    span: &S,
    f: impl FnOnce(&SpanView<'_>) -> R,
) -> R {
    with_scratch(|scratch| {
        scratch.arrays.clear();
        scratch.ends.clear();
        scratch.trace_states.text.clear();
        scratch.trace_states.ends.clear();
        // SAFETY: relabel's contract: each buffer holds this very type with `'static`
        // for the borrow of `span` (`Copy` elements); relabel empties it, and the
        // views pushed here are read only inside this closure, while `span` is
        // borrowed.
        let (elements, views, events, links) = unsafe {
            (
                relabel(&mut scratch.elements),
                relabel(&mut scratch.attributes),
                relabel(&mut scratch.events),
                relabel(&mut scratch.links),
            )
        };
        let mut builder = ViewBuilder {
            attributes: AttributeViews {
                views,
                arrays: &mut scratch.arrays,
                elements,
            },
            span_end: 0,
            scope_end: 0,
            ends: &mut scratch.ends,
            trace_states: &mut scratch.trace_states,
            events,
            links,
            attribute_type: PhantomData,
        };
        let head = span.build(&mut builder);
        builder.finish(head, f)
    })
}
