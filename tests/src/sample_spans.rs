//! The pieces of the sample traces the export tests create through the SDK: the
//! W3C trace-context spec's example ids for a linked and a remote parent span, and
//! the server and linked spans built from them.

use std::time::SystemTime;

use opentelemetry::trace::{
    Link, SpanContext, SpanId, SpanKind, TraceContextExt as _, TraceFlags, TraceId, TraceState,
    Tracer as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SdkTracer, Span};

/// The linked span's trace id (the W3C spec's example `traceparent`).
const LINKED_TRACE_ID: u128 = 0x0af7651916cd43dd8448eb211c80319c;
/// The linked span's id.
const LINKED_SPAN_ID: u64 = 0xb7ad6b7169203331;
/// The remote parent's trace id (the W3C spec's example `tracestate` section).
const REMOTE_TRACE_ID: u128 = 0x4bf92f3577b34da6a3ce929d0e0e4736;
/// The remote parent's span id.
const REMOTE_SPAN_ID: u64 = 0x00f067aa0ba902b7;

fn sampled_remote(trace_id: u128, span_id: u64, state: TraceState) -> SpanContext {
    SpanContext::new(
        TraceId::from(trace_id),
        SpanId::from(span_id),
        TraceFlags::SAMPLED,
        true,
        state,
    )
}

/// A context whose parent is the sampled remote span `REMOTE_*` with `state`.
pub fn remote_parent(state: TraceState) -> Context {
    Context::new().with_remote_span_context(sampled_remote(REMOTE_TRACE_ID, REMOTE_SPAN_ID, state))
}

/// Starts a `kind` span `name` at `start` under `parent`, linked to the sampled span
/// `LINKED_*` (the W3C example `traceparent`) (with `link_state`) for `link.reason=batch`.
pub fn start_linked_span(
    tracer: &SdkTracer,
    (name, kind, start): (&'static str, SpanKind, SystemTime),
    link_state: TraceState,
    parent: &Context,
) -> Span {
    let linked = sampled_remote(LINKED_TRACE_ID, LINKED_SPAN_ID, link_state);
    tracer
        .span_builder(name)
        .with_kind(kind)
        .with_start_time(start)
        .with_links(vec![Link::new(
            linked,
            vec![KeyValue::new("link.reason", "batch")],
            0,
        )])
        .start_with_context(tracer, parent)
}

/// Starts a server span `name` at `start` with `attributes` under `parent`.
pub fn start_server_span(
    tracer: &SdkTracer,
    (name, start): (&'static str, SystemTime),
    attributes: Vec<KeyValue>,
    parent: &Context,
) -> Span {
    tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_start_time(start)
        .with_attributes(attributes)
        .start_with_context(tracer, parent)
}
