//! The exporting processor: `on_end` copies the span into a bounded queue and
//! returns; a thread the plugin owns batches, sends and accounts for every span.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spanplug_api::settings::deadline_after;
use spanplug_api::sync::{lock, wait_timeout};
use spanplug_api::{DurationRecorder, Logger, MetricsReport, SpanProcessor, SpanView};

use crate::batch::{FactoryResource, Queued};
use crate::settings::Settings;
use crate::transport::Transport;

mod export_thread;
mod metrics;

/// At most this much of a shutdown's time is kept back from the worker's sending.
const SHUTDOWN_MARGIN: Duration = Duration::from_millis(100);

/// The `otlp_http` span processor: `on_end` queues spans for a thread it owns.
pub struct Exporter {
    shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// The settings, whose `Debug` shows no credentials.
impl fmt::Debug for Exporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exporter")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

struct Shared {
    name: String,
    settings: Settings,
    resource: FactoryResource,
    transport: Transport,
    logger: Logger,
    state: Mutex<State>,
    /// Wakes the worker: a full batch, a flush, or shutdown.
    work: Condvar,
    /// Wakes flushers and shutdown: progress was made.
    progress: Condvar,
    /// Mirrors `state.queue.len()` so `on_end` can skip copying a span it would drop.
    queued: AtomicUsize,
    counts: Counts,
    last_failure_log: Mutex<Option<Instant>>,
    /// The host's export-duration recorder, when self metrics are on.
    durations: OnceLock<DurationRecorder>,
}

#[derive(Default)]
struct Counts {
    accepted: AtomicU64,
    delivered: AtomicU64,
    dropped_queue_full: AtomicU64,
    dropped_after_shutdown: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    /// Accepted, then lost because the export thread died.
    lost_worker_died: AtomicU64,
}

struct State {
    queue: VecDeque<Queued>,
    /// Spans taken off the queue and finished with (delivered, failed or rejected).
    settled: u64,
    /// The highest `accepted` count a flush is waiting for.
    flush_target: u64,
    shutdown_deadline: Option<Instant>,
    stopped: bool,
    /// The export thread panicked: nothing will be sent again.
    died: bool,
}

impl Exporter {
    /// Starts the export thread; an error if the HTTP client or the thread cannot be
    /// set up.
    pub fn start(
        settings: Settings,
        resource: FactoryResource,
        logger: Logger,
    ) -> Result<Self, String> {
        let transport = Transport::new(&settings, logger.clone())?;
        let name = format!("otlp_http({})", settings.endpoint_for_logs());
        let shared = Arc::new(Shared {
            name,
            resource,
            transport,
            logger,
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(settings.batch.max_queue_size.min(4096)),
                settled: 0,
                flush_target: 0,
                shutdown_deadline: None,
                stopped: false,
                died: false,
            }),
            settings,
            work: Condvar::new(),
            progress: Condvar::new(),
            queued: AtomicUsize::new(0),
            counts: Counts::default(),
            last_failure_log: Mutex::new(None),
            durations: OnceLock::new(),
        });
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("spanplug-otlp-http".into())
                .spawn(move || {
                    // A panic must not cross into the host: record it, settle every
                    // span still owed, and wake anyone waiting.
                    let run = std::panic::AssertUnwindSafe(|| shared.run());
                    if std::panic::catch_unwind(run).is_err() {
                        shared.worker_died();
                    }
                })
                .map_err(|e| format!("cannot start the export thread: {e}"))?
        };
        Ok(Exporter {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }

    fn summary(&self) -> String {
        let c = &self.shared.counts;
        let mut summary = format!(
            "{} delivered, {} dropped (queue full), {} failed, {} rejected by the backend",
            c.delivered.load(Ordering::Relaxed),
            c.dropped_queue_full.load(Ordering::Relaxed),
            c.failed.load(Ordering::Relaxed),
            c.rejected.load(Ordering::Relaxed)
        );
        let died = c.lost_worker_died.load(Ordering::Relaxed);
        if died > 0 {
            summary.push_str(&format!(", {died} lost when the export thread died"));
        }
        let late = c.dropped_after_shutdown.load(Ordering::Relaxed);
        if late > 0 {
            summary.push_str(&format!(", {late} ended after shutdown began"));
        }
        summary
    }
}

impl Shared {
    /// Waits until `done(state)` or `deadline`; true if done.
    fn wait_for(&self, deadline: Instant, done: impl Fn(&State) -> bool) -> bool {
        let mut state = lock(&self.state);
        while !done(&state) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = wait_timeout(&self.progress, state, deadline - now);
        }
        true
    }
}

impl SpanProcessor for Exporter {
    fn name(&self) -> String {
        self.shared.name.clone()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        if !span.is_exportable() {
            return;
        }
        let shared = &self.shared;
        let capacity = shared.settings.batch.max_queue_size;
        if shared.queued.load(Ordering::Relaxed) >= capacity {
            shared
                .counts
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        let item = Queued::new(span, &shared.resource);
        let mut state = lock(&shared.state);
        if state.stopped || state.shutdown_deadline.is_some() {
            let counter = if state.died {
                &shared.counts.lost_worker_died
            } else {
                &shared.counts.dropped_after_shutdown
            };
            counter.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if state.queue.len() >= capacity {
            shared
                .counts
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        state.queue.push_back(item);
        shared.counts.accepted.fetch_add(1, Ordering::Relaxed);
        let queued = shared.queued.fetch_add(1, Ordering::Relaxed) + 1;
        drop(state);
        if queued == shared.settings.batch.max_export_batch_size {
            shared.work.notify_one();
        }
    }

    fn report_metrics(&self, report: &mut MetricsReport<'_>) -> bool {
        self.shared.report(report);
        true
    }

    fn attach_duration_recorder(&self, recorder: DurationRecorder) {
        let _ = self.shared.durations.set(recorder);
    }

    fn force_flush(&self, timeout: Duration) -> Result<(), String> {
        let shared = &self.shared;
        let target = {
            let mut state = lock(&shared.state);
            // `accepted` changes under this lock and counts the batch in flight too.
            let target = shared.counts.accepted.load(Ordering::Relaxed);
            state.flush_target = state.flush_target.max(target);
            target
        };
        shared.work.notify_one();
        if shared.wait_for(deadline_after(timeout), |s| {
            s.settled >= target || s.stopped
        }) {
            if lock(&shared.state).died {
                return Err(format!("the export thread died; {}", self.summary()));
            }
            Ok(())
        } else {
            Err(format!(
                "flush timed out after {timeout:?} with {} spans still queued",
                shared.queued.load(Ordering::Relaxed)
            ))
        }
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        let shared = &self.shared;
        let deadline = deadline_after(timeout);
        // The worker stops sending a little early so that it has finished, and its
        // accounting is final, by the time this call gives up waiting.
        let worker_deadline = deadline - (timeout / 10).min(SHUTDOWN_MARGIN);
        lock(&shared.state)
            .shutdown_deadline
            .get_or_insert(worker_deadline);
        shared.work.notify_one();
        let stopped = shared.wait_for(deadline, |s| s.stopped);
        if stopped {
            if let Some(worker) = lock(&self.worker).take() {
                let _ = worker.join();
            }
        }
        let c = &shared.counts;
        // Accepted but not settled: still queued, or in a batch being sent.
        let unsent = c.accepted.load(Ordering::Relaxed) - lock(&shared.state).settled;
        let lost = c.dropped_queue_full.load(Ordering::Relaxed)
            + c.dropped_after_shutdown.load(Ordering::Relaxed)
            + c.failed.load(Ordering::Relaxed)
            + c.rejected.load(Ordering::Relaxed)
            + c.lost_worker_died.load(Ordering::Relaxed)
            + unsent;
        let summary = self.summary();
        if lost == 0 && stopped {
            shared
                .logger
                .info(&format!("{}: shut down; {summary}", shared.name));
            Ok(())
        } else if stopped {
            Err(format!("{lost} spans lost; {summary}"))
        } else {
            Err(format!(
                "shutdown deadline passed with {unsent} spans unsent; {lost} spans lost; {summary}"
            ))
        }
    }
}
