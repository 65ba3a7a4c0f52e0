//! Attribute values: the FFI-safe [`Value`] (a kind tag and a fixed payload union),
//! [`KeyValue`], and the plugin-side [`ValueRef`] and [`OwnedValue`].

use std::fmt;

use abi_stable::{
    std_types::{RSlice, RStr},
    StableAbi,
};

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

/// The first value with this key in a borrowed attribute list.
pub fn find_value<'s, 'a>(attributes: &'s [KeyValue<'a>], key: &str) -> Option<&'s Value<'a>> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}
