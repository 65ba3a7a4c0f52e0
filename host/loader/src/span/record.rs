//! The owned span record a front end without a Rust SDK fills (the Python bridge):
//! `spanplug-api`'s owned values, times as Unix nanoseconds, `tracestate` as the
//! header it arrived as. Views are built over it as over a borrowed SDK span.

use std::cell::RefCell;
use std::sync::Arc;

use spanplug_api::{OwnedValue, SpanId, SpanKind, StatusCode, TraceId};

use super::resource::ResourceRecord;

/// An attribute: a key (shared between spans, see [`intern`]) and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The attribute's key.
    pub key: Arc<str>,
    /// The attribute's value.
    pub value: OwnedValue,
}

impl Attribute {
    /// An attribute with its key shared with its last use on this thread ([`intern`]).
    pub fn new(key: &str, value: impl Into<OwnedValue>) -> Self {
        Attribute {
            key: intern(key),
            value: value.into(),
        }
    }
}

/// A span's identity (or a linked span's).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContextRecord {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span's own id.
    pub span_id: SpanId,
    /// W3C trace flags; bit 0 is "sampled".
    pub trace_flags: u8,
    /// Whether the context was propagated from another process.
    pub is_remote: bool,
    /// The `tracestate` header as the front end has it; empty when there is none.
    pub trace_state: String,
}

/// An event recorded during a span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventRecord {
    /// The event's name.
    pub name: String,
    /// Unix nanoseconds when it was recorded.
    pub time_unix_nano: u64,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
}

/// A link to another span.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkRecord {
    /// The linked span's context.
    pub context: ContextRecord,
    /// The link's attributes.
    pub attributes: Vec<Attribute>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
}

/// The library that made a span; a tracer's is shared by all its spans.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScopeRecord {
    /// The scope's name.
    pub name: String,
    /// Its version, if the tracer was given one.
    pub version: Option<String>,
    /// Its schema URL, if any.
    pub schema_url: Option<String>,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A span as a front end copied it: what [`with_view`](super::with_view) lends a
/// view of, and [`Stages::on_end_span`](crate::Stages::on_end_span) runs the
/// processors over.
#[derive(Clone, Debug)]
pub struct SpanRecord {
    /// The span's identity.
    pub context: ContextRecord,
    /// `SpanId::INVALID` for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent came from another process.
    pub parent_is_remote: bool,
    /// The span's name.
    pub name: String,
    /// Server, client, ...
    pub kind: SpanKind,
    /// Unix nanoseconds when the span started.
    pub start_time_unix_nano: u64,
    /// Unix nanoseconds when it ended (its start, for a starting span).
    pub end_time_unix_nano: u64,
    /// Its attributes; keys set twice are made unique before it is viewed.
    pub attributes: Vec<Attribute>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
    /// Its events, in order.
    pub events: Vec<EventRecord>,
    /// Events the SDK discarded over its limits.
    pub dropped_events_count: u32,
    /// Its links.
    pub links: Vec<LinkRecord>,
    /// Links the SDK discarded over its limits.
    pub dropped_links_count: u32,
    /// Unset, ok or error.
    pub status_code: StatusCode,
    /// For errors, why.
    pub status_description: String,
    /// The tracer's scope.
    pub scope: Arc<ScopeRecord>,
    /// The resource of the provider that made the span.
    pub resource: Arc<ResourceRecord>,
}

/// How many recent strings each thread keeps for reuse.
const INTERNED_STRINGS: usize = 32;

thread_local! {
    /// Attribute keys (and values `on_start` processors set) repeat from span to span
    /// (`http.route`, `request_id`, ...): sharing them saves an allocation and a copy
    /// per attribute per span.
    static RECENT_STRINGS: RefCell<(Vec<Arc<str>>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

/// `text` shared with its last use on this thread, if it was among the recent ones.
pub fn intern(text: &str) -> Arc<str> {
    RECENT_STRINGS.with(|recent| {
        let (strings, next) = &mut *recent.borrow_mut();
        if let Some(found) = strings
            .iter()
            .find(|s| s.len() == text.len() && &***s == text)
        {
            return Arc::clone(found);
        }
        let string: Arc<str> = text.into();
        if strings.len() < INTERNED_STRINGS {
            strings.push(Arc::clone(&string));
        } else {
            strings[*next] = Arc::clone(&string);
            *next = (*next + 1) % INTERNED_STRINGS;
        }
        string
    })
}
