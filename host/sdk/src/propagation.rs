//! The W3C Trace Context propagator, by the letter of the spec, and the propagators
//! [`init`](crate::init) installs (`OTEL_PROPAGATORS`, else trace context and baggage).
//!
//! [`W3cTraceContextPropagator`] parses exactly as the W3C Trace Context spec says
//! (the SDK's own propagator accepts some malformed headers and drops unknown trace
//! flags): an invalid `traceparent` restarts the trace and discards `tracestate`; an
//! invalid `tracestate` member discards the whole `tracestate`; several `tracestate`
//! headers are combined in order; more than 32 members is invalid; the combined value
//! is capped at 512 characters by the spec's truncation rule.
//!
//! `tracestate` keys the W3C grammar allows but `opentelemetry`'s `TraceState` does not
//! (e.g. `foo@@bar`) are kept verbatim for propagation: the extracted header rides in
//! the context and is re-sent unchanged on injection for that trace. So does the
//! Level 2 "random" trace flag, which the SDK does not pass on to child spans.

use opentelemetry::propagation::{
    text_map_propagator::FieldIter, Extractor, Injector, TextMapCompositePropagator,
    TextMapPropagator,
};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::BaggagePropagator;

use spanplug_config::Propagator;

const TRACEPARENT: &str = "traceparent";
const TRACESTATE: &str = "tracestate";
const MAX_MEMBERS: usize = 32;
/// Vendors must propagate at least this much `tracestate`; we send no more.
const MAX_TRACESTATE_CHARS: usize = 512;
/// Members longer than this are the first to go when truncating.
const LONG_MEMBER_CHARS: usize = 128;

/// What the SDK does not carry from a remote parent to its children, kept for
/// propagation within that trace: the verbatim `tracestate`, and the Level 2
/// "random" trace flag.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RemoteTrace {
    trace_id: TraceId,
    tracestate: String,
    /// The `TraceState` header as extracted: if a span's differs, it was changed
    /// (by a sampler, say) and the span's own state is sent instead.
    extracted_state: String,
    random: bool,
}

/// The flags this implementation knows: sampled, and Level 2's random. The spec
/// has vendors send unknown flags as zero.
const KNOWN_FLAGS: u8 = 0x01 | RANDOM_FLAG;

/// W3C Trace Context Level 2: the trace id's rightmost 7 bytes are random.
const RANDOM_FLAG: u8 = 0x02;

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}

/// Parses one `traceparent` value; `None` when it is invalid.
pub fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let value = trim_ows(value);
    if value.len() < 55 || !value.is_ascii() {
        return None;
    }
    let (version, trace_id, parent_id, flags) =
        (&value[0..2], &value[3..35], &value[36..52], &value[53..55]);
    let separators = [2, 35, 52].iter().all(|&i| value.as_bytes()[i] == b'-');
    if !separators
        || ![version, trace_id, parent_id, flags]
            .iter()
            .all(|part| is_lower_hex(part))
    {
        return None;
    }
    match version {
        "ff" => return None,
        // Version 00 has exactly these fields.
        "00" if value.len() != 55 => return None,
        // Later versions may append fields, after a dash.
        _ if value.len() > 55 && value.as_bytes()[55] != b'-' => return None,
        _ => {}
    }
    let trace_id = TraceId::from_hex(trace_id)
        .ok()
        .filter(|id| *id != TraceId::INVALID)?;
    let span_id = SpanId::from_hex(parent_id)
        .ok()
        .filter(|id| *id != SpanId::INVALID)?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    Some((trace_id, span_id, TraceFlags::new(flags)))
}

fn valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 256
        && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(b))
}

fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && value
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
        && !value.ends_with(' ')
}

/// Combines `tracestate` header values into members; `None` when any member is invalid.
pub fn parse_tracestate<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<(String, String)>> {
    let mut members: Vec<(String, String)> = Vec::new();
    for member in values.into_iter().flat_map(|v| v.split(',')).map(trim_ows) {
        if member.is_empty() {
            continue;
        }
        let (key, value) = member.split_once('=')?;
        if !valid_key(key) || !valid_value(value) {
            return None;
        }
        // A duplicated key keeps its first value.
        if !members.iter().any(|(k, _)| k == key) {
            members.push((key.to_string(), value.to_string()));
        }
    }
    if members.len() > MAX_MEMBERS {
        return None;
    }
    Some(truncate(members))
}

/// The spec's rule for an oversized `tracestate`: drop members longer than 128
/// characters first (from the end), then members from the end.
fn truncate(mut members: Vec<(String, String)>) -> Vec<(String, String)> {
    let length = |members: &[(String, String)]| {
        members
            .iter()
            .map(|(k, v)| k.len() + v.len() + 1)
            .sum::<usize>()
            + members.len().saturating_sub(1)
    };
    while length(&members) > MAX_TRACESTATE_CHARS {
        match members
            .iter()
            .rposition(|(k, v)| k.len() + v.len() + 1 > LONG_MEMBER_CHARS)
        {
            Some(long) => members.remove(long),
            None => members.pop().expect("a long list is not empty"),
        };
    }
    members
}

fn header_value(members: &[(String, String)]) -> String {
    members
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// W3C Trace Context, by the letter of the spec; see the module docs.
#[derive(Clone, Debug, Default)]
pub struct W3cTraceContextPropagator;

impl TextMapPropagator for W3cTraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        let remote = cx
            .get::<RemoteTrace>()
            .filter(|remote| remote.trace_id == context.trace_id());
        let mut flags = context.trace_flags().to_u8() & KNOWN_FLAGS;
        if remote.is_some_and(|remote| remote.random) {
            flags |= RANDOM_FLAG;
        }
        injector.set(
            TRACEPARENT,
            format!(
                "00-{}-{}-{flags:02x}",
                context.trace_id(),
                context.span_id()
            ),
        );
        let current = context.trace_state().header();
        let state = match remote {
            Some(remote) if !remote.tracestate.is_empty() && current == remote.extracted_state => {
                remote.tracestate.clone()
            }
            _ => current,
        };
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let parents = extractor.get_all(TRACEPARENT).unwrap_or_default();
        let [traceparent] = parents.as_slice() else {
            // None, or several: several is invalid and restarts the trace.
            return cx.clone();
        };
        let Some((trace_id, span_id, flags)) = parse_traceparent(traceparent) else {
            return cx.clone();
        };
        let members =
            parse_tracestate(extractor.get_all(TRACESTATE).unwrap_or_default()).unwrap_or_default();
        // `TraceState` enforces a stricter key grammar; what it refuses still
        // propagates through `ExtractedTraceState`.
        let representable: Vec<(String, String)> = members
            .iter()
            .filter(|(k, v)| TraceState::from_key_value([(k.as_str(), v.as_str())]).is_ok())
            .cloned()
            .collect();
        let state = TraceState::from_key_value(representable).unwrap_or_default();
        let extracted_state = state.header();
        let remote = SpanContext::new(trace_id, span_id, flags, true, state);
        cx.with_remote_span_context(remote).with_value(RemoteTrace {
            trace_id,
            extracted_state,
            tracestate: header_value(&members),
            random: flags.to_u8() & RANDOM_FLAG != 0,
        })
    }

    fn fields(&self) -> FieldIter<'_> {
        static NAMES: std::sync::OnceLock<[String; 2]> = std::sync::OnceLock::new();
        FieldIter::new(NAMES.get_or_init(|| [TRACEPARENT.to_string(), TRACESTATE.to_string()]))
    }
}

/// Trace context and baggage: what [`init`](crate::init) installs globally unless
/// `OTEL_PROPAGATORS` says otherwise.
pub fn propagator() -> TextMapCompositePropagator {
    propagator_of(&[Propagator::TraceContext, Propagator::Baggage])
}

/// The propagators named, in order (none: nothing is extracted or injected).
pub fn propagator_of(names: &[Propagator]) -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(
        names
            .iter()
            .map(|name| -> Box<dyn TextMapPropagator + Send + Sync> {
                match name {
                    Propagator::TraceContext => Box::new(W3cTraceContextPropagator),
                    Propagator::Baggage => Box::new(BaggagePropagator::new()),
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-12345678901234567890123456789012-1234567890123456-01";

    #[test]
    fn traceparent_follows_the_spec() {
        assert!(parse_traceparent(VALID).is_some());
        assert!(parse_traceparent(&format!(" \t{VALID}\t ")).is_some());
        assert!(parse_traceparent(
            "cc-12345678901234567890123456789012-1234567890123456-01-future"
        )
        .is_some());
        for invalid in [
            "00-12345678901234567890123456789012-1234567890123456-01.",
            "00-12345678901234567890123456789012-1234567890123456-01-extra",
            "cc-12345678901234567890123456789012-1234567890123456-01.future",
            "ff-12345678901234567890123456789012-1234567890123456-01",
            "00-00000000000000000000000000000000-1234567890123456-01",
            "00-12345678901234567890123456789012-0000000000000000-01",
            "00-1234567890123456789012345678901A-1234567890123456-01",
            "00-12345678901234567890123456789012-1234567890123456-0g",
            "0-12345678901234567890123456789012-1234567890123456-01",
        ] {
            assert!(parse_traceparent(invalid).is_none(), "{invalid}");
        }
        let (_, _, flags) =
            parse_traceparent("00-12345678901234567890123456789012-1234567890123456-03").unwrap();
        assert_eq!(flags.to_u8(), 3, "unknown flags are kept");
    }

    #[test]
    fn tracestate_follows_the_spec() {
        let state = parse_tracestate(["foo=1 \t , \t bar=2", "", "baz=3,foo=9"]).unwrap();
        assert_eq!(header_value(&state), "foo=1,bar=2,baz=3");
        assert_eq!(
            header_value(&parse_tracestate(["foo@@bar=1,t@v=2"]).unwrap()),
            "foo@@bar=1,t@v=2"
        );
        for invalid in [
            "foo =1",
            "FOO=1",
            "foo.bar=1",
            "@foo=1",
            "foo=bar=baz",
            "foo=,bar=3",
            &format!("{}=1", "z".repeat(257)),
        ] {
            assert!(parse_tracestate([invalid]).is_none(), "{invalid}");
        }
        let members: Vec<String> = (1..=33).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tracestate([members.join(",").as_str()]).is_none());
        assert_eq!(
            parse_tracestate([members[..32].join(",").as_str()])
                .unwrap()
                .len(),
            32
        );
    }

    #[test]
    fn oversized_tracestate_is_truncated_long_members_first() {
        let long = format!("long={}", "x".repeat(200));
        let short: Vec<String> = (0..30)
            .map(|i| format!("k{i:02}={}", "y".repeat(10)))
            .collect();
        let header = format!("{long},{}", short.join(","));
        let state = parse_tracestate([header.as_str()]).unwrap();
        assert!(state.iter().all(|(k, _)| k != "long"));
        assert!(header_value(&state).len() <= MAX_TRACESTATE_CHARS);
    }
}
