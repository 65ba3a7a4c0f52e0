//! Property tests of the two places that parse what strangers send: trace-context
//! headers, and span files fed to `spanplug tree`/`view`. Bounded case counts.

use http::{HeaderMap, HeaderValue};
use opentelemetry::trace::TraceContextExt as _;
use proptest::prelude::*;
use spanplug_cli::spans_file::{parse_into, SpanSet};
use spanplug_sdk::propagation::{extract, inject, parse_traceparent, parse_tracestate};

/// Header-ish text: mostly the characters these headers use, sometimes anything.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9a-fA-F-]{0,80}",
        "[ -~]{0,600}",
        "([a-z0-9_@*/-]{1,20}=[ -+--<>-~]{1,20},?){0,40}",
        "00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Whatever arrives, extraction never panics, and a context it accepts re-injects
    /// as headers that parse back to the same trace and members, within the cap.
    #[test]
    fn extraction_never_produces_a_corrupted_context(
        traceparent in header_text(),
        tracestates in proptest::collection::vec(header_text(), 0..3),
        baggage in header_text(),
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&traceparent) {
            headers.insert("traceparent", value);
        }
        for state in &tracestates {
            if let Ok(value) = HeaderValue::from_str(state) {
                headers.append("tracestate", value);
            }
        }
        if let Ok(value) = HeaderValue::from_str(&baggage) {
            headers.insert("baggage", value);
        }
        let cx = extract(&headers);
        let span = cx.span();
        let context = span.span_context();
        if context.is_valid() {
            let mut out = HeaderMap::new();
            inject(&cx, &mut out);
            let (trace_id, span_id, _) = parse_traceparent(out["traceparent"].to_str().unwrap()).unwrap();
            prop_assert_eq!(trace_id, context.trace_id());
            prop_assert_eq!(span_id, context.span_id());
            if let Some(state) = out.get("tracestate") {
                let state = state.to_str().unwrap();
                prop_assert!(state.len() <= 512);
                prop_assert!(parse_tracestate([state]).is_some(), "re-injected tracestate is valid: {}", state);
            }
        }
    }

    /// Span files of any shape: the reader never panics, and every record (a line
    /// starting with `{`) is either read or reported, none silently skipped.
    #[test]
    fn the_span_file_reader_accounts_for_every_record(text in "(\\{?[ -~\\n]{0,200}\\n?){0,20}") {
        let mut set = SpanSet::default();
        parse_into(&text, std::path::Path::new("fuzz.json"), &mut set);
        let records = text.lines().filter(|line| line.starts_with('{')).count();
        prop_assert!(set.spans.len() as u64 + set.problem_count >= records as u64);
    }
}
