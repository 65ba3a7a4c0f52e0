//! OTLP protobuf written straight from the borrowed span view.
//!
//! `on_end` encodes each span into one buffer — the bytes of an OTLP `Span` message —
//! instead of building a tree of owned messages (about twenty allocations a span).
//! The export thread then frames those bytes into an `ExportTraceServiceRequest`
//! ([`crate::batch`]): protobuf lets a repeated message field be written as the
//! concatenation of its encoded elements, so the spans are copied into the request
//! as they are.

use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
use prost::Message;
use spanplug_api as api;

/// OTLP span flags: bit 8 says the remote bit (bit 9) is known.
const CONTEXT_HAS_IS_REMOTE: u32 = 0x100;
const CONTEXT_IS_REMOTE: u32 = 0x200;

fn flags(trace_flags: u8, is_remote: bool) -> u32 {
    u32::from(trace_flags) | CONTEXT_HAS_IS_REMOTE | if is_remote { CONTEXT_IS_REMOTE } else { 0 }
}

pub(crate) fn put_len_delimited(buf: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(bytes.len() as u64, buf);
    buf.extend_from_slice(bytes);
}

/// A string or bytes field; proto3 leaves empty ones out.
pub(crate) fn put_bytes(buf: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    if !bytes.is_empty() {
        put_len_delimited(buf, tag, bytes);
    }
}

fn put_varint(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        encode_key(tag, WireType::Varint, buf);
        encode_varint(value, buf);
    }
}

fn put_fixed64(buf: &mut Vec<u8>, tag: u32, value: u64) {
    if value != 0 {
        encode_key(tag, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

fn put_fixed32(buf: &mut Vec<u8>, tag: u32, value: u32) {
    if value != 0 {
        encode_key(tag, WireType::ThirtyTwoBit, buf);
        buf.extend_from_slice(&value.to_le_bytes());
    }
}

/// A nested message written in place: its length is patched in afterwards (one
/// byte is reserved; the rare longer message shifts its bytes once).
fn put_message(buf: &mut Vec<u8>, tag: u32, write: impl FnOnce(&mut Vec<u8>)) {
    encode_key(tag, WireType::LengthDelimited, buf);
    let at = buf.len();
    buf.push(0);
    write(buf);
    let len = buf.len() - at - 1;
    if len < 0x80 {
        buf[at] = len as u8;
    } else {
        let mut prefix = Vec::with_capacity(encoded_len_varint(len as u64));
        encode_varint(len as u64, &mut prefix);
        buf.splice(at..at + 1, prefix);
    }
}

/// `AnyValue`: a oneof, so even default values are written.
fn put_any_value(buf: &mut Vec<u8>, value: &api::Value<'_>) {
    fn scalar_bool(buf: &mut Vec<u8>, b: bool) {
        encode_key(2, WireType::Varint, buf);
        encode_varint(u64::from(b), buf);
    }
    fn scalar_i64(buf: &mut Vec<u8>, i: i64) {
        encode_key(3, WireType::Varint, buf);
        encode_varint(i as u64, buf);
    }
    fn scalar_f64(buf: &mut Vec<u8>, f: f64) {
        encode_key(4, WireType::SixtyFourBit, buf);
        buf.extend_from_slice(&f.to_bits().to_le_bytes());
    }
    fn scalar_str(buf: &mut Vec<u8>, s: &str) {
        put_len_delimited(buf, 1, s.as_bytes());
    }
    fn array<T>(buf: &mut Vec<u8>, items: &[T], write: impl Fn(&mut Vec<u8>, &T)) {
        put_message(buf, 5, |buf| {
            for item in items {
                put_message(buf, 1, |buf| write(buf, item));
            }
        });
    }
    match value.get() {
        api::ValueRef::Bool(b) => scalar_bool(buf, b),
        api::ValueRef::I64(i) => scalar_i64(buf, i),
        api::ValueRef::F64(f) => scalar_f64(buf, f),
        api::ValueRef::String(s) => scalar_str(buf, s),
        api::ValueRef::BoolArray(items) => array(buf, items, |buf, b| scalar_bool(buf, *b)),
        api::ValueRef::I64Array(items) => array(buf, items, |buf, i| scalar_i64(buf, *i)),
        api::ValueRef::F64Array(items) => array(buf, items, |buf, f| scalar_f64(buf, *f)),
        api::ValueRef::StringArray(items) => {
            array(buf, items, |buf, s| scalar_str(buf, s.as_str()))
        }
        // A kind this plugin's interface does not know: an empty AnyValue.
        _ => {}
    }
}

fn put_attributes(buf: &mut Vec<u8>, tag: u32, attributes: &[api::KeyValue<'_>]) {
    for kv in attributes {
        put_message(buf, tag, |buf| {
            put_bytes(buf, 1, kv.key.as_str().as_bytes());
            put_message(buf, 2, |buf| put_any_value(buf, &kv.value));
        });
    }
}

/// The bytes of the OTLP `Span` message for `view`.
pub fn span(view: &api::SpanView<'_>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256 + 48 * view.attributes.len());
    put_bytes(&mut buf, 1, &view.context.trace_id.0);
    put_bytes(&mut buf, 2, &view.context.span_id.0);
    put_bytes(&mut buf, 3, view.context.trace_state.as_str().as_bytes());
    if view.parent_span_id.is_valid() {
        put_bytes(&mut buf, 4, &view.parent_span_id.0);
    }
    put_bytes(&mut buf, 5, view.name.as_str().as_bytes());
    let kind = match view.kind {
        api::SpanKind::INTERNAL => 1,
        api::SpanKind::SERVER => 2,
        api::SpanKind::CLIENT => 3,
        api::SpanKind::PRODUCER => 4,
        api::SpanKind::CONSUMER => 5,
        _ => 0,
    };
    put_varint(&mut buf, 6, kind);
    put_fixed64(&mut buf, 7, view.start_time_unix_nano);
    put_fixed64(&mut buf, 8, view.end_time_unix_nano);
    put_attributes(&mut buf, 9, view.attributes.as_slice());
    put_varint(&mut buf, 10, u64::from(view.dropped_attributes_count));
    for event in view.events.iter() {
        put_message(&mut buf, 11, |buf| {
            put_fixed64(buf, 1, event.time_unix_nano);
            put_bytes(buf, 2, event.name.as_str().as_bytes());
            put_attributes(buf, 3, event.attributes.as_slice());
            put_varint(buf, 4, u64::from(event.dropped_attributes_count));
        });
    }
    put_varint(&mut buf, 12, u64::from(view.dropped_events_count));
    for link in view.links.iter() {
        put_message(&mut buf, 13, |buf| {
            put_bytes(buf, 1, &link.context.trace_id.0);
            put_bytes(buf, 2, &link.context.span_id.0);
            put_bytes(buf, 3, link.context.trace_state.as_str().as_bytes());
            put_attributes(buf, 4, link.attributes.as_slice());
            put_varint(buf, 5, u64::from(link.dropped_attributes_count));
            put_fixed32(
                buf,
                6,
                flags(link.context.trace_flags, link.context.is_remote),
            );
        });
    }
    put_varint(&mut buf, 14, u64::from(view.dropped_links_count));
    let code = match view.status.code {
        api::StatusCode::OK => 1,
        api::StatusCode::ERROR => 2,
        _ => 0,
    };
    put_message(&mut buf, 15, |buf| {
        put_bytes(buf, 2, view.status.description.as_str().as_bytes());
        put_varint(buf, 3, code);
    });
    put_fixed32(
        &mut buf,
        16,
        flags(view.context.trace_flags, view.parent_is_remote),
    );
    buf
}

/// An owned value message, written by the same encoder as spans and decoded, so
/// that there is one conversion.
pub fn any_value(value: &api::Value<'_>) -> AnyValue {
    let mut bytes = Vec::new();
    put_any_value(&mut bytes, value);
    AnyValue::decode(bytes.as_slice()).expect("our own encoding decodes")
}

/// Owned attribute messages, for resources and scopes (converted once, not per span).
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

/// An owned string attribute (a resource attribute a preset overrides).
pub fn string_key_value(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_nested_messages_get_multi_byte_lengths() {
        let mut buf = Vec::new();
        put_message(&mut buf, 9, |buf| put_bytes(buf, 1, &[7u8; 300]));
        let mut expected = Vec::new();
        let mut inner = Vec::new();
        put_bytes(&mut inner, 1, &[7u8; 300]);
        put_len_delimited(&mut expected, 9, &inner);
        assert_eq!(buf, expected);
    }
}
