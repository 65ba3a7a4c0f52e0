//! Context propagation for outgoing `reqwest` requests.

use crate::get_trace_context;

/// Adds `traceparent`, `tracestate` and `baggage` for the current context.
pub trait InjectTraceContext {
    /// The request with the current trace context in its headers.
    fn with_trace_context(self) -> Self;
}

impl InjectTraceContext for reqwest::RequestBuilder {
    fn with_trace_context(self) -> Self {
        self.headers(get_trace_context())
    }
}
