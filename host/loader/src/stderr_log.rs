//! A minimal `log` backend for binaries: `level: message` lines on stderr, level
//! from `SPANPLUG_LOG` (`error`, `warn`, `info`, `debug`; default `info`). Terminal
//! controls and bidi overrides in messages are escaped.

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
            // Messages carry names and paths from configs and the environment: each
            // line is escaped (terminal controls, bidi overrides), the lines are kept.
            let message = record.args().to_string();
            let mut out = format!("spanplug {}:", record.level().as_str().to_ascii_lowercase());
            for (index, line) in message.split('\n').enumerate() {
                out.push_str(if index == 0 { " " } else { "\n" });
                out.push_str(&spanplug_api::text::escape_controls(line, usize::MAX));
            }
            out.push('\n');
            // A closed stderr must not take the process down.
            let _ = std::io::stderr().lock().write_all(out.as_bytes());
        }
    }

    fn flush(&self) {}
}

/// The variable naming the level.
const LOG_VAR: &str = "SPANPLUG_LOG";

/// Installs the logger unless another one is already set. A `SPANPLUG_LOG` that is
/// not a level (or not UTF-8) logs at `info`, and says so.
pub fn init() {
    let setting = crate::env::var(LOG_VAR);
    let level = match &setting {
        Ok(Some(text)) => text.trim().parse().ok(),
        _ => None,
    };
    let max = level.unwrap_or(log::LevelFilter::Info);
    if log::set_boxed_logger(Box::new(StderrLogger { max })).is_ok() {
        log::set_max_level(max);
    }
    match setting {
        Err(error) => log::warn!("{error}; logging at info"),
        Ok(Some(text)) if level.is_none() => log::warn!(
            "{LOG_VAR}: expected error, warn, info or debug, got {text:?}; logging at info"
        ),
        Ok(_) => {}
    }
}
