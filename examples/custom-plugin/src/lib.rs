//! `custom_plugin`: a spanplug plugin.
//!
//! `custom_plugin:span_log` appends every span that failed or lasted at least
//! `min_duration_ms` to `file`, one JSON object per line:
//!
//! ```yaml
//! tracing_config:
//!   exporter_import_path:
//!     - console_file:default_tracing_exporter
//!     - import_path: custom_plugin:span_log
//!       config: {file: /var/log/myservice/slow-spans.jsonl, min_duration_ms: 500}
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};
use spanplug_api::{
    export_plugin, find_value, KeyValue, Logger, PluginContext, Processor, SpanProcessor, SpanView,
    StatusCode, Value, ValueRef,
};

export_plugin! {
    span_log: "Appends failed or slow spans as JSON lines to `file` (settings: file, min_duration_ms)",
}

/// The settings `span_log` accepts in its entry's `config`.
const KEYS: &[&str] = &["file", "min_duration_ms"];

/// Spans at least this long are written when `min_duration_ms` is not set.
const DEFAULT_MIN_DURATION_MS: u64 = 1000;

fn span_log(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    // A misspelt key fails, naming the valid ones, instead of being ignored.
    ctx.check_keys(KEYS)?;
    // Errors name the setting and what it expects. The host shows them after
    // `factory custom_plugin:span_log failed: `, so they do not repeat it.
    // A relative path means the config file's folder, as the user expects;
    // without one (no file, or a host older than 0.3.1) the working directory.
    let value = ctx
        .config_value("file")
        .ok_or("`file` is required: the file spans are appended to")?;
    let path = ctx.resolve_path(value);
    let min_duration_ms: u64 = match ctx.config_value("min_duration_ms") {
        None => DEFAULT_MIN_DURATION_MS,
        Some(text) => text.parse().map_err(|_| {
            format!("`min_duration_ms`: expected a whole number of milliseconds, got {text:?}")
        })?,
    };
    // `spanplug check` calls every factory as a dry run: check the settings, create nothing.
    let file = if ctx.is_dry_run() {
        None
    } else {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("`file`: cannot open {}: {e}", path.display()))?;
        Some(BufWriter::new(file))
    };
    Ok(vec![Processor::new(SpanLog {
        path: path.display().to_string(),
        min_duration_nanos: min_duration_ms.saturating_mul(1_000_000),
        file: Mutex::new(file),
        logger: ctx.logger(),
    })])
}

struct SpanLog {
    path: String,
    min_duration_nanos: u64,
    file: Mutex<Option<BufWriter<File>>>,
    // Plugins never print (their stderr may be closed): they log through the host.
    logger: Logger,
}

impl SpanProcessor for SpanLog {
    fn name(&self) -> String {
        format!("span_log({})", self.path)
    }

    // Only ended spans matter: the host skips building a starting span for us.
    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        // Sampled and not dropped by a transformer listed before this entry.
        if !span.is_exportable() {
            return;
        }
        let duration_nanos = span
            .end_time_unix_nano
            .saturating_sub(span.start_time_unix_nano);
        if span.status.code != StatusCode::ERROR && duration_nanos < self.min_duration_nanos {
            return;
        }
        // The view is borrowed for this call: copy out what is kept (here, one line).
        let line = span_json(span, duration_nanos);
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(writer) = file.as_mut() {
            if let Err(error) = writeln!(writer, "{line}") {
                self.logger.error(&format!(
                    "cannot write {}: {error}; no more spans go there",
                    self.path
                ));
                *file = None;
            }
        }
    }

    fn force_flush(&self, _timeout: Duration) -> Result<(), String> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        match file.as_mut() {
            Some(writer) => writer
                .flush()
                .map_err(|e| format!("cannot write {}: {e}", self.path)),
            None => Ok(()),
        }
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        self.force_flush(timeout)?;
        // Dropping the writer closes the file.
        self.file.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(())
    }
}

/// What a reader needs to find the span again: its service, ids, duration, status
/// and attributes.
fn span_json(span: &SpanView<'_>, duration_nanos: u64) -> Json {
    let service = find_value(span.resource.attributes.as_slice(), "service.name");
    json!({
        "service": service.and_then(Value::as_str),
        "name": span.name.as_str(),
        "trace_id": span.context.trace_id.to_string(),
        "span_id": span.context.span_id.to_string(),
        "duration_ms": duration_nanos as f64 / 1e6,
        "error": (span.status.code == StatusCode::ERROR).then(|| span.status.description.as_str()),
        "attributes": attributes_json(span.attributes.as_slice()),
    })
}

fn attributes_json(attributes: &[KeyValue<'_>]) -> Map<String, Json> {
    attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_string(), value_json(&kv.value)))
        .collect()
}

fn value_json(value: &Value<'_>) -> Json {
    match value.get() {
        ValueRef::Bool(b) => json!(b),
        ValueRef::I64(i) => json!(i),
        ValueRef::F64(f) => json!(f),
        ValueRef::String(s) => json!(s),
        ValueRef::BoolArray(items) => json!(items),
        ValueRef::I64Array(items) => json!(items),
        ValueRef::F64Array(items) => json!(items),
        ValueRef::StringArray(items) => json!(items.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        // Kinds a later interface adds (the enum is open).
        _ => Json::Null,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value as Json;
    use spanplug_plugin_test::{TestContext, TestSpan};

    use super::span_log;

    /// The entry a service would name.
    const IMPORT_PATH: &str = "custom_plugin:span_log";

    fn lines(path: &std::path::Path) -> Vec<Json> {
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn failed_and_slow_spans_are_written_and_others_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spans.jsonl");
        let ctx = TestContext::new(IMPORT_PATH)
            .service_name("checkout")
            .config("file", file.display())
            .config("min_duration_ms", 100);
        let pipeline = ctx.run(span_log).unwrap();
        pipeline.end(&TestSpan::new("GET /fast").duration_ms(5));
        pipeline.end(
            &TestSpan::new("GET /slow")
                .duration_ms(250)
                .attribute("http.route", "/slow"),
        );
        pipeline.end(&TestSpan::new("POST /pay").error("card declined"));
        pipeline.end(&TestSpan::new("GET /unsampled").error("x").record_only());
        pipeline.shutdown().unwrap();

        let lines = lines(&file);
        let names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["GET /slow", "POST /pay"]);
        assert_eq!(lines[0]["duration_ms"], 250.0);
        assert_eq!(lines[0]["service"], "checkout");
        assert_eq!(lines[0]["attributes"]["http.route"], "/slow");
        assert_eq!(lines[0]["error"], Json::Null);
        assert_eq!(lines[1]["error"], "card declined");
    }

    #[test]
    fn a_misspelt_key_is_refused_naming_the_valid_ones() {
        let error = TestContext::new(IMPORT_PATH)
            .config("file", "spans.jsonl")
            .config("min_duration", 100)
            .run(span_log)
            .unwrap_err();
        assert_eq!(
            error,
            "unknown config key `min_duration` for custom_plugin:span_log; valid keys: file, min_duration_ms"
        );
    }

    #[test]
    fn a_dry_run_checks_the_settings_and_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spans.jsonl");
        let ctx = TestContext::new(IMPORT_PATH).config("file", file.display());
        ctx.clone()
            .dry_run()
            .run(span_log)
            .unwrap()
            .shutdown()
            .unwrap();
        assert!(!file.exists());

        let error = ctx
            .config("min_duration_ms", "soon")
            .dry_run()
            .run(span_log)
            .unwrap_err();
        assert_eq!(
            error,
            "`min_duration_ms`: expected a whole number of milliseconds, got \"soon\""
        );
    }
}
