//! The processor: formats each ended span on the calling thread and appends it to a
//! buffered output in one locked write, so records never tear; a plugin-owned thread
//! flushes the buffer on an interval.

use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spanplug_api::{Logger, SpanProcessor, SpanView};

use crate::format::{write_span, Layout};

/// How often write errors are logged at most.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);
const BUFFER_BYTES: usize = 64 * 1024;

/// Files this process has open, so two processors never share one.
static OPEN_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

thread_local! {
    static RECORD: RefCell<String> = RefCell::new(String::with_capacity(4096));
}

pub enum Destination {
    /// A file inside this directory, named for the service and process.
    Directory {
        dir: PathBuf,
        service: String,
    },
    Stdout,
}

pub struct Settings {
    pub destination: Destination,
    pub layout: Layout,
    pub flush_interval: Duration,
    /// Check the destination, create nothing, write nowhere (`spanplug check`).
    pub dry_run: bool,
}

pub struct ConsoleProcessor {
    shared: Arc<Shared>,
    flusher: Mutex<Option<JoinHandle<()>>>,
}

struct Shared {
    name: String,
    layout: Layout,
    /// Stdout is flushed after every span so it reads as it happens.
    flush_every_span: bool,
    output: Mutex<Output>,
    stopping: Mutex<bool>,
    wake: Condvar,
    written: AtomicU64,
    dropped: AtomicU64,
    logger: Logger,
    file: Option<PathBuf>,
}

struct Output {
    writer: Option<BufWriter<Box<dyn Write + Send>>>,
    /// Spans in the buffer, not yet handed to the OS: written on a successful
    /// flush, dropped on a failed one.
    pending: u64,
    last_error_log: Option<Instant>,
}

impl Output {
    /// After a failed write the buffer's contents are lost (a full disk, a closed
    /// pipe): count them, and start a clean buffer so later spans can still get through.
    fn discard_buffer(&mut self) -> u64 {
        if let Some(writer) = self.writer.take() {
            let (inner, _unwritten) = writer.into_parts();
            self.writer = Some(BufWriter::with_capacity(BUFFER_BYTES, inner));
        }
        std::mem::take(&mut self.pending)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ConsoleProcessor {
    pub fn start(settings: Settings, logger: Logger) -> Result<Self, String> {
        let (writer, file, name): (Box<dyn Write + Send>, _, _) = match &settings.destination {
            Destination::Directory { dir, service } => {
                let extension = match settings.layout {
                    Layout::Pretty => "json",
                    Layout::Lines => "jsonl",
                };
                if settings.dry_run {
                    let path = check_span_dir(dir)?.join(format!("{}.{extension}", stem(service)));
                    let name = format!("console_file({}, dry run)", path.display());
                    (Box::new(std::io::sink()), None, name)
                } else {
                    let (file, path) = open_span_file(dir, service, extension)?;
                    let name = format!("console_file({})", path.display());
                    (Box::new(file), Some(path), name)
                }
            }
            Destination::Stdout => (
                Box::new(std::io::stdout()),
                None,
                "console_file(stdout)".into(),
            ),
        };
        let shared = Arc::new(Shared {
            name,
            layout: settings.layout,
            flush_every_span: matches!(settings.destination, Destination::Stdout),
            output: Mutex::new(Output {
                writer: Some(BufWriter::with_capacity(BUFFER_BYTES, writer)),
                pending: 0,
                last_error_log: None,
            }),
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            written: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            logger,
            file,
        });
        let flusher = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("spanplug-console-file-flush".into())
                .spawn(move || shared.flush_periodically(settings.flush_interval))
                .map_err(|e| format!("cannot start the flush thread: {e}"))?
        };
        Ok(ConsoleProcessor {
            shared,
            flusher: Mutex::new(Some(flusher)),
        })
    }
}

/// `<service>_<pid>`: the span file's name without extension.
fn stem(service: &str) -> String {
    format!("{}_{}", file_safe(service), std::process::id())
}

/// In a folder anyone can write to, another user could plant a link where the span
/// file will be opened: refuse it (a sticky shared folder like /tmp is no place for
/// spans either).
fn refuse_world_writable(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)
        .map_err(|e| format!("cannot inspect the spans directory {}: {e}", dir.display()))?
        .permissions()
        .mode();
    if mode & 0o002 != 0 {
        return Err(format!(
            "the spans directory {} is writable by every user (mode {:o}); use a directory only its owner can write",
            dir.display(),
            mode & 0o7777
        ));
    }
    Ok(())
}

/// What `open_span_file` would meet, checked without creating anything: `dir` is
/// usable if it exists and passes the same checks, or its nearest existing ancestor
/// is a folder this process may create it in. Returns `dir`.
fn check_span_dir(dir: &Path) -> Result<&Path, String> {
    let writable = |path: &Path| {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: a valid NUL-terminated path; access only reads it.
        unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
    };
    let existing = dir
        .ancestors()
        .find(|a| !a.as_os_str().is_empty() && a.symlink_metadata().is_ok())
        .unwrap_or(Path::new("."));
    if !existing.is_dir() {
        return Err(format!(
            "cannot create the spans directory {}: {} is not a directory",
            dir.display(),
            existing.display()
        ));
    }
    if existing == dir {
        refuse_world_writable(dir)?;
    }
    if !writable(existing) {
        return Err(format!(
            "cannot create the span file in {}: {} is not writable by this user",
            dir.display(),
            existing.display()
        ));
    }
    Ok(dir)
}

/// Creates `<dir>/<service>_<pid>.<ext>`, or `<service>_<pid>_<n>.<ext>` when this
/// process already writes the first name.
fn open_span_file(dir: &Path, service: &str, extension: &str) -> Result<(File, PathBuf), String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o750)
        .create(dir)
        .map_err(|e| format!("cannot create the spans directory {}: {e}", dir.display()))?;
    refuse_world_writable(dir)?;
    let stem = stem(service);
    let mut open = lock(&OPEN_FILES);
    let path = (1..)
        .map(|n| match n {
            1 => dir.join(format!("{stem}.{extension}")),
            n => dir.join(format!("{stem}_{n}.{extension}")),
        })
        .find(|candidate| !open.contains(candidate))
        .expect("an unbounded range always yields a free name");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o640)
        .open(&path)
        .map_err(|e| format!("cannot open the span file {}: {e}", path.display()))?;
    open.push(path.clone());
    Ok((file, path))
}

/// Service names become file names: keep `[A-Za-z0-9._-]`, replace the rest.
fn file_safe(service: &str) -> String {
    let safe: String = service
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() || safe.starts_with('.') {
        format!("service{safe}")
    } else {
        safe
    }
}

impl Shared {
    fn flush_periodically(&self, interval: Duration) {
        loop {
            let stopping = lock(&self.stopping);
            if *stopping {
                return;
            }
            let stopping = *self
                .wake
                .wait_timeout(stopping, interval)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
            // Flush without holding `stopping`, so shutdown is never stuck behind a write.
            if lock(&self.output).pending > 0 {
                let _ = self.flush();
            }
            if stopping {
                return;
            }
        }
    }

    fn append(&self, record: &str) {
        let mut output = lock(&self.output);
        let Some(writer) = output.writer.as_ref() else {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        // Flush first when the record will not fit, so that what BufWriter hands to
        // the OS is always exactly the pending spans (and the accounting stays exact).
        let mut result = Ok(());
        if !writer.buffer().is_empty() && writer.buffer().len() + record.len() > writer.capacity() {
            result = self.flush_locked(&mut output);
        }
        // Whether this span is already counted (pending or written).
        let mut counted = false;
        if result.is_ok() {
            let writer = output.writer.as_mut().expect("checked above");
            result = writer.write_all(record.as_bytes());
            if result.is_ok() {
                // A record larger than the buffer goes straight to the OS.
                counted = true;
                if !writer.buffer().is_empty() {
                    output.pending += 1;
                } else {
                    self.written.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if result.is_ok() && self.flush_every_span {
            result = self.flush_locked(&mut output);
        }
        if let Err(error) = result {
            let lost = output.discard_buffer() + u64::from(!counted);
            self.dropped.fetch_add(lost, Ordering::Relaxed);
            self.report_write_error(&mut output, &error);
        }
    }

    /// Hands the buffer to the OS; on success its spans count as written.
    fn flush_locked(&self, output: &mut Output) -> std::io::Result<()> {
        let Some(writer) = output.writer.as_mut() else {
            return Ok(());
        };
        writer.flush()?;
        self.written
            .fetch_add(std::mem::take(&mut output.pending), Ordering::Relaxed);
        Ok(())
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
            "{}: span not written: {error}; {} spans dropped so far",
            self.name,
            self.dropped.load(Ordering::Relaxed)
        ));
    }

    fn flush(&self) -> Result<(), String> {
        let mut output = lock(&self.output);
        self.flush_locked(&mut output).map_err(|error| {
            let lost = output.discard_buffer();
            self.dropped.fetch_add(lost, Ordering::Relaxed);
            self.report_write_error(&mut output, &error);
            format!("flush failed: {error}; {lost} spans lost")
        })
    }
}

impl SpanProcessor for ConsoleProcessor {
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
        RECORD.with(|record| {
            let mut record = record.borrow_mut();
            record.clear();
            write_span(&mut record, span, self.shared.layout);
            self.shared.append(&record);
        });
    }

    fn force_flush(&self, _timeout: Duration) -> Result<(), String> {
        self.shared.flush()
    }

    fn shutdown(&self, _timeout: Duration) -> Result<(), String> {
        *lock(&self.shared.stopping) = true;
        self.shared.wake.notify_all();
        if let Some(flusher) = lock(&self.flusher).take() {
            let _ = flusher.join();
        }
        // A failed final flush is counted in `dropped` like any other write error.
        let _ = self.shared.flush();
        // Dropping the writer closes the file.
        lock(&self.shared.output).writer = None;
        if let Some(path) = &self.shared.file {
            lock(&OPEN_FILES).retain(|open| open != path);
        }
        let dropped = self.shared.dropped.load(Ordering::Relaxed);
        let written = self.shared.written.load(Ordering::Relaxed);
        if dropped > 0 {
            return Err(format!(
                "{dropped} spans dropped (not written), {written} written"
            ));
        }
        Ok(())
    }
}
