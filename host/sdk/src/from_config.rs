//! What the `opentelemetry_sdk` provider is built from a [`TracingConfig`]: its
//! resource and its sampler.

use opentelemetry_sdk::resource::{
    EnvResourceDetector, ResourceDetector, SdkProvidedResourceDetector, TelemetryResourceDetector,
};
use opentelemetry_sdk::trace::Sampler;
use opentelemetry_sdk::Resource;
use spanplug_config::{OtelSampler, TracingConfig};

/// The resource: facts about the process (`host.name`, `process.pid`,
/// `container.id`, `k8s.*`), then the SDK's detectors (`OTEL_SERVICE_NAME`,
/// `OTEL_RESOURCE_ATTRIBUTES`, `telemetry.sdk.*`), which win over them, and the
/// config's service name (set in code) over all, as in the Rust SDK.
///
/// A config read from an OpenTelemetry configuration file has its own resource,
/// which no environment detector adds to.
pub fn resource(config: &TracingConfig) -> Resource {
    if let Some(spec) = &config.resource {
        return crate::from_file::resource(spec, config.service_name.as_deref());
    }
    let detectors: [Box<dyn ResourceDetector>; 3] = [
        Box::new(SdkProvidedResourceDetector),
        Box::new(TelemetryResourceDetector),
        Box::new(EnvResourceDetector::new()),
    ];
    let mut resource = Resource::builder_empty()
        .with_attributes(crate::host_facts::process_facts())
        .with_detectors(&detectors);
    if let Some(name) = &config.service_name {
        resource = resource.with_service_name(name.clone());
    }
    resource.build()
}

/// Parent-based with a trace-id-ratio root, like Ray Serve, unless
/// `OTEL_TRACES_SAMPLER` names another sampler and no ratio was configured.
pub fn sampler(config: &TracingConfig) -> Sampler {
    match (config.sampling_ratio, config.otel_sampler) {
        (Some(ratio), _) => parent_based_ratio(ratio),
        (None, Some(otel)) => otel_sampler(otel),
        (None, None) => parent_based_ratio(1.0),
    }
}

fn otel_sampler(sampler: OtelSampler) -> Sampler {
    match sampler {
        OtelSampler::AlwaysOn => Sampler::AlwaysOn,
        OtelSampler::AlwaysOff => Sampler::AlwaysOff,
        OtelSampler::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        OtelSampler::ParentBasedAlwaysOn => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
        OtelSampler::ParentBasedAlwaysOff => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
        OtelSampler::ParentBasedTraceIdRatio(ratio) => parent_based_ratio(ratio),
    }
}

fn parent_based_ratio(ratio: f64) -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))
}
