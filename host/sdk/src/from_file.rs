//! The SDK's pieces from what an OpenTelemetry configuration file set: its resource
//! (no environment detector adds to it), its sampler tree and its span limits.

use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_sdk::resource::{ResourceDetector, TelemetryResourceDetector};
use opentelemetry_sdk::trace::{ParentBasedSampler, Sampler, ShouldSample, SpanLimits};
use opentelemetry_sdk::Resource;
use spanplug_config::{
    AttributeValue, ResourceDetector as Detector, ResourceSpec, SamplerSpec, SpanLimitsSpec,
};

/// The file's resource: `telemetry.sdk.*`, the detectors it names, then its
/// attributes; `service.name` from those, else the one set in code, else
/// `unknown_service`.
pub(crate) fn resource(spec: &ResourceSpec, service_name: Option<&str>) -> Resource {
    let telemetry: [Box<dyn ResourceDetector>; 1] = [Box::new(TelemetryResourceDetector)];
    let mut attributes: Vec<KeyValue> = Vec::new();
    for detector in &spec.detectors {
        attributes.extend(detected(*detector));
    }
    attributes.extend(
        spec.attributes
            .iter()
            .map(|(key, value)| KeyValue::new(key.clone(), value_of(value))),
    );
    if !attributes
        .iter()
        .any(|kv| kv.key.as_str() == "service.name")
    {
        let name = service_name.unwrap_or("unknown_service").to_string();
        attributes.push(KeyValue::new("service.name", name));
    }
    let builder = Resource::builder_empty().with_detectors(&telemetry);
    match &spec.schema_url {
        Some(url) => builder.with_schema_url(attributes, url.clone()).build(),
        None => builder.with_attributes(attributes).build(),
    }
}

fn detected(detector: Detector) -> Vec<KeyValue> {
    let facts = crate::host_facts::process_facts();
    let keep = |key: &str| match detector {
        Detector::Host => key == "host.name",
        Detector::Process => key == "process.pid",
        Detector::Container => key == "container.id" || key.starts_with("k8s."),
        Detector::Service => false,
    };
    let mut found: Vec<KeyValue> = facts
        .into_iter()
        .filter(|kv| keep(kv.key.as_str()))
        .collect();
    if detector == Detector::Service {
        if let Ok(Some(name)) = spanplug_loader::env::var("OTEL_SERVICE_NAME") {
            found.push(KeyValue::new("service.name", name));
        }
        found.push(KeyValue::new("service.instance.id", instance_id()));
    }
    found
}

/// A random UUID (version 4), from the kernel's random source; the process id and
/// time when that cannot be read.
fn instance_id() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ (u128::from(std::process::id()) << 64)).to_be_bytes();
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn value_of(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::String(s) => Value::from(s.clone()),
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::Int(i) => Value::I64(*i),
        AttributeValue::Double(x) => Value::F64(*x),
        AttributeValue::StringArray(items) => Value::Array(Array::String(
            items.iter().cloned().map(StringValue::from).collect(),
        )),
        AttributeValue::BoolArray(items) => Value::Array(Array::Bool(items.clone())),
        AttributeValue::IntArray(items) => Value::Array(Array::I64(items.clone())),
        AttributeValue::DoubleArray(items) => Value::Array(Array::F64(items.clone())),
    }
}

/// A file's sampler tree as one `ShouldSample`.
#[derive(Clone, Debug)]
pub(crate) struct FileSampler(Box<dyn ShouldSample>);

impl FileSampler {
    pub(crate) fn new(spec: &SamplerSpec) -> Self {
        FileSampler(sampler(spec))
    }
}

impl ShouldSample for FileSampler {
    fn should_sample(
        &self,
        parent_context: Option<&opentelemetry::Context>,
        trace_id: opentelemetry::trace::TraceId,
        name: &str,
        span_kind: &opentelemetry::trace::SpanKind,
        attributes: &[KeyValue],
        links: &[opentelemetry::trace::Link],
    ) -> opentelemetry_sdk::trace::SamplingResult {
        self.0
            .should_sample(parent_context, trace_id, name, span_kind, attributes, links)
    }
}

/// The file's sampler, delegates and all.
fn sampler(spec: &SamplerSpec) -> Box<dyn ShouldSample> {
    match spec {
        SamplerSpec::AlwaysOn => Box::new(Sampler::AlwaysOn),
        SamplerSpec::AlwaysOff => Box::new(Sampler::AlwaysOff),
        SamplerSpec::TraceIdRatio(ratio) => Box::new(Sampler::TraceIdRatioBased(*ratio)),
        SamplerSpec::ParentBased(delegates) => Box::new(
            ParentBasedSampler::new(sampler(&delegates.root))
                .with_remote_parent_sampled(sampler(&delegates.remote_parent_sampled))
                .with_remote_parent_not_sampled(sampler(&delegates.remote_parent_not_sampled))
                .with_local_parent_sampled(sampler(&delegates.local_parent_sampled))
                .with_local_parent_not_sampled(sampler(&delegates.local_parent_not_sampled)),
        ),
    }
}

/// The SDK's limits with the file's over its defaults.
pub(crate) fn span_limits(spec: &SpanLimitsSpec) -> SpanLimits {
    let defaults = SpanLimits::default();
    SpanLimits {
        max_attributes_per_span: spec
            .attribute_count
            .unwrap_or(defaults.max_attributes_per_span),
        max_events_per_span: spec.event_count.unwrap_or(defaults.max_events_per_span),
        max_links_per_span: spec.link_count.unwrap_or(defaults.max_links_per_span),
        max_attributes_per_event: spec
            .event_attribute_count
            .unwrap_or(defaults.max_attributes_per_event),
        max_attributes_per_link: spec
            .link_attribute_count
            .unwrap_or(defaults.max_attributes_per_link),
    }
}
