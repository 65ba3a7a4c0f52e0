//! Property tests of trace-context headers, the part of a request strangers write:
//! extracted through the propagator `init` installs, re-injected. Bounded case counts.

use std::sync::Once;

use http::{HeaderMap, HeaderValue};
use opentelemetry::trace::TraceContextExt as _;
use proptest::prelude::*;
use spanplug_http::{extract, inject};
use spanplug_sdk::propagation::{parse_traceparent, parse_tracestate, propagator};

/// The global propagator is a no-op until set: without it nothing is extracted.
fn install_propagator() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| opentelemetry::global::set_text_map_propagator(propagator()));
}

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
        install_propagator();
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
}

/// The property above is only worth something if valid contexts get through.
#[test]
fn a_valid_traceparent_is_extracted() {
    install_propagator();
    let mut headers = HeaderMap::new();
    headers.insert(
        "traceparent",
        HeaderValue::from_static("00-12345678901234567890123456789012-1234567890123456-01"),
    );
    assert!(extract(&headers).span().span_context().is_valid());
}
