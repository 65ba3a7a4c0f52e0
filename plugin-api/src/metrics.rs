//! Self metrics (since 0.3.1): how a processor tells the host what it counted, so the
//! host can publish OpenTelemetry's `otel.sdk.*` metrics for every plugin.
//!
//! Two paths, chosen by where each figure lives:
//!
//! - **Polled** ([`SpanProcessor::report_metrics`](crate::SpanProcessor::report_metrics)):
//!   counters and gauges a processor keeps anyway in atomics for its shutdown summary
//!   (spans processed or dropped, queue size, spans exported, failed or rejected). The
//!   host asks for them at collection time (every `OTEL_METRIC_EXPORT_INTERVAL`) and
//!   hands over a [`MetricsReport`]; the application thread pays nothing extra.
//! - **Pushed** ([`DurationRecorder`]): one value per export call, which a cumulative
//!   counter cannot carry. The host hands the processor a recorder once (only when self
//!   metrics are on); its export thread calls it after each request.
//!
//! Figures are cumulative since the processor started. Error types are the strings of
//! the semantic conventions (`queue_full`, `already_shutdown`, `rejected`, ...) or the
//! plugin's own, documented; `None` means success.

use std::fmt;

use abi_stable::{
    sabi_trait,
    sabi_types::RMut,
    std_types::{RArc, RStr},
};

#[allow(non_local_definitions)]
#[allow(
    unreachable_pub,
    reason = "the derived StableAbi of the trait objects names the traits publicly"
)]
mod abi {
    use super::*;

    /// Where a processor writes its figures at collection time. Implemented by hosts;
    /// methods a later minor adds go after the last prefix method, with default bodies
    /// meaning "not supported".
    #[sabi_trait]
    pub trait MetricsSink {
        /// `otel.component.type` of the processor half (e.g. `batching_span_processor`)
        /// and of the exporter half (e.g. `otlp_http_span_exporter`); empty for none.
        fn component_types(&mut self, processor: RStr<'_>, exporter: RStr<'_>);

        /// `otel.sdk.processor.span.processed`: spans with this outcome so far
        /// (`error_type` empty for success).
        fn processed(&mut self, error_type: RStr<'_>, spans: u64);

        /// `otel.sdk.processor.span.queue.size` and `.queue.capacity`, now.
        fn queue(&mut self, size: u64, capacity: u64);

        /// `otel.sdk.exporter.span.inflight`: spans in requests not yet answered.
        fn inflight(&mut self, spans: u64);

        /// `otel.sdk.exporter.span.exported`: spans with this outcome so far
        /// (`error_type` empty for success).
        fn exported(&mut self, error_type: RStr<'_>, spans: u64);

        /// `server.address` and `server.port` of the exporter's endpoint.
        #[sabi(last_prefix_field)]
        fn server(&mut self, address: RStr<'_>, port: u16);
    }

    /// Records one export call's duration: `otel.sdk.exporter.operation.duration`.
    /// Implemented by hosts, callable from any thread.
    #[sabi_trait]
    pub trait DurationRecorderAbi: Send + Sync {
        /// `seconds` the call took; `status_code` the HTTP status (0 for none);
        /// `error_type` empty for success.
        #[sabi(last_prefix_field)]
        fn record(&self, seconds: f64, status_code: u16, error_type: RStr<'_>);
    }
}

pub use abi::{DurationRecorderAbi, DurationRecorderAbi_TO, MetricsSink, MetricsSink_TO};

fn error_str(error_type: Option<&str>) -> RStr<'_> {
    error_type.unwrap_or("").into()
}

/// What a processor's [`report_metrics`](crate::SpanProcessor::report_metrics) writes to:
/// the host's [`MetricsSink`], with Rust types.
pub struct MetricsReport<'a>(MetricsSink_TO<'a, RMut<'a, ()>>);

impl fmt::Debug for MetricsReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsReport").finish_non_exhaustive()
    }
}

impl<'a> MetricsReport<'a> {
    /// Lends `sink` to a processor; for hosts.
    pub fn new<S: MetricsSink + 'a>(sink: &'a mut S) -> Self {
        MetricsReport(MetricsSink_TO::from_ptr(
            sink,
            abi_stable::sabi_trait::TD_Opaque,
        ))
    }

    pub(crate) fn from_abi(sink: MetricsSink_TO<'a, RMut<'a, ()>>) -> Self {
        MetricsReport(sink)
    }

    pub(crate) fn into_abi(self) -> MetricsSink_TO<'a, RMut<'a, ()>> {
        self.0
    }

    /// `otel.component.type` of the processor half and of the exporter half.
    pub fn component_types(&mut self, processor: &str, exporter: &str) {
        self.0.component_types(processor.into(), exporter.into());
    }

    /// Spans processed so far with this outcome (`None`: handed on successfully).
    pub fn processed(&mut self, error_type: Option<&str>, spans: u64) {
        self.0.processed(error_str(error_type), spans);
    }

    /// The queue's current size and its capacity.
    pub fn queue(&mut self, size: u64, capacity: u64) {
        self.0.queue(size, capacity);
    }

    /// Spans in export requests not yet answered.
    pub fn inflight(&mut self, spans: u64) {
        self.0.inflight(spans);
    }

    /// Spans exported so far with this outcome (`None`: delivered).
    pub fn exported(&mut self, error_type: Option<&str>, spans: u64) {
        self.0.exported(error_str(error_type), spans);
    }

    /// The endpoint's host and port.
    pub fn server(&mut self, address: &str, port: u16) {
        self.0.server(address.into(), port);
    }
}

/// The host's recorder of export durations, handed to a processor once by
/// [`attach_duration_recorder`](crate::SpanProcessor::attach_duration_recorder).
pub struct DurationRecorder(DurationRecorderAbi_TO<'static, RArc<()>>);

impl fmt::Debug for DurationRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurationRecorder").finish_non_exhaustive()
    }
}

impl DurationRecorder {
    /// Wraps the host's implementation; for hosts.
    pub fn new<R: DurationRecorderAbi + 'static>(recorder: R) -> Self {
        DurationRecorder(DurationRecorderAbi_TO::from_ptr(
            RArc::new(recorder),
            abi_stable::sabi_trait::TD_Opaque,
        ))
    }

    pub(crate) fn from_abi(recorder: DurationRecorderAbi_TO<'static, RArc<()>>) -> Self {
        DurationRecorder(recorder)
    }

    pub(crate) fn into_abi(self) -> DurationRecorderAbi_TO<'static, RArc<()>> {
        self.0
    }

    /// Records one export call: how long it took, the HTTP status (`None` if no
    /// response came) and the error type (`None` for success).
    pub fn record(&self, seconds: f64, status_code: Option<u16>, error_type: Option<&str>) {
        self.0
            .record(seconds, status_code.unwrap_or(0), error_str(error_type));
    }
}
