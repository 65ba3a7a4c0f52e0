//! The export thread: waits for a full batch, a flush, shutdown or the schedule,
//! sends what is queued, counts the outcome, and settles the spans it took.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use spanplug_api::settings::deadline_after;
use spanplug_api::sync::{lock, wait_timeout};

use super::Shared;
use crate::batch::{self, Queued};
use crate::transport::Outcome;

/// Queue-full drops and failed batches are each reported at most this often.
const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(10);
const FAILURE_LOG_INTERVAL: Duration = DROP_REPORT_INTERVAL;

/// Export is background work: on a busy machine the application's own threads
/// should get the CPU first, so the export thread runs at a lower priority (nice +10).
/// Failure to lower it (no permission, no such call) changes nothing else.
fn lower_thread_priority() {
    // SAFETY: plain system calls on this thread's id; no memory is shared.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, 10);
    }
}

impl Shared {
    /// After a panic in the export thread: what it held or had queued is lost.
    pub(super) fn worker_died(&self) {
        let mut state = lock(&self.state);
        let accepted = self.counts.accepted.load(Ordering::Relaxed);
        let lost = accepted - state.settled;
        state.settled = accepted;
        state.queue.clear();
        state.stopped = true;
        state.died = true;
        self.queued.store(0, Ordering::Relaxed);
        drop(state);
        self.counts
            .lost_worker_died
            .fetch_add(lost, Ordering::Relaxed);
        self.progress.notify_all();
        self.logger.error(&format!(
            "{}: the export thread panicked; {lost} spans lost, and no more are exported",
            self.name
        ));
    }

    pub(super) fn run(&self) {
        lower_thread_priority();
        let batch_size = self.settings.batch.max_export_batch_size;
        let mut next_scheduled = Instant::now() + self.settings.batch.schedule_delay;
        let mut last_drop_report = (Instant::now(), 0u64);
        loop {
            let batch: Vec<Queued> = {
                let mut state = lock(&self.state);
                loop {
                    let urgent = state.queue.len() >= batch_size
                        || state.flush_target > state.settled
                        || state.shutdown_deadline.is_some();
                    let now = Instant::now();
                    if urgent || now >= next_scheduled {
                        break;
                    }
                    state = wait_timeout(&self.work, state, next_scheduled - now);
                }
                if state.queue.is_empty() {
                    next_scheduled = Instant::now() + self.settings.batch.schedule_delay;
                    if state.shutdown_deadline.is_some() {
                        state.stopped = true;
                        self.progress.notify_all();
                        return;
                    }
                    // Nothing queued: any flush is complete.
                    state.settled = state.settled.max(state.flush_target);
                    self.progress.notify_all();
                    continue;
                }
                let take = state.queue.len().min(batch_size);
                let batch = state.queue.drain(..take).collect();
                self.queued.fetch_sub(take, Ordering::Relaxed);
                batch
            };
            self.export(batch);
            if lock(&self.state).queue.len() < batch_size {
                next_scheduled = Instant::now() + self.settings.batch.schedule_delay;
            }
            self.report_drops(&mut last_drop_report);
        }
    }

    fn export(&self, batch: Vec<Queued>) {
        #[cfg(feature = "fault-injection")]
        if std::env::var("SPANPLUG_FAULT_INJECTION").as_deref() == Ok("otlp_worker_panic") {
            panic!("fault injection: otlp_worker_panic");
        }
        let count = batch.len() as u64;
        let body = batch::body(
            &batch,
            &self.settings.resource_overrides,
            self.settings.protocol,
            self.settings.compression,
        );
        drop(batch);
        let export_deadline = deadline_after(self.settings.batch.export_timeout);
        let deadline = || match lock(&self.state).shutdown_deadline {
            Some(shutdown) => shutdown.min(export_deadline),
            None => export_deadline,
        };
        let started = Instant::now();
        let outcome = self.transport.send(&body, count, &deadline);
        self.record_duration(started, &outcome);
        match outcome {
            Outcome::Delivered { rejected } => {
                self.counts
                    .delivered
                    .fetch_add(count - rejected.min(count), Ordering::Relaxed);
                self.counts
                    .rejected
                    .fetch_add(rejected.min(count), Ordering::Relaxed);
            }
            Outcome::Failed { reason, logged } => {
                self.counts.failed.fetch_add(count, Ordering::Relaxed);
                let mut last = lock(&self.last_failure_log);
                if !logged && last.is_none_or(|at| at.elapsed() >= FAILURE_LOG_INTERVAL) {
                    *last = Some(Instant::now());
                    self.logger.warn(&format!(
                        "{}: {count} spans not delivered: {reason}; {} failed in all",
                        self.name,
                        self.counts.failed.load(Ordering::Relaxed)
                    ));
                }
            }
        }
        lock(&self.state).settled += count;
        self.progress.notify_all();
    }

    /// `otel.sdk.exporter.operation.duration` of one export, when self metrics are on.
    fn record_duration(&self, started: Instant, outcome: &Outcome) {
        if let Some(recorder) = self.durations.get() {
            let error_type = match outcome {
                Outcome::Delivered { rejected: 0 } => None,
                Outcome::Delivered { .. } => Some("rejected"),
                Outcome::Failed { .. } => Some("failed"),
            };
            let seconds = started.elapsed().as_secs_f64();
            recorder.record(seconds, self.transport.last_status(), error_type);
        }
    }

    fn report_drops(&self, last: &mut (Instant, u64)) {
        let dropped = self.counts.dropped_queue_full.load(Ordering::Relaxed);
        if dropped > last.1 && last.0.elapsed() >= DROP_REPORT_INTERVAL {
            self.logger.warn(&format!(
                "{}: {} spans dropped in the last {}s because the queue was full (max_queue_size {}); {dropped} in all",
                self.name,
                dropped - last.1,
                last.0.elapsed().as_secs(),
                self.settings.batch.max_queue_size
            ));
            *last = (Instant::now(), dropped);
        }
    }
}
