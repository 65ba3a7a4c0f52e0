//! The FFI-safe span model: borrowed views the host builds once per span and
//! hands to every plugin, complete enough to rebuild an OTLP span without loss.

use std::fmt;

use abi_stable::{
    std_types::{ROption, RSlice, RStr},
    StableAbi,
};

use crate::extension::SpanViewExtRef;

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

open_enum! {
    /// Which member of a [`Value`] is set.
    ValueKind {
        /// A value the host could not represent in this interface (counted and
        /// reported by the host), or a kind newer than the plugin's interface.
        UNSUPPORTED = 0 => "UNSUPPORTED",
        /// A boolean.
        BOOL = 1 => "BOOL",
        /// A 64-bit signed integer.
        I64 = 2 => "I64",
        /// A 64-bit float.
        F64 = 3 => "F64",
        /// A UTF-8 string.
        STRING = 4 => "STRING",
        /// An array of booleans.
        BOOL_ARRAY = 5 => "BOOL_ARRAY",
        /// An array of 64-bit signed integers.
        I64_ARRAY = 6 => "I64_ARRAY",
        /// An array of 64-bit floats.
        F64_ARRAY = 7 => "F64_ARRAY",
        /// An array of UTF-8 strings.
        STRING_ARRAY = 8 => "STRING_ARRAY",
    } unknown => "UNSUPPORTED"
}

#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
union Payload<'a> {
    none: u8,
    boolean: bool,
    int: i64,
    float: f64,
    string: RStr<'a>,
    bools: RSlice<'a, bool>,
    ints: RSlice<'a, i64>,
    floats: RSlice<'a, f64>,
    strings: RSlice<'a, RStr<'a>>,
    /// Reserved for kinds a later minor adds (byte strings): abi_stable compares union
    /// members exactly, so new kinds must reuse members that exist from 0.2.0 on.
    bytes: RSlice<'a, u8>,
    /// Reserved likewise: any pointer-and-length or two-word payload.
    words: [usize; 2],
}

/// A typed attribute value, borrowed for the duration of a call.
///
/// A kind tag and a payload rather than a Rust enum, so that a later interface can add
/// kinds (bytes, maps) without breaking plugins built against this one: they read the
/// new kinds as [`ValueRef::Unsupported`]. New kinds carry their data in the payload
/// members that exist today (two reserved ones among them), since the payload's layout
/// is fixed. Read it with [`Value::get`].
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct Value<'a> {
    kind: ValueKind,
    payload: Payload<'a>,
}

/// What a [`Value`] holds, as a Rust enum to match on.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum ValueRef<'a> {
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    I64(i64),
    /// A 64-bit float.
    F64(f64),
    /// A UTF-8 string.
    String(&'a str),
    /// An array of booleans.
    BoolArray(&'a [bool]),
    /// An array of 64-bit signed integers.
    I64Array(&'a [i64]),
    /// An array of 64-bit floats.
    F64Array(&'a [f64]),
    /// An array of UTF-8 strings.
    StringArray(&'a [RStr<'a>]),
    /// A kind the host could not carry, or one newer than this interface.
    Unsupported,
}

impl<'a> Value<'a> {
    /// The value a host sends for an attribute kind it cannot represent.
    pub const UNSUPPORTED: Value<'static> = Value {
        kind: ValueKind::UNSUPPORTED,
        payload: Payload { none: 0 },
    };

    /// Which payload member is set; possibly a kind newer than this interface.
    pub fn kind(&self) -> ValueKind {
        self.kind
    }

    /// The value to match on; unknown kinds read as [`ValueRef::Unsupported`].
    pub fn get(&self) -> ValueRef<'a> {
        // SAFETY: every constructor sets `kind` to the payload member it writes.
        unsafe {
            match self.kind {
                ValueKind::BOOL => ValueRef::Bool(self.payload.boolean),
                ValueKind::I64 => ValueRef::I64(self.payload.int),
                ValueKind::F64 => ValueRef::F64(self.payload.float),
                ValueKind::STRING => ValueRef::String(self.payload.string.as_str()),
                ValueKind::BOOL_ARRAY => ValueRef::BoolArray(self.payload.bools.as_slice()),
                ValueKind::I64_ARRAY => ValueRef::I64Array(self.payload.ints.as_slice()),
                ValueKind::F64_ARRAY => ValueRef::F64Array(self.payload.floats.as_slice()),
                ValueKind::STRING_ARRAY => ValueRef::StringArray(self.payload.strings.as_slice()),
                _ => ValueRef::Unsupported,
            }
        }
    }

    /// The string, for string values.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.get() {
            ValueRef::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string-array value; unlike `From`, usable in a `const`.
    pub const fn string_array(items: &'a [RStr<'a>]) -> Self {
        Value {
            kind: ValueKind::STRING_ARRAY,
            payload: Payload {
                strings: RSlice::from_slice(items),
            },
        }
    }
}

macro_rules! value_from {
    ($($ty:ty => $kind:ident, $member:ident($conv:expr)),* $(,)?) => {
        $(impl<'a> From<$ty> for Value<'a> {
            fn from(v: $ty) -> Self {
                Value { kind: ValueKind::$kind, payload: Payload { $member: $conv(v) } }
            }
        })*
    };
}

value_from! {
    bool => BOOL, boolean(std::convert::identity),
    i64 => I64, int(std::convert::identity),
    f64 => F64, float(std::convert::identity),
    &'a str => STRING, string(RStr::from_str),
    &'a String => STRING, string(|s: &'a String| RStr::from_str(s)),
    RStr<'a> => STRING, string(std::convert::identity),
    &'a [bool] => BOOL_ARRAY, bools(RSlice::from_slice),
    &'a [i64] => I64_ARRAY, ints(RSlice::from_slice),
    &'a [f64] => F64_ARRAY, floats(RSlice::from_slice),
    &'a [RStr<'a>] => STRING_ARRAY, strings(RSlice::from_slice),
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

/// An attribute: a key and its value.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq)]
pub struct KeyValue<'a> {
    /// The attribute's key (e.g. `http.route`).
    pub key: RStr<'a>,
    /// The attribute's value.
    pub value: Value<'a>,
}

/// An attribute value a plugin owns (fixed attributes it sets on every span, say).
/// Not part of the ABI: it is lent to the host as a [`Value`] with [`OwnedValue::with_value`].
#[derive(Clone, Debug, PartialEq)]
pub enum OwnedValue {
    /// A boolean.
    Bool(bool),
    /// A 64-bit signed integer.
    I64(i64),
    /// A 64-bit float.
    F64(f64),
    /// A UTF-8 string.
    String(String),
    /// An array of booleans.
    BoolArray(Vec<bool>),
    /// An array of 64-bit signed integers.
    I64Array(Vec<i64>),
    /// An array of 64-bit floats.
    F64Array(Vec<f64>),
    /// An array of UTF-8 strings.
    StringArray(Vec<String>),
}

impl OwnedValue {
    /// Calls `f` with a borrowed view (string arrays need a short-lived index of slices).
    pub fn with_value<R>(&self, f: impl FnOnce(Value<'_>) -> R) -> R {
        match self {
            OwnedValue::Bool(b) => f(Value::from(*b)),
            OwnedValue::I64(i) => f(Value::from(*i)),
            OwnedValue::F64(x) => f(Value::from(*x)),
            OwnedValue::String(s) => f(Value::from(s.as_str())),
            OwnedValue::BoolArray(items) => f(Value::from(items.as_slice())),
            OwnedValue::I64Array(items) => f(Value::from(items.as_slice())),
            OwnedValue::F64Array(items) => f(Value::from(items.as_slice())),
            OwnedValue::StringArray(items) => {
                let views: Vec<RStr<'_>> = items.iter().map(|s| RStr::from(s.as_str())).collect();
                f(Value::from(views.as_slice()))
            }
        }
    }

    /// An owned copy of a borrowed value; `None` for [`ValueRef::Unsupported`].
    pub fn from_value(value: &Value<'_>) -> Option<OwnedValue> {
        Some(match value.get() {
            ValueRef::Bool(b) => OwnedValue::Bool(b),
            ValueRef::I64(i) => OwnedValue::I64(i),
            ValueRef::F64(x) => OwnedValue::F64(x),
            ValueRef::String(s) => OwnedValue::String(s.to_string()),
            ValueRef::BoolArray(items) => OwnedValue::BoolArray(items.to_vec()),
            ValueRef::I64Array(items) => OwnedValue::I64Array(items.to_vec()),
            ValueRef::F64Array(items) => OwnedValue::F64Array(items.to_vec()),
            ValueRef::StringArray(items) => {
                OwnedValue::StringArray(items.iter().map(|s| s.to_string()).collect())
            }
            _ => return None,
        })
    }
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
    &str => String(str::to_string),
    String => String(std::convert::identity),
    Vec<bool> => BoolArray(std::convert::identity),
    Vec<i64> => I64Array(std::convert::identity),
    Vec<f64> => F64Array(std::convert::identity),
    Vec<String> => StringArray(std::convert::identity),
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
    #[cfg(feature = "plain-struct-growth-probe")]
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

/// The first value with this key in a borrowed attribute list.
pub fn find_value<'s, 'a>(attributes: &'s [KeyValue<'a>], key: &str) -> Option<&'s Value<'a>> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
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
