//! The decoder against hand-made bodies: any field order and length, the cap, bad
//! bytes and every JSON form.

use super::{read, Answer, MAX_BODY_BYTES, MAX_MESSAGE_BYTES};

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

#[test]
fn a_body_past_the_cap_is_reported_with_what_was_read_before_it() {
    let mut fields = vec![0x08, 0x07];
    fields.extend(message_field(MAX_BODY_BYTES as usize));
    let answer = read(response(&fields).as_slice(), false);
    assert_eq!(answer.rejected_spans, Some(7));
    assert!(answer.problem.unwrap().contains("longer than 4 MiB"));
    // A body of exactly the cap is read whole.
    let mut body = response(&[0x08, 0x07]);
    body.extend(field(
        0x1a,
        &vec![0; MAX_BODY_BYTES as usize - body.len() - 5],
    ));
    assert_eq!(body.len() as u64, MAX_BODY_BYTES);
    let answer = read(body.as_slice(), false);
    assert_eq!((answer.rejected_spans, answer.problem), (Some(7), None));
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
