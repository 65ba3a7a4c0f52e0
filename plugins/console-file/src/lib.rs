//! `console_file`: spanplug's default exporter. Writes every ended span as JSON in
//! the Python OpenTelemetry SDK's `ConsoleSpanExporter` layout, one file per process.
//!
//! `exporter_config` keys:
//! - `log_dir`: spans go to `<log_dir>/spans/<service>_<pid>.json` (default:
//!   `$TMPDIR/spanplug-<uid>/logs`; the host maps `SPANPLUG_LOG_DIR` onto it). Folders
//!   are created 0750 and files 0640; a spans folder writable by every user is refused.
//! - `format`: `pretty` (default, the Python layout) or `jsonl` (one compact object
//!   per line, in `<service>_<pid>.jsonl`).
//! - `flush_interval_ms`: how often buffered spans reach the file (default 1000).

mod format;
mod sink;

use std::path::PathBuf;
use std::time::Duration;

use spanplug_api::{export_plugin, PluginContext, Processor};

use crate::format::Layout;
use crate::sink::{ConsoleProcessor, Destination, Settings};

export_plugin! {
    default_tracing_exporter: "Writes each span as JSON (Python ConsoleSpanExporter layout) to <log_dir>/spans/<service>_<pid>.json",
    debug_span_processor: "Writes each span as JSON (Python ConsoleSpanExporter layout) to stdout",
}

fn default_tracing_exporter(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    let log_dir = ctx
        .config_value("log_dir")
        .map(PathBuf::from)
        .unwrap_or_else(default_log_dir);
    let destination = Destination::Directory {
        dir: log_dir.join("spans"),
        service: ctx.service_name().to_string(),
    };
    start(ctx, destination)
}

/// `$TMPDIR/spanplug-<uid>/logs`: per user, so no one else owns the folder spans go to.
fn default_log_dir() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    std::env::temp_dir()
        .join(format!("spanplug-{uid}"))
        .join("logs")
}

fn debug_span_processor(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    start(ctx, Destination::Stdout)
}

fn start(ctx: &PluginContext<'_>, destination: Destination) -> Result<Vec<Processor>, String> {
    let layout = match ctx.config_value("format") {
        None | Some("pretty") => Layout::Pretty,
        Some("jsonl") => Layout::Lines,
        Some(other) => {
            return Err(format!(
                "exporter_config.format: expected `pretty` or `jsonl`, got `{other}`"
            ))
        }
    };
    let flush_interval = match ctx.config_value("flush_interval_ms") {
        None => Duration::from_millis(1000),
        Some(ms) => ms
            .parse::<u64>()
            .ok()
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis)
            .ok_or_else(|| {
                format!("exporter_config.flush_interval_ms: expected a positive integer of milliseconds, got `{ms}`")
            })?,
    };
    let settings = Settings {
        destination,
        layout,
        flush_interval,
        dry_run: ctx.is_dry_run(),
    };
    let processor = ConsoleProcessor::start(settings, ctx.logger())?;
    Ok(vec![Processor::new(processor)])
}
