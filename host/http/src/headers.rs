//! The global propagator over `http::HeaderMap`: what an incoming request carries,
//! and what an outgoing one should.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::{global, Context};

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        // A value that is not visible ASCII still counts (as an invalid one): two
        // `traceparent` headers must restart the trace even if one is garbage.
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .map(|v| v.to_str().unwrap_or("\u{fffd}"))
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// The context an incoming request carries (a fresh root when it carries none or
/// an invalid one), read by the global propagator.
pub fn extract(headers: &HeaderMap) -> Context {
    global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers))
    })
}

/// Writes the global propagator's headers for `cx` (by default `traceparent`,
/// `tracestate` and `baggage`) into `headers`.
pub fn inject(cx: &Context, headers: &mut HeaderMap) {
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut HeaderInjector(headers))
    });
}

/// The current context as headers, for propagating by hand to anything else
/// (queues, gRPC metadata, another HTTP client): the spanplug form of Ray Serve's
/// `serve.get_trace_context()`.
pub fn get_trace_context() -> HeaderMap {
    let mut headers = HeaderMap::new();
    inject(&Context::current(), &mut headers);
    headers
}

#[cfg(test)]
mod tests {
    use opentelemetry::baggage::BaggageExt as _;
    use opentelemetry::trace::{TraceContextExt as _, TraceId};
    use spanplug_sdk::propagation::propagator;

    use super::*;

    const VALID: &str = "00-12345678901234567890123456789012-1234567890123456-01";

    #[test]
    fn injection_round_trips_and_keeps_verbatim_tracestate() {
        global::set_text_map_propagator(propagator());
        let mut incoming = HeaderMap::new();
        incoming.insert("traceparent", VALID.parse().unwrap());
        incoming.append("tracestate", "foo@@bar=1".parse().unwrap());
        incoming.append("tracestate", "rojo=00f067aa0ba902b7".parse().unwrap());
        let cx = extract(&incoming);
        assert_eq!(
            cx.span().span_context().trace_id(),
            TraceId::from_hex("12345678901234567890123456789012").unwrap()
        );
        let mut outgoing = HeaderMap::new();
        inject(&cx, &mut outgoing);
        assert_eq!(outgoing["traceparent"], VALID);
        assert_eq!(outgoing["tracestate"], "foo@@bar=1,rojo=00f067aa0ba902b7");

        let mut with_baggage = HeaderMap::new();
        with_baggage.insert(
            "baggage",
            "user.tier=gold,region=eu%20west".parse().unwrap(),
        );
        let cx = extract(&with_baggage);
        assert_eq!(
            cx.baggage().get("region").map(|v| v.as_str().to_string()),
            Some("eu west".into())
        );
        let mut outgoing = HeaderMap::new();
        inject(&cx, &mut outgoing);
        let baggage = outgoing["baggage"].to_str().unwrap();
        assert!(
            baggage.contains("user.tier=gold") && baggage.contains("region=eu%20west"),
            "{baggage}"
        );

        let mut twice = incoming.clone();
        twice.append("traceparent", VALID.parse().unwrap());
        assert!(
            !extract(&twice).span().span_context().is_valid(),
            "two traceparents restart the trace"
        );
    }
}
