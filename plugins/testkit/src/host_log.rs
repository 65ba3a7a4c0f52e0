//! The host log as a test sees it: plugin messages sent through a natively run
//! factory's context, and everything the real loader logs through the `log` facade.

use std::sync::{Mutex, OnceLock};

use spanplug_api::abi_stable::prefix_type::WithMetadata;
use spanplug_api::abi_stable::std_types::RStr;
use spanplug_api::{HostServices, HostServicesRef, LogLevel};

/// Lines kept per test process; later ones are counted, not kept.
const MAX_LINES: usize = 100_000;

struct Lines {
    kept: Vec<String>,
    dropped: u64,
}

static LINES: Mutex<Lines> = Mutex::new(Lines {
    kept: Vec::new(),
    dropped: 0,
});

fn push(line: String) {
    let mut lines = LINES.lock().unwrap_or_else(|p| p.into_inner());
    if lines.kept.len() < MAX_LINES {
        lines.kept.push(line);
    } else {
        lines.dropped += 1;
    }
}

/// How many lines were captured so far (where a pipeline's own lines start).
pub(crate) fn mark() -> usize {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).kept.len()
}

/// Lines captured since `mark` that contain `needle`.
pub(crate) fn since(mark: usize, needle: &str) -> Vec<String> {
    let lines = LINES.lock().unwrap_or_else(|p| p.into_inner());
    lines.kept[mark.min(lines.kept.len())..]
        .iter()
        .filter(|line| line.contains(needle))
        .cloned()
        .collect()
}

/// Every line captured in this test process, as `LEVEL message` (plugin messages as
/// `LEVEL [module:function] message`, as the host logs them).
pub fn host_log_lines() -> Vec<String> {
    LINES.lock().unwrap_or_else(|p| p.into_inner()).kept.clone()
}

/// The services a natively run factory's context points to: its log is captured.
pub(crate) fn host_services() -> HostServicesRef {
    static SERVICES: WithMetadata<HostServices> = WithMetadata::new(HostServices::new(capture));
    HostServicesRef::from_static(&SERVICES)
}

extern "C" fn capture(level: LogLevel, origin: RStr<'_>, message: RStr<'_>) {
    // Never unwind into the plugin that called.
    let _ = std::panic::catch_unwind(|| push(format!("{} [{origin}] {message}", level.as_str())));
}

/// Captures the loader's `log` records too (once per process; a test that installed
/// a logger of its own keeps it, and then only native plugin messages are captured).
pub(crate) fn capture_loader_log() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if log::set_logger(&LoaderLog).is_ok() {
            log::set_max_level(log::LevelFilter::Debug);
        }
    });
}

struct LoaderLog;

impl log::Log for LoaderLog {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        push(format!("{} {}", record.level(), record.args()));
    }

    fn flush(&self) {}
}
