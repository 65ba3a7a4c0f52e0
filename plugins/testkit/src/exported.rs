//! The in-memory exporter every [`Pipeline`](crate::Pipeline) lists after the
//! plugin's processors: what an exporter there would receive, as owned copies.

use std::sync::{Arc, Mutex};

use spanplug_api::{OwnedValue, SpanKind, SpanProcessor, SpanView, StatusCode};

/// A span as a processor listed after the plugin's received it: every transformer's
/// edits applied, dropped spans never here (exporters export only exportable spans).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExportedSpan {
    /// The span's name.
    pub name: String,
    /// Its kind.
    pub kind: SpanKind,
    /// Its attributes, in order (values of kinds this interface cannot own left out).
    pub attributes: Vec<(String, OwnedValue)>,
    /// Its events: name and attributes.
    pub events: Vec<(String, Vec<(String, OwnedValue)>)>,
    /// Unset, ok or error.
    pub status_code: StatusCode,
    /// The status description (kept for errors only).
    pub status_description: String,
    /// End minus start, in nanoseconds.
    pub duration_nanos: u64,
    /// The resource's `service.name`.
    pub service_name: Option<String>,
}

impl ExportedSpan {
    /// The value of attribute `key`.
    pub fn attribute(&self, key: &str) -> Option<&OwnedValue> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, value)| value)
    }

    fn from_view(span: &SpanView<'_>) -> Self {
        let owned = |list: &[spanplug_api::KeyValue<'_>]| -> Vec<(String, OwnedValue)> {
            list.iter()
                .filter_map(|kv| {
                    OwnedValue::from_value(&kv.value).map(|v| (kv.key.as_str().to_string(), v))
                })
                .collect()
        };
        ExportedSpan {
            name: span.name.as_str().to_string(),
            kind: span.kind,
            attributes: owned(span.attributes.as_slice()),
            events: span
                .events
                .iter()
                .map(|e| (e.name.as_str().to_string(), owned(e.attributes.as_slice())))
                .collect(),
            status_code: span.status.code,
            status_description: span.status.description.as_str().to_string(),
            duration_nanos: span
                .end_time_unix_nano
                .saturating_sub(span.start_time_unix_nano),
            service_name: spanplug_api::find_value(
                span.resource.attributes.as_slice(),
                "service.name",
            )
            .and_then(|v| v.as_str())
            .map(str::to_string),
        }
    }
}

/// Keeps every exportable span it sees.
pub(crate) struct InMemoryExporter(pub(crate) Arc<Mutex<Vec<ExportedSpan>>>);

impl SpanProcessor for InMemoryExporter {
    fn name(&self) -> String {
        "in_memory_exporter".into()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        if span.is_exportable() {
            let exported = ExportedSpan::from_view(span);
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(exported);
        }
    }
}
