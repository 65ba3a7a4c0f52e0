//! Spans built in a test: a sampled span with fresh ids, started at a fixed time and
//! lasting 1 ms unless told otherwise.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spanplug_api::{OwnedValue, SpanId, SpanKind, StatusCode, TraceId};
use spanplug_loader::span::{
    Attribute, ContextRecord, EventRecord, ResourceRecord, ScopeRecord, SpanRecord,
};

/// 2023-11-14T22:13:20Z: spans start here unless [`TestSpan::start_unix_nano`] says.
const START_UNIX_NANO: u64 = 1_700_000_000_000_000_000;

/// A span to hand to a [`Pipeline`](crate::Pipeline); the pipeline gives it its
/// context's resource, as a tracer provider gives its spans.
#[derive(Clone, Debug)]
pub struct TestSpan {
    pub(crate) record: SpanRecord,
}

impl TestSpan {
    /// A sampled, internal, unset-status root span `name` with fresh ids.
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut trace_id = [0x5a; 16];
        trace_id[8..].copy_from_slice(&n.to_be_bytes());
        TestSpan {
            record: SpanRecord {
                context: ContextRecord {
                    trace_id: TraceId(trace_id),
                    span_id: SpanId(n.to_be_bytes()),
                    trace_flags: 1,
                    is_remote: false,
                    trace_state: String::new(),
                },
                parent_span_id: SpanId::INVALID,
                parent_is_remote: false,
                name: name.to_string(),
                kind: SpanKind::INTERNAL,
                start_time_unix_nano: START_UNIX_NANO,
                end_time_unix_nano: START_UNIX_NANO + 1_000_000,
                attributes: Vec::new(),
                dropped_attributes_count: 0,
                events: Vec::new(),
                dropped_events_count: 0,
                links: Vec::new(),
                dropped_links_count: 0,
                status_code: StatusCode::UNSET,
                status_description: String::new(),
                scope: Arc::new(ScopeRecord {
                    name: "spanplug-plugin-test".into(),
                    ..ScopeRecord::default()
                }),
                resource: Arc::new(ResourceRecord::new(Vec::new(), "")),
            },
        }
    }

    /// Sets an attribute (a key set twice keeps its last value, as the SDK does).
    pub fn attribute(mut self, key: &str, value: impl Into<OwnedValue>) -> Self {
        self.set(Attribute::new(key, value));
        self
    }

    /// The span's kind (`SpanKind::SERVER`, ...).
    pub fn kind(mut self, kind: SpanKind) -> Self {
        self.record.kind = kind;
        self
    }

    /// Ends with status `ERROR` and this description.
    pub fn error(mut self, description: &str) -> Self {
        self.record.status_code = StatusCode::ERROR;
        self.record.status_description = description.to_string();
        self
    }

    /// Ends with status `OK`.
    pub fn ok(mut self) -> Self {
        self.record.status_code = StatusCode::OK;
        self.record.status_description.clear();
        self
    }

    /// Starts at this Unix time in nanoseconds, keeping its duration.
    pub fn start_unix_nano(mut self, start: u64) -> Self {
        let duration = self.record.end_time_unix_nano - self.record.start_time_unix_nano;
        self.record.start_time_unix_nano = start;
        self.record.end_time_unix_nano = start.saturating_add(duration);
        self
    }

    /// Lasts `duration` (end time minus start time).
    pub fn duration(mut self, duration: Duration) -> Self {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        self.record.end_time_unix_nano = self.record.start_time_unix_nano.saturating_add(nanos);
        self
    }

    /// Lasts this many milliseconds.
    pub fn duration_ms(self, millis: u64) -> Self {
        self.duration(Duration::from_millis(millis))
    }

    /// Records an event `name` with `attributes`, 0.5 ms after the start.
    pub fn event(mut self, name: &str, attributes: &[(&str, OwnedValue)]) -> Self {
        self.record.events.push(EventRecord {
            name: name.to_string(),
            time_unix_nano: self.record.start_time_unix_nano + 500_000,
            attributes: attributes
                .iter()
                .map(|(key, value)| Attribute::new(key, value.clone()))
                .collect(),
            dropped_attributes_count: 0,
        });
        self
    }

    /// A child of `parent` (same trace, `parent`'s span id as its parent).
    pub fn child_of(mut self, parent: &TestSpan) -> Self {
        self.record.context.trace_id = parent.record.context.trace_id;
        self.record.parent_span_id = parent.record.context.span_id;
        self
    }

    /// Recorded but not sampled: only processors that saw it start see it end, and
    /// exporters must not export it.
    pub fn record_only(mut self) -> Self {
        self.record.context.trace_flags &= !1;
        self
    }

    /// The span's current value of `key` (after [`Pipeline::start`](crate::Pipeline::start)
    /// edits, say).
    pub fn get(&self, key: &str) -> Option<&OwnedValue> {
        self.record
            .attributes
            .iter()
            .find(|a| &*a.key == key)
            .map(|a| &a.value)
    }

    pub(crate) fn set(&mut self, attribute: Attribute) {
        match self
            .record
            .attributes
            .iter_mut()
            .find(|a| a.key == attribute.key)
        {
            Some(slot) => slot.value = attribute.value,
            None => self.record.attributes.push(attribute),
        }
    }
}
