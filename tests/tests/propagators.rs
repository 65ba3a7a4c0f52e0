//! Which propagator `init` installs: the application's own is kept unless
//! `OTEL_PROPAGATORS` names others (one test: the global propagator and the
//! environment are process-wide).

use http::HeaderMap;
use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _};
use opentelemetry::{global, Context, KeyValue};
use opentelemetry_sdk::propagation::BaggagePropagator;
use spanplug_config::TracingConfig;

/// The header names the global propagator writes for a span with baggage.
fn injected(guard: &spanplug_sdk::TracingGuard) -> Vec<String> {
    let span = guard.tracer("propagators").start("outgoing");
    let cx = Context::current_with_span(span).with_baggage([KeyValue::new("tier", "gold")]);
    let mut headers = HeaderMap::new();
    spanplug_http::inject(&cx, &mut headers);
    let mut names: Vec<String> = headers.keys().map(|k| k.to_string()).collect();
    names.sort();
    names
}

#[test]
fn init_keeps_the_applications_propagator_unless_configured() {
    let config = || TracingConfig::default().with_exporter_import_path("no_such:plugin");
    std::env::set_var("SPANPLUG_TRACING_ON_ERROR", "warn");

    // Nothing installed: W3C trace context and baggage.
    let guard = spanplug_sdk::init(config()).unwrap();
    assert_eq!(injected(&guard), ["baggage", "traceparent"]);
    drop(guard);

    // The application's own (here: baggage only) survives a later `init`.
    global::set_text_map_propagator(BaggagePropagator::new());
    let guard = spanplug_sdk::init(config()).unwrap();
    assert_eq!(injected(&guard), ["baggage"]);
    drop(guard);

    // OTEL_PROPAGATORS replaces it, in the order given; `none` turns propagation off.
    std::env::set_var("OTEL_PROPAGATORS", "tracecontext");
    let guard = spanplug_sdk::init(config()).unwrap();
    assert_eq!(injected(&guard), ["traceparent"]);
    drop(guard);
    std::env::set_var("OTEL_PROPAGATORS", "none");
    let guard = spanplug_sdk::init(config()).unwrap();
    assert!(injected(&guard).is_empty());
    drop(guard);
}
