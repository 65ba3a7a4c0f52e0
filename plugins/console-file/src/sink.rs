//! The processor: formats each ended span on the calling thread and copies it into
//! an in-memory buffer; a plugin-owned thread ([`crate::writer`]) writes full buffers
//! (and, on an interval, the partial one) to the file. `on_end` never calls `write(2)`
//! and never waits on a lock held during I/O: buffers wait in a hand-off bounded in
//! bytes ([`crate::handoff`]), and a span that does not fit is dropped and counted.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use spanplug_api::{Logger, MetricsReport, SpanProcessor, SpanView};

use crate::folders::Folders;
use crate::format::{write_span, Layout};
use crate::handoff::BUFFER_BYTES;
use crate::span_file::{file_stem, SpanFile};
use crate::writer::{Shared, Sink};
use spanplug_api::sync::lock;

thread_local! {
    static RECORD: RefCell<String> = RefCell::new(String::with_capacity(4096));
}

/// Where the processor writes spans.
#[derive(Debug)]
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
        /// [`check_file_name`](crate::span_file::check_file_name)) instead of `<service>_<pid>.<ext>`.
        file_name: Option<String>,
    },
    /// Standard output, written after every span (`debug_span_processor`).
    Stdout,
}

/// How a [`ConsoleProcessor`] is set up.
#[derive(Debug)]
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

impl ConsoleProcessor {
    /// Opens the destination (in a dry run, only checks it) and starts the writer thread.
    pub fn start(settings: Settings, logger: Logger) -> Result<Self, String> {
        let (sink, name) = open(&settings)?;
        let shared = Arc::new(Shared::new(name, settings.layout, sink, logger));
        let writer_thread = Shared::spawn_writer(&shared, settings.flush_interval)
            .map_err(|e| format!("cannot start the writer thread: {e}"))?;
        Ok(ConsoleProcessor {
            shared,
            writer_thread: Mutex::new(Some(writer_thread)),
        })
    }
}

impl std::fmt::Debug for ConsoleProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleProcessor")
            .field("name", &self.shared.name())
            .finish_non_exhaustive()
    }
}

/// What the writer thread writes to, and the processor's name, which says where that
/// is: the span file created (in a dry run, only the folders checked), or stdout.
fn open(settings: &Settings) -> Result<(Sink, String), String> {
    let extension = match settings.layout {
        Layout::Pretty => "json",
        Layout::Lines => "jsonl",
    };
    let Destination::Directory {
        root,
        root_may_be_link,
        dir,
        service,
        file_name,
    } = &settings.destination
    else {
        return Ok(if settings.dry_run {
            (Sink::Nowhere, "console_file(stdout, dry run)".into())
        } else {
            (Sink::Stdout, "console_file(stdout)".into())
        });
    };
    let chain = Folders::new(root, *root_may_be_link, dir);
    let (stem, extension) = file_stem(service, file_name.as_deref(), extension);
    if settings.dry_run {
        let path = chain
            .check_without_creating()?
            .join(format!("{stem}.{extension}"));
        return Ok((
            Sink::Nowhere,
            format!("console_file({}, dry run)", path.display()),
        ));
    }
    let file = SpanFile::create(chain, &stem, &extension)?;
    let name = format!("console_file({})", file.path.display());
    Ok((Sink::File(file), name))
}

impl SpanProcessor for ConsoleProcessor {
    fn name(&self) -> String {
        self.shared.name().to_string()
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
            write_span(&mut record, span, self.shared.layout());
            self.shared.append(&record);
            // One huge span must not stay allocated on this thread for good.
            if record.capacity() > BUFFER_BYTES {
                *record = String::with_capacity(4096);
            }
        });
    }

    fn report_metrics(&self, report: &mut MetricsReport<'_>) -> bool {
        self.shared.report(report);
        true
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
            self.shared.close();
        }
        self.shared.shutdown_report(flushed)
    }
}
