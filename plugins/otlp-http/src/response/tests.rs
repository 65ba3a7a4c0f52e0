//! The decoder against hand-made bodies: any field order and length, the cap, bad
//! bytes and every JSON form.

use std::io::Read as _;

use super::{read, Answer, MAX_BODY_BYTES, MAX_MESSAGE_BYTES, MAX_STREAMED_BYTES};

fn varint(mut value: usize) -> Vec<u8> {
    let mut bytes = Vec::new();
    while value >= 0x80 {
        bytes.push((value as u8) | 0x80);
        value >>= 7;
    }
    bytes.push(value as u8);
    bytes
}

/// A length-delimited field: its key byte, then `content`.
fn field(key: u8, content: &[u8]) -> Vec<u8> {
    let mut field = vec![key];
    field.extend(varint(content.len()));
    field.extend_from_slice(content);
    field
}

/// A response whose `partial_success` holds `fields` (already encoded).
fn response(fields: &[u8]) -> Vec<u8> {
    field(0x0a, fields)
}

fn message_field(len: usize) -> Vec<u8> {
    field(0x12, &vec![b'm'; len])
}

#[test]
fn the_count_is_read_whatever_the_field_order_and_message_length() {
    // rejected_spans 5 after a 1 MiB error_message, with an unknown field between.
    let mut fields = message_field(1 << 20);
    fields.extend([0x18, 0x01, 0x08, 0x05]);
    let answer = read(response(&fields).as_slice(), false);
    assert_eq!(answer.rejected_spans, Some(5));
    assert_eq!(answer.error_message.len(), MAX_MESSAGE_BYTES);
    assert_eq!(answer.problem, None);
    // -5 is ten bytes of two's complement.
    let negative = [
        0x08, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ];
    assert_eq!(
        read(response(&negative).as_slice(), false).rejected_spans,
        Some(-5)
    );
}

/// A protobuf body of `head`, then `filler` bytes of a field 3 that holds them.
fn streamed(head: &[u8], filler: u64) -> impl std::io::Read {
    let mut start = response(head);
    start.push(0x1a);
    start.extend(varint(filler as usize));
    std::io::Read::chain(std::io::Cursor::new(start), std::io::repeat(0).take(filler))
}

#[test]
fn a_body_is_read_past_a_long_message_to_its_count_and_cut_at_the_streaming_cap() {
    // rejected_spans after an 8 MiB message, twice the JSON cap: read through.
    let mut fields = message_field(8 << 20);
    fields.extend([0x08, 0x05]);
    let answer = read(response(&fields).as_slice(), false);
    assert_eq!((answer.rejected_spans, answer.problem), (Some(5), None));
    assert_eq!(answer.error_message.len(), MAX_MESSAGE_BYTES);
    // A body over the streaming cap is cut there, counting what came before.
    let answer = read(streamed(&[0x08, 0x07], MAX_STREAMED_BYTES), false);
    assert_eq!(answer.rejected_spans, Some(7));
    assert!(answer.problem.unwrap().contains("longer than 64 MiB"));
    // A body of exactly the cap is read whole.
    let head = response(&[0x08, 0x07]).len() as u64 + 5;
    let answer = read(streamed(&[0x08, 0x07], MAX_STREAMED_BYTES - head), false);
    assert_eq!((answer.rejected_spans, answer.problem), (Some(7), None));
}

#[test]
fn a_json_body_is_cut_at_its_cap() {
    let mut body = br#"{"partialSuccess":{"rejectedSpans":"7","errorMessage":""#.to_vec();
    body.extend(vec![b'm'; MAX_BODY_BYTES as usize]);
    body.extend(br#""}}"#);
    let problem = read(body.as_slice(), true).problem.unwrap();
    assert!(problem.contains("longer than 4 MiB"), "{problem}");
}

#[test]
fn bodies_that_are_not_otlp_responses_say_so() {
    for (body, problem) in [
        (
            &[0xffu8; 16][..],
            "not an OTLP protobuf response: a varint longer",
        ),
        (&[0x0a, 0x05, 0x08][..], "it ends inside a field"),
        (&[0x08, 0x01][..], "partial_success of the wrong wire type"),
        (
            &[0x0a, 0x02, 0x12, 0x01, 0x08][..],
            "not an OTLP protobuf response",
        ),
    ] {
        let answer = read(body, false);
        assert!(
            answer.problem.as_deref().unwrap().contains(problem),
            "{answer:?}"
        );
    }
    assert_eq!(read(&[][..], false), Answer::default());
    assert_eq!(read(&[][..], true), Answer::default());
}

#[test]
fn json_counts_follow_the_proto3_mapping() {
    for (body, rejected) in [
        (r#"{"partialSuccess":{"rejectedSpans":"5"}}"#, Some(5)),
        (
            r#"{"partialSuccess":{"rejectedSpans":5,"x":[1]},"y":{}}"#,
            Some(5),
        ),
        (r#"{"partial_success":{"rejected_spans":"5"}}"#, Some(5)),
        (r#"{"partialSuccess":{"rejectedSpans":-5}}"#, Some(-5)),
        (
            r#"{"partialSuccess":{"rejectedSpans":"99999999999999999999"}}"#,
            Some(i64::MAX),
        ),
        (r#"{"partialSuccess":{}}"#, None),
        (r#"{}"#, None),
    ] {
        let answer = read(body.as_bytes(), true);
        assert_eq!(
            (answer.rejected_spans, answer.problem),
            (rejected, None),
            "{body}"
        );
    }
    for body in [r#"{"partialSuccess":{"rejectedSpans":"5x"}}"#, "ok", "{"] {
        let problem = read(body.as_bytes(), true).problem.unwrap();
        assert!(
            problem.starts_with("not an OTLP JSON response"),
            "{problem}"
        );
    }
}
