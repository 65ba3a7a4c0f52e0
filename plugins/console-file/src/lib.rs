//! `console_file`: spanplug's default exporter. Writes every ended span as JSON in
//! the Python OpenTelemetry SDK's `ConsoleSpanExporter` layout, one file per process.
//!
//! `exporter_config` keys:
//! - `log_dir`: spans go to `<log_dir>/spans/<service>_<pid>.json` (default:
//!   `$XDG_RUNTIME_DIR/spanplug/logs`, else `$TMPDIR/spanplug-<uid>/logs`; the host
//!   maps `SPANPLUG_LOG_DIR` onto it). A relative `log_dir` is taken against the
//!   config file's folder (`PluginContext::config_dir`), else the working folder. Folders are created 0700 and files 0600, created
//!   exclusively and never through a link; `log_dir` and every folder below it must be
//!   owned by this user (or root) and writable by no one else, the rule the loader
//!   applies to plugin folders (`spanplug-file-trust`). A span file moved or deleted
//!   while the process runs is created again before the next write.
//! - `file_name`: the span file's name inside `<log_dir>/spans/` instead of
//!   `<service>_<pid>.json` (Ray Serve's names, for `spanplug.ray`); when it is
//!   taken, `<stem>_2.<ext>` and so on: a file is never shared.
//! - `format`: `pretty` (default, the Python layout) or `jsonl` (one compact object
//!   per line, in `<service>_<pid>.jsonl`).
//! - `flush_interval_ms`: how often buffered spans reach the file (default 1000).
//!
//! `debug_span_processor` reads `format` and `flush_interval_ms` only. Keys an entry's
//! own `config` gives that its factory does not read are refused, naming them and the
//! valid ones (the shared `exporter_config` is not checked: other plugins read it too).
//! In a dry run (`spanplug check`) the destination is checked, nothing is created and
//! nothing written.

#![warn(missing_docs)]

mod folders;
pub mod format;
mod handoff;
pub mod sink;
mod span_file;
mod writer;

use std::path::PathBuf;
use std::time::Duration;

use spanplug_api::{PluginContext, Processor};

use crate::format::Layout;
use crate::sink::{ConsoleProcessor, Destination, Settings};

/// The settings `debug_span_processor` reads.
const STDOUT_KEYS: [&str; 2] = ["format", "flush_interval_ms"];
/// The settings `default_tracing_exporter` reads.
const FILE_KEYS: [&str; 4] = ["log_dir", "file_name", "format", "flush_interval_ms"];

/// Factory `default_tracing_exporter`: spans to a file in `<log_dir>/spans/`.
pub fn default_tracing_exporter(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&FILE_KEYS)?;
    let (root, log_dir, root_may_be_link) = match ctx.config_value("log_dir") {
        // A relative one means the config file's folder.
        Some(dir) => (ctx.resolve_path(dir), ctx.resolve_path(dir), true),
        None => {
            let base = default_base();
            (base.clone(), base.join("logs"), false)
        }
    };
    let file_name = ctx.config_value("file_name").map(String::from);
    if let Some(name) = &file_name {
        span_file::check_file_name(name)?;
    }
    let destination = Destination::Directory {
        root,
        root_may_be_link,
        dir: log_dir.join("spans"),
        service: ctx.service_name().to_string(),
        file_name,
    };
    start(ctx, destination)
}

/// `$XDG_RUNTIME_DIR/spanplug` (the user's own runtime folder) when set, else
/// `$TMPDIR/spanplug-<uid>`: per user, so no one else owns the folder spans go to.
fn default_base() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(runtime) if runtime.is_absolute() => runtime.join("spanplug"),
        _ => {
            let uid = spanplug_file_trust::effective_uid();
            std::env::temp_dir().join(format!("spanplug-{uid}"))
        }
    }
}

/// Factory `debug_span_processor`: spans to stdout, for debugging.
pub fn debug_span_processor(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&STDOUT_KEYS)?;
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
