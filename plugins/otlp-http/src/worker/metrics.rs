//! What the exporter reports for spanplug's self metrics (spanplug-api 0.3.1): its
//! shutdown summary's counters, as two SDK components, the queue in front
//! (`batching_span_processor`) and the HTTP exporter (`otlp_http_span_exporter`).
//!
//! Every span `on_end` sees exportable ends up in exactly one of: processed with
//! `queue_full` or `already_shutdown`, still queued, or handed to the exporter
//! (processed, no error), which then counts it exported with no error, `rejected`
//! (a partial success refused it), `failed` (not delivered: HTTP error, timeout,
//! deadline) or `export_thread_died`, or holds it in flight.

use std::sync::atomic::Ordering;

use spanplug_api::MetricsReport;

use super::Shared;

impl Shared {
    pub(super) fn report(&self, report: &mut MetricsReport<'_>) {
        let c = &self.counts;
        let read = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
        // Read settled figures before `accepted`, so a span never looks in flight twice.
        let delivered = read(&c.delivered);
        let rejected = read(&c.rejected);
        let failed = read(&c.failed);
        let died = read(&c.lost_worker_died);
        let queued = self.queued.load(Ordering::Relaxed) as u64;
        let accepted = read(&c.accepted);
        report.component_types("batching_span_processor", "otlp_http_span_exporter");
        report.processed(None, accepted.saturating_sub(queued));
        report.processed(Some("queue_full"), read(&c.dropped_queue_full));
        report.processed(Some("already_shutdown"), read(&c.dropped_after_shutdown));
        report.queue(queued, self.settings.batch.max_queue_size as u64);
        let settled = delivered + rejected + failed + died;
        report.inflight(accepted.saturating_sub(queued + settled));
        report.exported(None, delivered);
        report.exported(Some("rejected"), rejected);
        report.exported(Some("failed"), failed);
        report.exported(Some("export_thread_died"), died);
        if let Some((address, port)) = self.transport.server() {
            report.server(&address, port);
        }
    }
}
