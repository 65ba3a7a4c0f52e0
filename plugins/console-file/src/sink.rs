//! The processor: formats each ended span on the calling thread and copies it into
//! an in-memory buffer; a plugin-owned thread writes full buffers (and, on an
//! interval, the partial one) to the file. `on_end` never calls `write(2)` and never
//! waits on a lock held during I/O: full buffers wait in a bounded hand-off, and a
//! span that finds it full is dropped and counted.
//!
//! The span file is created exclusively, never through a link, in folders owned by
//! this user and writable by nobody else; one moved or deleted while the process runs
//! is noticed before the next write and created again.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use spanplug_api::{Logger, SpanProcessor, SpanView};

use crate::format::{write_span, Layout};

/// How often write errors and drops are logged at most.
const ERROR_LOG_INTERVAL: Duration = Duration::from_secs(10);
/// A buffer is handed to the writer thread once it holds this much.
const BUFFER_BYTES: usize = 64 * 1024;
/// Full buffers waiting for the writer thread (8 MiB, some 8,000 spans); past this,
/// spans are dropped and counted rather than the application waiting.
const MAX_PENDING_BUFFERS: usize = 128;

/// Files this process has open, so two processors never share one.
static OPEN_FILES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

thread_local! {
    static RECORD: RefCell<String> = RefCell::new(String::with_capacity(4096));
}

/// Where the processor writes spans.
pub enum Destination {
    /// A file inside `dir`, named for the service and process. Every folder from
    /// `root` (the configured `log_dir`, or the default's per-user base) down to `dir`
    /// is checked; `root` may be a link only when it came from the config.
    Directory {
        /// The topmost folder checked: the configured `log_dir`, or the per-user base.
        root: PathBuf,
        /// Whether `root` may be a symbolic link (only when it came from the config).
        root_may_be_link: bool,
        /// The spans folder, created 0700 with any missing parents.
        dir: PathBuf,
        /// The service name, for the default file name.
        service: String,
        /// The file's name (`exporter_config.file_name`, checked by
        /// [`check_file_name`]) instead of `<service>_<pid>.<ext>`.
        file_name: Option<String>,
    },
    /// Standard output, written after every span (`debug_span_processor`).
    Stdout,
}

/// How a [`ConsoleProcessor`] is set up.
pub struct Settings {
    /// Where spans go.
    pub destination: Destination,
    /// How each span is laid out (`format`).
    pub layout: Layout,
    /// How often a partly filled buffer is written (`flush_interval_ms`).
    pub flush_interval: Duration,
    /// Check the destination, create nothing, write nowhere (`spanplug check`).
    pub dry_run: bool,
}

/// The `console_file` span processor; a thread it owns does the writing.
pub struct ConsoleProcessor {
    shared: Arc<Shared>,
    writer_thread: Mutex<Option<JoinHandle<()>>>,
}

/// Spans copied in, not yet written.
#[derive(Default)]
struct Buffer {
    bytes: Vec<u8>,
    spans: u64,
}

#[derive(Default)]
struct Queue {
    current: Buffer,
    full: VecDeque<Buffer>,
    /// Spans accepted so far (handed to a buffer), and written or lost so far: a
    /// flush waits until `settled` reaches the `accepted` it saw.
    accepted: u64,
    settled: u64,
    /// A flush or shutdown asked for the partial buffer now.
    flush_requested: bool,
    stopping: bool,
    /// The writer thread ended (stopping, or it panicked).
    writer_done: bool,
}

struct Shared {
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

enum Sink {
    File(SpanFile),
    Stdout,
    Nowhere,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ConsoleProcessor {
    /// Opens the destination (in a dry run, only checks it) and starts the writer thread.
    pub fn start(settings: Settings, logger: Logger) -> Result<Self, String> {
        let extension = match settings.layout {
            Layout::Pretty => "json",
            Layout::Lines => "jsonl",
        };
        let (sink, name) = match &settings.destination {
            Destination::Directory {
                root,
                root_may_be_link,
                dir,
                service,
                file_name,
            } if settings.dry_run => {
                let chain = Folders::new(root, *root_may_be_link, dir);
                let (stem, extension) = file_stem(service, file_name.as_deref(), extension);
                let path = chain
                    .check_without_creating()?
                    .join(format!("{stem}.{extension}"));
                (
                    Sink::Nowhere,
                    format!("console_file({}, dry run)", path.display()),
                )
            }
            Destination::Directory {
                root,
                root_may_be_link,
                dir,
                service,
                file_name,
            } => {
                let chain = Folders::new(root, *root_may_be_link, dir);
                let (stem, extension) = file_stem(service, file_name.as_deref(), extension);
                let file = SpanFile::create(chain, &stem, &extension)?;
                let name = format!("console_file({})", file.path.display());
                (Sink::File(file), name)
            }
            Destination::Stdout => (Sink::Stdout, "console_file(stdout)".into()),
        };
        let write_every_span = matches!(sink, Sink::Stdout);
        let shared = Arc::new(Shared {
            name,
            layout: settings.layout,
            write_every_span,
            queue: Mutex::default(),
            work: Condvar::new(),
            progress: Condvar::new(),
            written: AtomicU64::new(0),
            dropped_full: AtomicU64::new(0),
            lost_writing: AtomicU64::new(0),
            logger,
            output: Mutex::new(Output {
                sink,
                last_error_log: None,
                last_drop_log: (Instant::now(), 0),
            }),
        });
        let writer_thread = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("spanplug-console-file".into())
                .spawn(move || {
                    // A panic here must not cross into the host; flushes then fail at once.
                    let interval = settings.flush_interval;
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        shared.write_until_stopped(interval)
                    }));
                    shared.writer_ended();
                })
                .map_err(|e| format!("cannot start the writer thread: {e}"))?
        };
        Ok(ConsoleProcessor {
            shared,
            writer_thread: Mutex::new(Some(writer_thread)),
        })
    }
}

/// The span file's name, split into stem and extension: `file_name` as given, else
/// `<service>_<pid>.<extension>`.
fn file_stem(service: &str, file_name: Option<&str>, extension: &str) -> (String, String) {
    match file_name.map(|name| name.rsplit_once('.').unwrap_or((name, ""))) {
        Some((stem, given)) => (stem.to_string(), given.to_string()),
        None => (
            format!("{}_{}", file_safe(service), std::process::id()),
            extension.to_string(),
        ),
    }
}

/// The longest file name most filesystems take, in bytes.
const MAX_FILE_NAME: usize = 255;

/// A `file_name` setting names one file inside the spans folder: no folders, no
/// `.`/`..`, no control characters, at most 255 bytes with room for a `_<n>` suffix.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let problem = if name.is_empty() || name == "." || name == ".." {
        Some("is not a file name")
    } else if name.contains('/') {
        Some("names a folder; give only the file's name (log_dir sets the folder)")
    } else if name.chars().any(char::is_control) {
        Some("contains control characters")
    } else if name.len() > MAX_FILE_NAME - 5 {
        Some("is longer than 250 bytes")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(format!(
            "exporter_config.file_name {:?} {problem}",
            spanplug_api::text::escape_controls(name, MAX_FILE_NAME + 16)
        )),
        None => Ok(()),
    }
}

/// This process's effective user.
fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// The folders from the configured root down to the spans folder: each must be a
/// directory owned by this user and writable by no one else, so nobody else can
/// plant or swap what is in them.
struct Folders {
    root: PathBuf,
    root_may_be_link: bool,
    dir: PathBuf,
}

impl Folders {
    fn new(root: &Path, root_may_be_link: bool, dir: &Path) -> Folders {
        Folders {
            root: root.to_path_buf(),
            root_may_be_link,
            // Outside the root (a hand-built destination), the spans folder alone.
            dir: dir.to_path_buf(),
        }
    }

    /// `root`, then each folder below it down to `dir`.
    fn chain(&self) -> Vec<PathBuf> {
        match self.dir.strip_prefix(&self.root) {
            Ok(below) => {
                let mut chain = vec![self.root.clone()];
                let mut at = self.root.clone();
                for part in below.components() {
                    at.push(part);
                    chain.push(at.clone());
                }
                chain
            }
            Err(_) => vec![self.dir.clone()],
        }
    }

    fn check(&self, folder: &Path) -> Result<(), String> {
        let follow = self.root_may_be_link && folder == self.root;
        let meta = if follow {
            std::fs::metadata(folder)
        } else {
            std::fs::symlink_metadata(folder)
        }
        .map_err(|e| format!("cannot inspect the spans folder {}: {e}", folder.display()))?;
        if !meta.is_dir() {
            return Err(format!(
                "{} is not a directory (a link or a file); spans are only written in real folders",
                folder.display()
            ));
        }
        if meta.uid() != euid() {
            return Err(format!(
                "the spans folder {} is owned by uid {}, not this user (uid {}); use a folder of this user's",
                folder.display(),
                meta.uid(),
                euid()
            ));
        }
        let mode = meta.mode() & 0o7777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "the spans folder {} is writable by {} (mode {mode:o}); use a folder only its owner can write",
                folder.display(),
                if mode & 0o002 != 0 { "every user" } else { "its group" }
            ));
        }
        Ok(())
    }

    /// Creates what is missing (0700), then checks every folder.
    fn create(&self) -> Result<(), String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| format!("cannot create the spans folder {}: {e}", self.dir.display()))?;
        self.chain()
            .iter()
            .try_for_each(|folder| self.check(folder))
    }

    /// What [`Folders::create`] would meet, without creating anything: the folders
    /// that exist pass the checks, and the nearest existing one lets this user create
    /// the rest. Returns `dir`.
    fn check_without_creating(&self) -> Result<&Path, String> {
        let existing = self
            .dir
            .ancestors()
            .find(|a| !a.as_os_str().is_empty() && a.symlink_metadata().is_ok())
            .unwrap_or(Path::new("."));
        for folder in self.chain() {
            if folder.symlink_metadata().is_ok() {
                self.check(&folder)?;
            }
        }
        if existing != self.dir {
            if !existing.is_dir() {
                return Err(format!(
                    "cannot create the spans folder {}: {} is not a directory",
                    self.dir.display(),
                    existing.display()
                ));
            }
            if !writable(existing) {
                return Err(format!(
                    "cannot create the spans folder {}: {} is not writable by this user",
                    self.dir.display(),
                    existing.display()
                ));
            }
        }
        Ok(&self.dir)
    }
}

fn writable(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c_path) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path; access only reads it.
    unsafe { libc::access(c_path.as_ptr(), libc::W_OK | libc::X_OK) == 0 }
}

/// The span file: created exclusively, never through a link, and recreated if it is
/// moved or deleted while the process runs.
struct SpanFile {
    folders: Folders,
    path: PathBuf,
    file: File,
    /// Device and inode of what we opened, to notice a moved or deleted file.
    identity: (u64, u64),
    /// Bytes of whole records written: a failed write is cut back to it, so the file
    /// never ends in a torn record.
    len: u64,
}

impl SpanFile {
    /// `<dir>/<stem>.<ext>`, or `<stem>_<n>.<ext>` when that name is taken (by this
    /// process, an earlier process with this pid, or anyone else): a file is never
    /// shared or appended to.
    fn create(folders: Folders, stem: &str, extension: &str) -> Result<SpanFile, String> {
        folders.create()?;
        let dir = folders.dir.clone();
        let dot = if extension.is_empty() { "" } else { "." };
        let mut open = lock(&OPEN_FILES);
        for n in 1..=1000 {
            let path = match n {
                1 => dir.join(format!("{stem}{dot}{extension}")),
                n => dir.join(format!("{stem}_{n}{dot}{extension}")),
            };
            if open.contains(&path) {
                continue;
            }
            match open_new(&path) {
                Ok(file) => {
                    let identity = identity(&file).map_err(|e| {
                        format!("cannot inspect the span file {}: {e}", path.display())
                    })?;
                    open.push(path.clone());
                    return Ok(SpanFile {
                        folders,
                        path,
                        file,
                        identity,
                        len: 0,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(format!(
                        "cannot create the span file {}: {e}",
                        path.display()
                    ))
                }
            }
        }
        Err(format!(
            "cannot create a span file in {}: 1000 names for {stem} are taken",
            dir.display()
        ))
    }

    /// Before a write: if the file at our path is no longer the one we hold (moved,
    /// deleted, replaced), create it again. `Ok(true)` when it was recreated.
    fn ensure_current(&mut self) -> std::io::Result<bool> {
        let current = std::fs::symlink_metadata(&self.path).map(|m| (m.dev(), m.ino()));
        if current.as_ref().ok() == Some(&self.identity) {
            return Ok(false);
        }
        self.folders.create().map_err(std::io::Error::other)?;
        // Whatever now has our name (a rotated-in file, or a planted link) is not
        // trusted: only a file we create ourselves is written to.
        if current.is_ok() {
            return Err(std::io::Error::other(format!(
                "{} was replaced by another file; spans are not written into a file spanplug did not create",
                self.path.display()
            )));
        }
        self.file = open_new(&self.path)?;
        self.identity = identity(&self.file)?;
        self.len = 0;
        Ok(true)
    }

    /// Appends whole records, or nothing: a write that fails part-way (a full disk)
    /// is cut back to where it started.
    fn write_records(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, SeekFrom};
        match self.file.write_all(bytes) {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                let _ = self.file.set_len(self.len);
                let _ = self.file.seek(SeekFrom::Start(self.len));
                Err(error)
            }
        }
    }
}

fn open_new(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .mode(0o600)
        .open(path)
}

fn identity(file: &File) -> std::io::Result<(u64, u64)> {
    file.metadata().map(|m| (m.dev(), m.ino()))
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
    /// Copies one formatted record in; never writes, never waits on I/O.
    fn append(&self, record: &str) {
        let mut queue = lock(&self.queue);
        if queue.stopping || queue.writer_done {
            drop(queue);
            self.dropped_full.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if !queue.current.bytes.is_empty()
            && queue.current.bytes.len() + record.len() > BUFFER_BYTES
        {
            if queue.full.len() >= MAX_PENDING_BUFFERS {
                drop(queue);
                self.dropped_full.fetch_add(1, Ordering::Relaxed);
                self.work.notify_one();
                return;
            }
            let full = std::mem::take(&mut queue.current);
            queue.full.push_back(full);
            self.work.notify_one();
        }
        queue.current.bytes.extend_from_slice(record.as_bytes());
        queue.current.spans += 1;
        queue.accepted += 1;
        if self.write_every_span {
            queue.flush_requested = true;
            drop(queue);
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
                    if !queue.full.is_empty() || queue.flush_requested || queue.stopping || due {
                        break;
                    }
                    let wait = next.saturating_duration_since(Instant::now());
                    queue = self
                        .work
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0;
                }
                let mut batch: Vec<Buffer> = queue.full.drain(..).collect();
                let take_current =
                    queue.flush_requested || queue.stopping || Instant::now() >= next;
                if take_current && queue.current.spans > 0 {
                    batch.push(std::mem::take(&mut queue.current));
                }
                if take_current {
                    queue.flush_requested = false;
                    next = Instant::now() + interval;
                }
                (batch, queue.stopping)
            };
            let settled: u64 = batch.iter().map(|b| b.spans).sum();
            if !batch.is_empty() {
                self.write_batch(batch);
            }
            {
                let mut queue = lock(&self.queue);
                queue.settled += settled;
                self.progress.notify_all();
                if stopping && queue.full.is_empty() && queue.current.spans == 0 {
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
        let dropped = self.dropped_full.load(Ordering::Relaxed);
        let mut output = lock(&self.output);
        let (at, reported) = output.last_drop_log;
        if dropped > reported && at.elapsed() >= ERROR_LOG_INTERVAL {
            self.logger.warn(&format!(
                "{}: {} spans dropped in the last {}s because writing fell behind ({MAX_PENDING_BUFFERS} buffers of {BUFFER_BYTES} bytes waiting); {dropped} in all",
                self.name,
                dropped - reported,
                at.elapsed().as_secs()
            ));
            output.last_drop_log = (Instant::now(), dropped);
        }
    }

    fn lost(&self) -> u64 {
        self.dropped_full.load(Ordering::Relaxed) + self.lost_writing.load(Ordering::Relaxed)
    }

    /// The writer thread is gone: nothing will settle what is still queued.
    fn writer_ended(&self) {
        let mut queue = lock(&self.queue);
        queue.writer_done = true;
        let unwritten = queue.accepted - queue.settled;
        queue.settled = queue.accepted;
        queue.full.clear();
        queue.current = Buffer::default();
        drop(queue);
        self.lost_writing.fetch_add(unwritten, Ordering::Relaxed);
        self.progress.notify_all();
    }

    /// Asks for everything accepted so far to be written, and waits up to `timeout`.
    fn flush(&self, timeout: Duration, stop: bool) -> Result<(), String> {
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
            queue = self
                .progress
                .wait_timeout(queue, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if queue.writer_done && !stop {
            return Err(format!("{}: the writer thread stopped", self.name));
        }
        Ok(())
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

    fn force_flush(&self, timeout: Duration) -> Result<(), String> {
        self.shared.flush(timeout, false)
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        let flushed = self.shared.flush(timeout, true);
        if flushed.is_ok() {
            if let Some(writer) = lock(&self.writer_thread).take() {
                let _ = writer.join();
            }
            // Dropping the file closes it.
            let mut output = lock(&self.shared.output);
            if let Sink::File(file) = std::mem::replace(&mut output.sink, Sink::Nowhere) {
                lock(&OPEN_FILES).retain(|open| *open != file.path);
            }
        }
        let written = self.shared.written.load(Ordering::Relaxed);
        let (full, failed) = (
            self.shared.dropped_full.load(Ordering::Relaxed),
            self.shared.lost_writing.load(Ordering::Relaxed),
        );
        match flushed {
            Err(unwritten) => Err(format!(
                "shutdown timed out: {unwritten}; {written} written, {full} dropped (writing fell behind), {failed} lost to write errors"
            )),
            Ok(()) if full + failed > 0 => Err(format!(
                "{} spans dropped (not written): {full} because writing fell behind, {failed} to write errors; {written} written",
                full + failed
            )),
            Ok(()) => Ok(()),
        }
    }
}
