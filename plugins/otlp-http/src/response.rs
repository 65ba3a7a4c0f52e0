//! What a backend answered to an accepted batch: the OTLP partial success
//! (`ExportTraceServiceResponse { partial_success = 1 { rejected_spans = 1,
//! error_message = 2 } }`), read without trusting the body's size or shape.
//!
//! The body is streamed, never held whole. Protobuf is decoded field by field in any
//! order, keeping `rejected_spans` and the first [`MAX_MESSAGE_BYTES`] of
//! `error_message` and discarding the rest as it arrives, so the count is right
//! however long the message is, up to [`MAX_STREAMED_BYTES`] read (the request's
//! timeout bounds the time). JSON follows the proto3 JSON mapping (`rejectedSpans` as
//! a string or a number, the snake_case names too) and skips unknown fields without
//! building them, but builds `errorMessage` whole, so it is read up to
//! [`MAX_BODY_BYTES`]. A body cut at its cap, or one that is not an OTLP response,
//! says so in [`Answer::problem`] instead of passing for a full success.

use std::io::{self, BufRead, BufReader, Read};
use std::num::IntErrorKind;

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Deserialize;

/// The most of a JSON 2xx body read: gRPC's default message limit, far above any real
/// partial success (a 1 MiB `errorMessage` is read whole).
pub const MAX_BODY_BYTES: u64 = 4 * 1024 * 1024;
/// The most of a protobuf 2xx body read, in constant memory: past a message of
/// tens of megabytes to a `rejected_spans` after it, yet not forever.
pub const MAX_STREAMED_BYTES: u64 = 64 * 1024 * 1024;
/// The most of `error_message` kept (it is logged cut much shorter, after redaction).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A 2xx body, as far as it could be read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Answer {
    /// `rejected_spans` as sent, if the body held it (it may be negative: not a count).
    pub rejected_spans: Option<i64>,
    /// The start of `error_message`.
    pub error_message: String,
    /// Why the body was not read whole (cut at its cap, not an OTLP
    /// response, a read error); `None` when it was.
    pub problem: Option<String>,
}

/// Reads a 2xx body: JSON when `json`, protobuf otherwise. An empty body is a full
/// success.
pub fn read(body: impl Read, json: bool) -> Answer {
    let cap = if json {
        MAX_BODY_BYTES
    } else {
        MAX_STREAMED_BYTES
    };
    let mut input = BufReader::new(Capped {
        inner: body,
        left: cap,
        cut: false,
    });
    match input.fill_buf() {
        Ok([]) => return Answer::default(),
        Ok(_) => {}
        Err(error) => return failed(format!("reading it failed: {error}")),
    }
    let mut answer = if json {
        read_json(&mut input)
    } else {
        read_protobuf(&mut input)
    };
    if input.get_ref().cut {
        answer.problem = Some(format!(
            "it is longer than {} MiB; the rest was not read",
            cap >> 20
        ));
    }
    answer
}

impl Answer {
    /// How many of the `spans` sent were rejected, and what was wrong with the count:
    /// a negative one rejects none, one above `spans` rejects them all.
    pub fn rejected_of(&self, spans: u64) -> (u64, Option<String>) {
        match self.rejected_spans.unwrap_or(0) {
            n if n < 0 => (
                0,
                Some(format!(
                    "rejected_spans {n} is not a count, so none are counted"
                )),
            ),
            n if n.unsigned_abs() > spans => (
                spans,
                Some(format!("it said {n}, more than the {spans} sent")),
            ),
            n => (n.unsigned_abs(), None),
        }
    }

    /// Whether the backend said anything beyond a full success.
    pub fn is_partial(&self) -> bool {
        self.rejected_spans.is_some_and(|n| n != 0) || !self.error_message.is_empty()
    }
}

/// Whether a body with this `Content-Type` is JSON; without a telling one, the
/// format the request was sent in (`request_json`).
pub fn is_json(content_type: Option<&str>, request_json: bool) -> bool {
    match content_type {
        Some(t) if t.starts_with("application/json") => true,
        Some(t) if t.starts_with("application/x-protobuf") => false,
        _ => request_json,
    }
}

fn failed(problem: String) -> Answer {
    Answer {
        problem: Some(problem),
        ..Answer::default()
    }
}

/// A reader that ends at `left` bytes, noting (`cut`) whether the body went on.
struct Capped<R> {
    inner: R,
    left: u64,
    cut: bool,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            // At the cap: one byte more means the body was longer.
            if !self.cut {
                let mut probe = [0u8; 1];
                self.cut = loop {
                    match self.inner.read(&mut probe) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        result => break result? > 0,
                    }
                };
            }
            return Ok(0);
        }
        let most = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let read = self.inner.read(&mut buf[..most])?;
        self.left -= read as u64;
        Ok(read)
    }
}

/// Why a protobuf decode stopped.
enum Stop {
    /// The body ended inside a field.
    End,
    Io(io::Error),
    Invalid(&'static str),
}

impl From<io::Error> for Stop {
    fn from(error: io::Error) -> Self {
        Stop::Io(error)
    }
}

const VARINT: u64 = 0;
const I64: u64 = 1;
const LEN: u64 = 2;
const I32: u64 = 5;

/// A protobuf stream, one field at a time, counting the bytes consumed.
struct Wire<'a, R> {
    input: &'a mut R,
    offset: u64,
}

impl<R: BufRead> Wire<'_, R> {
    /// The next byte; `None` at the end of the body.
    fn next_byte(&mut self) -> Result<Option<u8>, Stop> {
        let byte = self.input.fill_buf()?.first().copied();
        if byte.is_some() {
            self.input.consume(1);
            self.offset += 1;
        }
        Ok(byte)
    }

    fn byte(&mut self) -> Result<u8, Stop> {
        self.next_byte()?.ok_or(Stop::End)
    }

    /// A varint whose first byte was read already.
    fn varint_from(&mut self, first: u8) -> Result<u64, Stop> {
        let mut value = u64::from(first & 0x7f);
        let mut byte = first;
        let mut shift = 0;
        while byte & 0x80 != 0 {
            shift += 7;
            if shift > 63 {
                return Err(Stop::Invalid("a varint longer than 10 bytes"));
            }
            byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
        }
        Ok(value)
    }

    fn varint(&mut self) -> Result<u64, Stop> {
        let first = self.byte()?;
        self.varint_from(first)
    }

    /// `(field number, wire type)` of a key whose first byte was read already.
    fn key_from(&mut self, first: u8) -> Result<(u64, u64), Stop> {
        let key = self.varint_from(first)?;
        if key >> 3 == 0 {
            return Err(Stop::Invalid("field number 0"));
        }
        Ok((key >> 3, key & 7))
    }

    /// `len` bytes, the first `keep` of them appended to `into`, the rest discarded.
    fn take(&mut self, len: u64, into: &mut Vec<u8>, keep: usize) -> Result<(), Stop> {
        let kept = u64::try_from(keep.saturating_sub(into.len())).unwrap_or(u64::MAX);
        let mut limited = (&mut *self.input).take(len);
        let mut read = (&mut limited).take(kept).read_to_end(into)? as u64;
        read += io::copy(&mut limited, &mut io::sink())?;
        self.offset += read;
        if read < len {
            return Err(Stop::End);
        }
        Ok(())
    }

    /// Past a field this decoder does not use.
    fn skip(&mut self, wire_type: u64) -> Result<(), Stop> {
        let len = match wire_type {
            VARINT => return self.varint().map(drop),
            I64 => 8,
            LEN => self.varint()?,
            I32 => 4,
            _ => return Err(Stop::Invalid("a group or an unknown wire type")),
        };
        self.take(len, &mut Vec::new(), 0)
    }
}

fn read_protobuf(input: &mut impl BufRead) -> Answer {
    let mut answer = Answer::default();
    let mut message = Vec::new();
    let result = decode_response(
        &mut Wire { input, offset: 0 },
        &mut answer.rejected_spans,
        &mut message,
    );
    answer.error_message = String::from_utf8_lossy(&message).into_owned();
    answer.problem = match result {
        Ok(()) => None,
        // A cut body also ends inside a field; `read` names the cut instead.
        Err(Stop::End) => Some("it ends inside a field".into()),
        Err(Stop::Io(error)) => Some(format!("reading it failed: {error}")),
        Err(Stop::Invalid(what)) => Some(format!("not an OTLP protobuf response: {what}")),
    };
    answer
}

/// `ExportTraceServiceResponse`: every `partial_success` occurrence is merged, later
/// values winning, as protobuf decoders do.
fn decode_response<R: BufRead>(
    wire: &mut Wire<'_, R>,
    rejected: &mut Option<i64>,
    message: &mut Vec<u8>,
) -> Result<(), Stop> {
    while let Some(first) = wire.next_byte()? {
        match wire.key_from(first)? {
            (1, LEN) => {
                let end = wire.varint()?.saturating_add(wire.offset);
                while wire.offset < end {
                    let first = wire.byte()?;
                    match wire.key_from(first)? {
                        // int64 is sent as its two's complement.
                        (1, VARINT) => *rejected = Some(wire.varint()? as i64),
                        (2, LEN) => {
                            let len = wire.varint()?;
                            message.clear();
                            wire.take(len, message, MAX_MESSAGE_BYTES)?;
                        }
                        (1 | 2, _) => return Err(Stop::Invalid("a field of the wrong wire type")),
                        (_, wire_type) => wire.skip(wire_type)?,
                    }
                }
                if wire.offset != end {
                    return Err(Stop::Invalid("a field overruns partial_success"));
                }
            }
            (1, _) => return Err(Stop::Invalid("partial_success of the wrong wire type")),
            (_, wire_type) => wire.skip(wire_type)?,
        }
    }
    Ok(())
}

/// The proto3 JSON form; unknown fields are skipped.
#[derive(Deserialize)]
struct JsonResponse {
    #[serde(rename = "partialSuccess", alias = "partial_success", default)]
    partial_success: Option<JsonPartialSuccess>,
}

#[derive(Deserialize)]
struct JsonPartialSuccess {
    #[serde(rename = "rejectedSpans", alias = "rejected_spans", default)]
    rejected_spans: Option<Int64>,
    #[serde(rename = "errorMessage", alias = "error_message", default)]
    error_message: Option<String>,
}

/// A proto3 JSON int64: a number, or a decimal string (the canonical form). Values
/// past `i64::MAX` saturate.
struct Int64(i64);

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Int64Visitor)
    }
}

struct Int64Visitor;

impl Visitor<'_> for Int64Visitor {
    type Value = Int64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an int64, as a number or a decimal string")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Int64, E> {
        Ok(Int64(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Int64, E> {
        Ok(Int64(i64::try_from(value).unwrap_or(i64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Int64, E> {
        if value.is_finite() && value.fract() == 0.0 {
            // `as` saturates at the ends of i64.
            Ok(Int64(value as i64))
        } else {
            Err(E::invalid_value(Unexpected::Float(value), &self))
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Int64, E> {
        match value.parse::<i64>() {
            Ok(value) => Ok(Int64(value)),
            Err(e) if *e.kind() == IntErrorKind::PosOverflow => Ok(Int64(i64::MAX)),
            Err(e) if *e.kind() == IntErrorKind::NegOverflow => Ok(Int64(i64::MIN)),
            Err(_) => Err(E::invalid_value(Unexpected::Str(value), &self)),
        }
    }
}

fn read_json(input: &mut impl BufRead) -> Answer {
    match serde_json::from_reader::<_, JsonResponse>(input) {
        Ok(response) => {
            let partial = response.partial_success;
            let mut error_message = partial
                .as_ref()
                .and_then(|p| p.error_message.clone())
                .unwrap_or_default();
            let mut end = error_message.len().min(MAX_MESSAGE_BYTES);
            while !error_message.is_char_boundary(end) {
                end -= 1;
            }
            error_message.truncate(end);
            Answer {
                rejected_spans: partial.and_then(|p| p.rejected_spans).map(|n| n.0),
                error_message,
                problem: None,
            }
        }
        Err(error) if error.is_io() => failed(format!("reading it failed: {error}")),
        Err(error) => failed(format!("not an OTLP JSON response: {error}")),
    }
}

#[cfg(test)]
mod tests;
