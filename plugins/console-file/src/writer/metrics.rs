//! What `console_file` reports for spanplug's self metrics (spanplug-api 0.3.1): the
//! hand-off in front (`batching_span_processor`) and the writer
//! (`console_file_span_exporter`). The hand-off is bounded in bytes, not spans, so no
//! queue capacity is reported.
//!
//! Every exportable span `on_end` sees is processed with no error (handed to a buffer),
//! `queue_full` (writing fell behind) or `span_too_large` (bigger than the hand-off);
//! a handed-over span is then exported with no error (written), `failed` (the write
//! failed, or the writer stopped first), or still waiting.

use std::sync::atomic::Ordering;

use spanplug_api::sync::lock;
use spanplug_api::MetricsReport;

use super::Shared;

impl Shared {
    /// Atomics, and the hand-off's lock for as long as two reads take.
    pub(crate) fn report(&self, report: &mut MetricsReport<'_>) {
        let (accepted, settled) = {
            let queue = lock(&self.queue);
            (queue.accepted, queue.settled)
        };
        report.component_types("batching_span_processor", "console_file_span_exporter");
        report.processed(None, accepted);
        report.processed(
            Some("queue_full"),
            self.dropped_full.load(Ordering::Relaxed),
        );
        report.processed(
            Some("span_too_large"),
            self.dropped_too_large.load(Ordering::Relaxed),
        );
        let written = self.written.load(Ordering::Relaxed);
        let failed = self.lost_writing.load(Ordering::Relaxed);
        report.inflight(accepted.saturating_sub(settled));
        report.exported(None, written);
        report.exported(Some("failed"), failed);
    }
}
