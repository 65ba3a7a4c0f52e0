//! The FFI-safe span model: borrowed views the host builds once per span and
//! hands to every plugin, complete enough to rebuild an OTLP span without loss.

use std::fmt;

use abi_stable::{
    std_types::{ROption, RSlice, RStr},
    StableAbi,
};

use crate::extension::SpanViewExtRef;

mod value;

pub use value::{find_value, KeyValue, OwnedValue, Value, ValueKind, ValueRef};

/// A 16-byte trace id; all zeros is invalid.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id; all zeros means "none" (e.g. no parent).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpanId(pub [u8; 8]);

impl SpanId {
    /// All zeros: no span (a root span's parent).
    pub const INVALID: SpanId = SpanId([0; 8]);

    /// Whether the id is not all zeros.
    pub fn is_valid(&self) -> bool {
        self.0 != [0; 8]
    }
}

/// Ids print as lower-case hex, as W3C headers and OTLP JSON spell them.
macro_rules! hex_format {
    ($($id:ty),*) => {$(
        impl fmt::Display for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $id {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }
    )*};
}

hex_format!(TraceId, SpanId);

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// Identity of a span as it travels between processes.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct SpanContext<'a> {
    /// The trace the span belongs to.
    pub trace_id: TraceId,
    /// The span's own id.
    pub span_id: SpanId,
    /// W3C trace flags; bit 0 is "sampled".
    pub trace_flags: u8,
    /// Whether the context was propagated from another process.
    pub is_remote: bool,
    /// W3C `tracestate` header value (`k1=v1,k2=v2`), empty when there is none.
    pub trace_state: RStr<'a>,
}

impl SpanContext<'_> {
    /// The `tracestate` entries as `(key, value)` pairs, in header order.
    pub fn trace_state_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        self.trace_state
            .as_str()
            .split(',')
            .filter_map(|member| member.trim().split_once('='))
    }
}

open_enum! {
    /// The OpenTelemetry span kind.
    SpanKind {
        /// An operation inside the application, with no remote side.
        INTERNAL = 0 => "INTERNAL",
        /// Handles a synchronous request from a remote client.
        SERVER = 1 => "SERVER",
        /// A synchronous request to a remote service.
        CLIENT = 2 => "CLIENT",
        /// Starts asynchronous work elsewhere, e.g. sends a message to a queue.
        PRODUCER = 3 => "PRODUCER",
        /// Handles asynchronous work a producer started, e.g. a message from a queue.
        CONSUMER = 4 => "CONSUMER",
    } unknown => "UNSPECIFIED"
}

open_enum! {
    /// The OpenTelemetry status code.
    StatusCode {
        /// The default: no status was set.
        UNSET = 0 => "UNSET",
        /// Explicitly marked successful by the application.
        OK = 1 => "OK",
        /// The operation failed; [`Status::description`] may say why.
        ERROR = 2 => "ERROR",
    } unknown => "UNSET"
}

/// A span's status: a code and, for errors, a description.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Status<'a> {
    /// Unset, ok or error.
    pub code: StatusCode,
    /// Only meaningful for `StatusCode::ERROR`; empty otherwise.
    pub description: RStr<'a>,
}

/// A timestamped event recorded during a span (e.g. `exception`).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Event<'a> {
    /// The event's name.
    pub name: RStr<'a>,
    /// Unix nanoseconds when the event was recorded.
    pub time_unix_nano: u64,
    /// The event's attributes.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
}

/// A link from a span to another span, e.g. the message a consumer span handles.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Link<'a> {
    /// The linked span's context.
    pub context: SpanContext<'a>,
    /// The link's attributes.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
}

/// The entity producing spans (`service.name`, `telemetry.sdk.*`, ...).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Resource<'a> {
    /// The resource's attributes.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    /// Empty when the resource has no schema URL.
    pub schema_url: RStr<'a>,
}

/// The library that produced a span (the tracer's name and version).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct InstrumentationScope<'a> {
    /// The scope's name (usually the instrumenting library's).
    pub name: RStr<'a>,
    /// The scope's version, if the tracer was given one.
    pub version: ROption<RStr<'a>>,
    /// The scope's schema URL, if any.
    pub schema_url: ROption<RStr<'a>>,
    /// The scope's attributes.
    pub attributes: RSlice<'a, KeyValue<'a>>,
}

/// An ended span, borrowed from the host for the duration of `on_end`.
///
/// Plugins that only encode or filter read it in place; a plugin that keeps a span
/// past the call copies what it needs.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct SpanView<'a> {
    /// The span's trace id, span id, trace flags and trace state.
    pub context: SpanContext<'a>,
    /// `SpanId::INVALID` for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent span came from another process (a propagated context).
    pub parent_is_remote: bool,
    /// The span's name.
    pub name: RStr<'a>,
    /// The span kind (server, client, ...).
    pub kind: SpanKind,
    /// Unix nanoseconds when the span started.
    pub start_time_unix_nano: u64,
    /// Unix nanoseconds when the span ended.
    pub end_time_unix_nano: u64,
    /// Unique keys: the host keeps the last value set for a key, in the first one's place.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    /// Attributes the SDK discarded over its limits.
    pub dropped_attributes_count: u32,
    /// The span's events, in the order they were recorded.
    pub events: RSlice<'a, Event<'a>>,
    /// Events the SDK discarded over its limits.
    pub dropped_events_count: u32,
    /// The span's links to other spans.
    pub links: RSlice<'a, Link<'a>>,
    /// Links the SDK discarded over its limits.
    pub dropped_links_count: u32,
    /// The span's status code and description.
    pub status: Status<'a>,
    /// The resource the span belongs to, the same for all spans of the service.
    pub resource: &'a Resource<'a>,
    /// The instrumentation scope (tracer) that created the span.
    pub scope: &'a InstrumentationScope<'a>,
    /// Bits such as [`SpanView::DROPPED`]; a later interface may define more, which
    /// older plugins ignore.
    pub flags: u32,
    /// Per-span data later minors add (see [`crate::extension`]); the last field.
    pub extension: SpanViewExtRef<'a>,
    /// What no minor may do: a field added to a plain struct (hidden, for the
    /// compatibility tests, which check that the loader refuses it).
    #[cfg(feature = "_plain-struct-growth-probe")]
    #[doc(hidden)]
    pub plain_struct_growth_probe: u64,
}

impl<'a> SpanView<'a> {
    /// An earlier transformer dropped the span: it reaches this processor only because
    /// the processor saw its `on_start`. Exporters must not export it.
    pub const DROPPED: u32 = 1;

    /// The attribute with this key, if any.
    pub fn attribute(&self, key: &str) -> Option<&Value<'a>> {
        find_value(self.attributes.as_slice(), key)
    }

    /// Whether the sampled trace flag is set; record-only spans are not sampled.
    pub fn is_sampled(&self) -> bool {
        self.context.trace_flags & 1 == 1
    }

    /// Whether an earlier transformer dropped the span (see [`SpanView::DROPPED`]).
    pub fn is_dropped(&self) -> bool {
        self.flags & Self::DROPPED != 0
    }

    /// Whether an exporter should export the span: sampled and not dropped. Record-only
    /// and dropped spans reach `on_end` only in processors that saw their `on_start`.
    pub fn is_exportable(&self) -> bool {
        self.is_sampled() && !self.is_dropped()
    }
}

/// A borrowed string pair: a request-context entry or a config entry.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct StrPair<'a> {
    /// The entry's key.
    pub key: RStr<'a>,
    /// The entry's value.
    pub value: RStr<'a>,
}

/// The request context the host application set for the current request
/// (`request_id`, `app`, `deployment`, `replica_id`, ...), read-only.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct RequestContextView<'a> {
    /// The context's entries.
    pub entries: RSlice<'a, StrPair<'a>>,
}

impl<'a> RequestContextView<'a> {
    /// The value for `key`, if the context has one.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries
            .as_slice()
            .iter()
            .find(|e| e.key.as_str() == key)
            .map(|e| e.value.as_str())
    }

    /// Every entry as `(key, value)`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.entries
            .as_slice()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    /// Whether the context has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
