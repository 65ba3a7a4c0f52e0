//! An example of a plugin a user writes: it depends only on `spanplug-api` and writes
//! every failed span as one JSON line to a file, for an on-call engineer to `tail -f`.
//! Health checks are skipped, and attribute values whose keys look secret are redacted.
//!
//! ```yaml
//! tracing_config:
//!   exporter_import_path: [console_file:default_tracing_exporter, error_spans:error_log]
//!   exporter_config:
//!     error_log_file: /var/log/myservice/errors.jsonl
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value as Json};
use spanplug_api::{
    export_plugin, Logger, PluginContext, Processor, SpanProcessor, SpanView, StatusCode, Value,
    ValueRef,
};

export_plugin! {
    error_log: "Appends failed spans (ERROR status or HTTP 5xx) as JSON lines to exporter_config.error_log_file, skipping health checks and redacting secrets",
}

/// Attribute keys containing any of these have their values replaced.
const SECRET_KEY_PARTS: [&str; 6] = [
    "password",
    "secret",
    "token",
    "authorization",
    "api_key",
    "cookie",
];

struct ErrorLog {
    path: String,
    file: Mutex<Option<BufWriter<File>>>,
    logger: Logger,
}

fn is_health_check(span: &SpanView<'_>) -> bool {
    let path = span
        .attribute("url.path")
        .and_then(Value::as_str)
        .unwrap_or("");
    path == "/health" || path == "/healthz" || span.name.as_str().ends_with("/health")
}

fn failed(span: &SpanView<'_>) -> bool {
    span.status.code == StatusCode::ERROR
        || matches!(span.attribute("http.response.status_code").map(Value::get), Some(ValueRef::I64(code)) if code >= 500)
}

fn json_value(value: &Value<'_>) -> Json {
    match value.get() {
        ValueRef::Bool(b) => json!(b),
        ValueRef::I64(i) => json!(i),
        ValueRef::F64(f) => json!(f),
        ValueRef::String(s) => json!(s),
        ValueRef::BoolArray(items) => json!(items),
        ValueRef::I64Array(items) => json!(items),
        ValueRef::F64Array(items) => json!(items),
        ValueRef::StringArray(items) => json!(items.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        // Kinds newer than this plugin's interface.
        _ => Json::Null,
    }
}

impl SpanProcessor for ErrorLog {
    fn name(&self) -> String {
        format!("error_log({})", self.path)
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        if !span.is_exportable() || !failed(span) || is_health_check(span) {
            return;
        }
        let attributes: Map<String, Json> = span
            .attributes
            .iter()
            .map(|kv| {
                let key = kv.key.as_str();
                let lower = key.to_ascii_lowercase();
                let value = if SECRET_KEY_PARTS.iter().any(|part| lower.contains(part)) {
                    json!("[redacted]")
                } else {
                    json_value(&kv.value)
                };
                (key.to_string(), value)
            })
            .collect();
        let service = span
            .resource
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "service.name")
            .map(|kv| json_value(&kv.value))
            .unwrap_or(Json::Null);
        let line = json!({
            "service": service,
            "name": span.name.as_str(),
            "trace_id": span.context.trace_id.to_string(),
            "span_id": span.context.span_id.to_string(),
            "error": span.status.description.as_str(),
            "duration_ms": (span.end_time_unix_nano.saturating_sub(span.start_time_unix_nano)) as f64 / 1e6,
            "attributes": attributes,
        });
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(file) = file.as_mut() {
            if let Err(error) = writeln!(file, "{line}") {
                self.logger
                    .error(&format!("cannot write {}: {error}", self.path));
            }
        }
    }

    fn force_flush(&self, _timeout: Duration) -> Result<(), String> {
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        file.as_mut()
            .map_or(Ok(()), |f| f.flush())
            .map_err(|e| e.to_string())
    }

    fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        self.force_flush(timeout)?;
        // Dropping the writer closes the file.
        self.file.lock().unwrap_or_else(|p| p.into_inner()).take();
        Ok(())
    }
}

fn error_log(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    let path = ctx.config_value("error_log_file").ok_or(
        "exporter_config.error_log_file is required: the file failed spans are appended to",
    )?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {path}: {e}"))?;
    Ok(vec![Processor::new(ErrorLog {
        path: path.to_string(),
        file: Mutex::new(Some(BufWriter::new(file))),
        logger: ctx.logger(),
    })])
}
