//! The FFI-safe span model: borrowed views the host builds once per span and
//! hands to every plugin, complete enough to rebuild an OTLP span without loss.

use std::fmt;

use abi_stable::{
    std_types::{ROption, RSlice, RStr, RString, RVec},
    StableAbi,
};

/// A 16-byte trace id; all zeros is invalid.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TraceId(pub [u8; 16]);

/// An 8-byte span id; all zeros means "none" (e.g. no parent).
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpanId(pub [u8; 8]);

impl SpanId {
    pub const INVALID: SpanId = SpanId([0; 8]);

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
    pub trace_id: TraceId,
    pub span_id: SpanId,
    /// W3C trace flags; bit 0 is "sampled".
    pub trace_flags: u8,
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

#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl SpanKind {
    /// The upper-case name used by OpenTelemetry SDKs (`SERVER`, `CLIENT`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            SpanKind::Internal => "INTERNAL",
            SpanKind::Server => "SERVER",
            SpanKind::Client => "CLIENT",
            SpanKind::Producer => "PRODUCER",
            SpanKind::Consumer => "CONSUMER",
        }
    }
}

#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusCode {
    Unset,
    Ok,
    Error,
}

impl StatusCode {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusCode::Unset => "UNSET",
            StatusCode::Ok => "OK",
            StatusCode::Error => "ERROR",
        }
    }
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Status<'a> {
    pub code: StatusCode,
    /// Only meaningful for `StatusCode::Error`; empty otherwise.
    pub description: RStr<'a>,
}

/// A typed attribute value, borrowed from the host for the duration of a call.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    Bool(bool),
    I64(i64),
    F64(f64),
    String(RStr<'a>),
    BoolArray(RSlice<'a, bool>),
    I64Array(RSlice<'a, i64>),
    F64Array(RSlice<'a, f64>),
    StringArray(RSlice<'a, RStr<'a>>),
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq)]
pub struct KeyValue<'a> {
    pub key: RStr<'a>,
    pub value: Value<'a>,
}

/// An attribute value a plugin creates (in `on_start`), owned and sent to the host.
#[repr(u8)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub enum OwnedValue {
    Bool(bool),
    I64(i64),
    F64(f64),
    String(RString),
    BoolArray(RVec<bool>),
    I64Array(RVec<i64>),
    F64Array(RVec<f64>),
    StringArray(RVec<RString>),
}

macro_rules! owned_value_from {
    ($($ty:ty => $variant:ident($conv:expr)),* $(,)?) => {
        $(impl From<$ty> for OwnedValue {
            fn from(v: $ty) -> Self {
                OwnedValue::$variant($conv(v))
            }
        })*
    };
}

owned_value_from! {
    bool => Bool(std::convert::identity),
    i64 => I64(std::convert::identity),
    i32 => I64(i64::from),
    u32 => I64(i64::from),
    f64 => F64(std::convert::identity),
    &str => String(RString::from),
    String => String(RString::from),
    RString => String(std::convert::identity),
    Vec<bool> => BoolArray(RVec::from),
    Vec<i64> => I64Array(RVec::from),
    Vec<f64> => F64Array(RVec::from),
    Vec<String> => StringArray(|v: Vec<String>| v.into_iter().map(RString::from).collect()),
}

#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq)]
pub struct OwnedKeyValue {
    pub key: RString,
    pub value: OwnedValue,
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Event<'a> {
    pub name: RStr<'a>,
    pub time_unix_nano: u64,
    pub attributes: RSlice<'a, KeyValue<'a>>,
    pub dropped_attributes_count: u32,
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Link<'a> {
    pub context: SpanContext<'a>,
    pub attributes: RSlice<'a, KeyValue<'a>>,
    pub dropped_attributes_count: u32,
}

/// The entity producing spans (`service.name`, `telemetry.sdk.*`, ...).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct Resource<'a> {
    pub attributes: RSlice<'a, KeyValue<'a>>,
    /// Empty when the resource has no schema URL.
    pub schema_url: RStr<'a>,
}

/// The library that produced a span (the tracer's name and version).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct InstrumentationScope<'a> {
    pub name: RStr<'a>,
    pub version: ROption<RStr<'a>>,
    pub schema_url: ROption<RStr<'a>>,
    pub attributes: RSlice<'a, KeyValue<'a>>,
}

/// An ended span, borrowed from the host for the duration of `on_end`.
///
/// Plugins that only encode or filter read it in place; a plugin that keeps a span
/// past the call copies what it needs.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct SpanView<'a> {
    pub context: SpanContext<'a>,
    /// `SpanId::INVALID` for a root span.
    pub parent_span_id: SpanId,
    pub parent_is_remote: bool,
    pub name: RStr<'a>,
    pub kind: SpanKind,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: RSlice<'a, KeyValue<'a>>,
    pub dropped_attributes_count: u32,
    pub events: RSlice<'a, Event<'a>>,
    pub dropped_events_count: u32,
    pub links: RSlice<'a, Link<'a>>,
    pub dropped_links_count: u32,
    pub status: Status<'a>,
    pub resource: &'a Resource<'a>,
    pub scope: &'a InstrumentationScope<'a>,
}

impl<'a> SpanView<'a> {
    /// The first attribute with this key, if any.
    pub fn attribute(&self, key: &str) -> Option<&Value<'a>> {
        find_value(self.attributes.as_slice(), key)
    }

    pub fn is_sampled(&self) -> bool {
        self.context.trace_flags & 1 == 1
    }
}

/// The first value with this key in a borrowed attribute list.
pub fn find_value<'s, 'a>(attributes: &'s [KeyValue<'a>], key: &str) -> Option<&'s Value<'a>> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// A span as it starts: readable, and open to new attributes.
///
/// Attributes set here go into a host-owned list that the host applies to the span
/// after every processor's `on_start` has run.
#[repr(C)]
#[derive(StableAbi)]
pub struct StartingSpan<'a> {
    pub context: SpanContext<'a>,
    pub parent_span_id: SpanId,
    pub parent_is_remote: bool,
    pub name: RStr<'a>,
    pub kind: SpanKind,
    pub start_time_unix_nano: u64,
    /// Attributes the span was created with.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    added_attributes: &'a mut RVec<OwnedKeyValue>,
}

impl<'a> StartingSpan<'a> {
    /// Builds the view; `added` receives the attributes processors set.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        context: SpanContext<'a>,
        parent_span_id: SpanId,
        parent_is_remote: bool,
        name: RStr<'a>,
        kind: SpanKind,
        start_time_unix_nano: u64,
        attributes: RSlice<'a, KeyValue<'a>>,
        added: &'a mut RVec<OwnedKeyValue>,
    ) -> Self {
        StartingSpan {
            context,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            start_time_unix_nano,
            attributes,
            added_attributes: added,
        }
    }

    pub fn set_attribute(&mut self, key: impl Into<RString>, value: impl Into<OwnedValue>) {
        self.added_attributes.push(OwnedKeyValue {
            key: key.into(),
            value: value.into(),
        });
    }

    /// Attributes set so far by this and earlier processors.
    pub fn added_attributes(&self) -> &[OwnedKeyValue] {
        self.added_attributes.as_slice()
    }
}

/// A borrowed string pair: a request-context entry or a config entry.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct StrPair<'a> {
    pub key: RStr<'a>,
    pub value: RStr<'a>,
}

/// The request context the host application set for the current request
/// (`request_id`, `app`, `deployment`, `replica_id`, ...), read-only.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct RequestContextView<'a> {
    pub entries: RSlice<'a, StrPair<'a>>,
}

impl<'a> RequestContextView<'a> {
    pub const EMPTY: RequestContextView<'static> = RequestContextView {
        entries: RSlice::from_slice(&[]),
    };

    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.entries
            .as_slice()
            .iter()
            .find(|e| e.key.as_str() == key)
            .map(|e| e.value.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> {
        self.entries
            .as_slice()
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
