//! The writer thread, and what it shares with the processor: application threads
//! [`Shared::append`] formatted records to the hand-off ([`crate::handoff`]) and
//! never write; the thread this module runs takes whole buffers out and writes them
//! to the span file or stdout, reports write errors and drops at most every 10
//! seconds, and settles what flushes wait for.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spanplug_api::Logger;

mod metrics;

use crate::format::Layout;
use crate::handoff::{Buffer, Queue, Refused, MAX_HELD_BYTES};
use crate::span_file::{block_file_size_signal, SpanFile};
use spanplug_api::sync::{lock, wait_timeout};

/// How often write errors and drops are logged at most.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The processor's state, shared by the application threads and the writer thread.
pub(crate) struct Shared {
    name: String,
    layout: Layout,
    /// Stdout is written after every span so it reads as it happens.
    write_every_span: bool,
    queue: Mutex<Queue>,
    /// Wakes the writer: a full buffer, a flush, shutdown.
    work: Condvar,
    /// Wakes flushers: spans were settled.
    progress: Condvar,
    written: AtomicU64,
    /// Not written: the hand-off was full.
    dropped_full: AtomicU64,
    /// Not written: the record alone is bigger than the hand-off.
    dropped_too_large: AtomicU64,
    /// Not written: the write failed.
    lost_writing: AtomicU64,
    logger: Logger,
    output: Mutex<Output>,
}

/// Only the writer thread writes; flushes wait for it, never write themselves.
struct Output {
    sink: Sink,
    last_error_log: Option<Instant>,
    last_drop_log: (Instant, u64),
}

/// Where the writer thread writes.
pub(crate) enum Sink {
    /// The span file.
    File(SpanFile),
    /// Standard output, after every span.
    Stdout,
    /// Nothing: a dry run, or after shutdown.
    Nowhere,
}

impl Shared {
    /// `name` is the processor's, for reports; stdout is written after every span.
    pub(crate) fn new(name: String, layout: Layout, sink: Sink, logger: Logger) -> Shared {
        Shared {
            name,
            layout,
            write_every_span: matches!(sink, Sink::Stdout),
            queue: Mutex::default(),
            work: Condvar::new(),
            progress: Condvar::new(),
            written: AtomicU64::new(0),
            dropped_full: AtomicU64::new(0),
            dropped_too_large: AtomicU64::new(0),
            lost_writing: AtomicU64::new(0),
            logger,
            output: Mutex::new(Output {
                sink,
                last_error_log: None,
                last_drop_log: (Instant::now(), 0),
            }),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn layout(&self) -> Layout {
        self.layout
    }

    /// Starts the thread that writes what `shared` is handed, every `interval` at least.
    pub(crate) fn spawn_writer(
        shared: &Arc<Shared>,
        interval: Duration,
    ) -> std::io::Result<JoinHandle<()>> {
        let shared = Arc::clone(shared);
        std::thread::Builder::new()
            .name("spanplug-console-file".into())
            .spawn(move || {
                // Only this thread writes: a size limit must not end the process.
                block_file_size_signal();
                // A panic here must not cross into the host; flushes then fail at once.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    shared.write_until_stopped(interval)
                }));
                shared.writer_ended();
            })
    }

    /// Copies one formatted record in; never writes, never waits on I/O.
    pub(crate) fn append(&self, record: &str) {
        let mut queue = lock(&self.queue);
        let pushed = if queue.stopping || queue.writer_done {
            Err(Refused::Full)
        } else {
            queue.push(record.as_bytes())
        };
        let wake = match pushed {
            Ok(_) if self.write_every_span => {
                queue.flush_requested = true;
                true
            }
            Ok(completed) => completed,
            Err(Refused::Full) => {
                self.dropped_full.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(Refused::TooLarge) => {
                self.dropped_too_large.fetch_add(1, Ordering::Relaxed);
                false
            }
        };
        drop(queue);
        if wake {
            self.work.notify_one();
        }
    }

    /// The writer thread: writes full buffers as they come and the partial one every
    /// `interval` or when asked, until shutdown has written everything.
    fn write_until_stopped(&self, interval: Duration) {
        let mut next = Instant::now() + interval;
        loop {
            let (batch, stopping) = {
                let mut queue = lock(&self.queue);
                loop {
                    let due = Instant::now() >= next;
                    if queue.has_full() || queue.flush_requested || queue.stopping || due {
                        break;
                    }
                    let wait = next.saturating_duration_since(Instant::now());
                    queue = wait_timeout(&self.work, queue, wait);
                }
                let take_current =
                    queue.flush_requested || queue.stopping || Instant::now() >= next;
                let batch = queue.take(take_current);
                if take_current {
                    queue.flush_requested = false;
                    next = Instant::now() + interval;
                }
                (batch, queue.stopping)
            };
            let (spans, bytes) = batch.size();
            if !batch.buffers.is_empty() {
                self.write_batch(batch.buffers);
            }
            {
                let mut queue = lock(&self.queue);
                queue.settle(spans, bytes);
                self.progress.notify_all();
                if stopping && queue.is_empty() {
                    return;
                }
            }
            self.report_drops();
        }
    }

    fn write_batch(&self, batch: Vec<Buffer>) {
        let mut output = lock(&self.output);
        for buffer in batch {
            let result = match &mut output.sink {
                Sink::File(file) => match file.ensure_current() {
                    Ok(recreated) => {
                        if recreated {
                            self.logger.warn(&format!(
                                "{}: the span file was moved or deleted; created it again ({} spans written before)",
                                self.name,
                                self.written.load(Ordering::Relaxed)
                            ));
                        }
                        file.write_records(&buffer.bytes)
                    }
                    Err(error) => Err(error),
                },
                Sink::Stdout => {
                    let mut stdout = std::io::stdout().lock();
                    stdout
                        .write_all(&buffer.bytes)
                        .and_then(|()| stdout.flush())
                }
                Sink::Nowhere => Ok(()),
            };
            match result {
                Ok(()) => {
                    self.written.fetch_add(buffer.spans, Ordering::Relaxed);
                }
                Err(error) => {
                    self.lost_writing.fetch_add(buffer.spans, Ordering::Relaxed);
                    self.report_write_error(&mut output, &error);
                }
            }
        }
    }

    fn report_write_error(&self, output: &mut Output, error: &std::io::Error) {
        let now = Instant::now();
        if output
            .last_error_log
            .is_some_and(|last| now.duration_since(last) < ERROR_LOG_INTERVAL)
        {
            return;
        }
        output.last_error_log = Some(now);
        self.logger.error(&format!(
            "{}: spans not written: {error}; {} spans lost so far",
            self.name,
            self.lost()
        ));
    }

    /// Spans dropped because the hand-off was full, at most once per interval.
    fn report_drops(&self) {
        let (full, too_large) = self.dropped();
        let dropped = full + too_large;
        let mut output = lock(&self.output);
        let (at, reported) = output.last_drop_log;
        if dropped > reported && at.elapsed() >= ERROR_LOG_INTERVAL {
            self.logger.warn(&format!(
                "{}: {} spans dropped in the last {}s; {full} in all because writing fell behind ({} MiB of records waiting){}",
                self.name,
                dropped - reported,
                at.elapsed().as_secs(),
                MAX_HELD_BYTES >> 20,
                too_large_clause(too_large)
            ));
            output.last_drop_log = (Instant::now(), dropped);
        }
    }

    /// Spans dropped because writing fell behind, and because they were too large.
    fn dropped(&self) -> (u64, u64) {
        (
            self.dropped_full.load(Ordering::Relaxed),
            self.dropped_too_large.load(Ordering::Relaxed),
        )
    }

    fn lost(&self) -> u64 {
        let (full, too_large) = self.dropped();
        full + too_large + self.lost_writing.load(Ordering::Relaxed)
    }

    /// The writer thread is gone: nothing will settle what is still queued.
    fn writer_ended(&self) {
        let unwritten = lock(&self.queue).abandon();
        self.lost_writing.fetch_add(unwritten, Ordering::Relaxed);
        self.progress.notify_all();
    }

    /// Asks for everything accepted so far to be written, and waits up to `timeout`.
    pub(crate) fn flush(&self, timeout: Duration, stop: bool) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut queue = lock(&self.queue);
        let target = queue.accepted;
        queue.flush_requested = true;
        queue.stopping |= stop;
        self.work.notify_one();
        while queue.settled < target && !queue.writer_done {
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "{} spans still unwritten after {timeout:?}",
                    target - queue.settled
                ));
            }
            queue = wait_timeout(&self.progress, queue, deadline - now);
        }
        if queue.writer_done && !stop {
            return Err(format!("{}: the writer thread stopped", self.name));
        }
        Ok(())
    }

    /// After shutdown's flush: the file closes (dropped), nothing more is written.
    pub(crate) fn close(&self) {
        lock(&self.output).sink = Sink::Nowhere;
    }

    /// What shutdown reports: `flushed` (a timeout), or spans dropped or lost, with
    /// how many were written.
    pub(crate) fn shutdown_report(&self, flushed: Result<(), String>) -> Result<(), String> {
        let written = self.written.load(Ordering::Relaxed);
        let (full, too_large) = self.dropped();
        let failed = self.lost_writing.load(Ordering::Relaxed);
        let too_large_clause = too_large_clause(too_large);
        match flushed {
            Err(unwritten) => Err(format!(
                "shutdown timed out: {unwritten}; {written} written, {full} dropped (writing fell behind){too_large_clause}, {failed} lost to write errors"
            )),
            Ok(()) if full + too_large + failed > 0 => Err(format!(
                "{} spans dropped (not written): {full} because writing fell behind{too_large_clause}, {failed} to write errors; {written} written",
                full + too_large + failed
            )),
            Ok(()) => Ok(()),
        }
    }
}

/// `, N larger than the 8 MiB hand-off` for the reports, when there are any.
fn too_large_clause(too_large: u64) -> String {
    match too_large {
        0 => String::new(),
        n => format!(
            ", {n} larger than the {} MiB hand-off",
            MAX_HELD_BYTES >> 20
        ),
    }
}
