//! A minimal `log` backend for binaries: `level: message` lines on stderr, level
//! from `SPANPLUG_LOG` (`error`, `warn`, `info`, `debug`; default `info`).

use std::io::Write;

struct StderrLogger {
    max: log::LevelFilter,
}

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= self.max
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            // A closed stderr must not take the process down.
            let _ = writeln!(
                std::io::stderr().lock(),
                "spanplug {}: {}",
                record.level().as_str().to_ascii_lowercase(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

/// Installs the logger unless another one is already set.
pub fn init() {
    let max = std::env::var("SPANPLUG_LOG")
        .ok()
        .and_then(|level| level.parse().ok())
        .unwrap_or(log::LevelFilter::Info);
    if log::set_boxed_logger(Box::new(StderrLogger { max })).is_ok() {
        log::set_max_level(max);
    }
}
