//! One component's figures at collection time: what the plugin wrote into the host's
//! sink, or, for a plugin that reports nothing, what the host saw (spans handed over).

use abi_stable::std_types::RStr;
use opentelemetry::KeyValue;
use spanplug_api::metrics::MetricsSink;
use spanplug_api::MetricsReport;
use spanplug_loader::{Component, PLUGIN_PANIC};

/// What a poll of one component found.
#[derive(Debug, Default)]
pub(crate) struct Figures {
    processor_type: String,
    exporter_type: String,
    pub(crate) processed: Vec<(String, u64)>,
    pub(crate) queue: Option<(u64, u64)>,
    pub(crate) inflight: Option<u64>,
    pub(crate) exported: Vec<(String, u64)>,
    server: Option<(String, u16)>,
    name: String,
}

impl MetricsSink for Figures {
    fn component_types(&mut self, processor: RStr<'_>, exporter: RStr<'_>) {
        self.processor_type = processor.as_str().to_string();
        self.exporter_type = exporter.as_str().to_string();
    }
    fn processed(&mut self, error_type: RStr<'_>, spans: u64) {
        self.processed
            .push((error_type.as_str().to_string(), spans));
    }
    fn queue(&mut self, size: u64, capacity: u64) {
        self.queue = Some((size, capacity));
    }
    fn inflight(&mut self, spans: u64) {
        self.inflight = Some(spans);
    }
    fn exported(&mut self, error_type: RStr<'_>, spans: u64) {
        self.exported.push((error_type.as_str().to_string(), spans));
    }
    fn server(&mut self, address: RStr<'_>, port: u16) {
        self.server = Some((address.as_str().to_string(), port));
    }
}

impl Figures {
    /// Polls `component`.
    pub(crate) fn of(component: &Component) -> Figures {
        let mut figures = Figures::default();
        let reported = component.report(MetricsReport::new(&mut figures));
        if !reported || figures.processor_type.is_empty() {
            let mut seen = Figures {
                processor_type: component.types().0,
                ..Figures::default()
            };
            if let Some((delivered, panicked)) = component.handed_over() {
                seen.processed = vec![
                    (String::new(), delivered),
                    (PLUGIN_PANIC.to_string(), panicked),
                ];
            }
            figures = seen;
        }
        figures.name = component.component_name().to_string();
        figures
    }

    /// `otel.component.*` of the processor half.
    pub(crate) fn processor_attributes(&self) -> Vec<KeyValue> {
        vec![
            KeyValue::new("otel.component.type", self.processor_type.clone()),
            KeyValue::new("otel.component.name", self.name.clone()),
        ]
    }

    /// `otel.component.*` and `server.*` of the exporter half; `None` if it has none.
    pub(crate) fn exporter_attributes(&self) -> Option<Vec<KeyValue>> {
        if self.exporter_type.is_empty() {
            return None;
        }
        let mut attributes = vec![
            KeyValue::new("otel.component.type", self.exporter_type.clone()),
            KeyValue::new("otel.component.name", self.name.clone()),
        ];
        if let Some((address, port)) = &self.server {
            attributes.push(KeyValue::new("server.address", address.clone()));
            attributes.push(KeyValue::new("server.port", i64::from(*port)));
        }
        Some(attributes)
    }
}

/// `base` plus `error.type` when `error_type` names one.
pub(crate) fn with_error_type(base: &[KeyValue], error_type: &str) -> Vec<KeyValue> {
    let mut attributes = base.to_vec();
    if !error_type.is_empty() {
        attributes.push(KeyValue::new("error.type", error_type.to_string()));
    }
    attributes
}
