//! What an OpenTelemetry configuration file sets beyond the service YAML's keys:
//! the sampler tree, span limits and the resource, with no OpenTelemetry types
//! (`spanplug-sdk` builds the SDK's from them). Exhaustive enums, so that the SDK
//! adapter cannot miss a case: a new one is a new minor version.

/// `tracer_provider.sampler`.
#[derive(Clone, Debug, PartialEq)]
pub enum SamplerSpec {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `trace_id_ratio_based` with its `ratio` (0..=1).
    TraceIdRatio(f64),
    /// `parent_based` with its five delegates.
    ParentBased(Box<ParentBasedSpec>),
}

/// The delegates of `parent_based`, each defaulted as the schema says.
#[derive(Clone, Debug, PartialEq)]
pub struct ParentBasedSpec {
    /// For spans without a parent (default `always_on`).
    pub root: SamplerSpec,
    /// Remote parent sampled (default `always_on`).
    pub remote_parent_sampled: SamplerSpec,
    /// Remote parent not sampled (default `always_off`).
    pub remote_parent_not_sampled: SamplerSpec,
    /// Local parent sampled (default `always_on`).
    pub local_parent_sampled: SamplerSpec,
    /// Local parent not sampled (default `always_off`).
    pub local_parent_not_sampled: SamplerSpec,
}

impl Default for ParentBasedSpec {
    fn default() -> Self {
        ParentBasedSpec {
            root: SamplerSpec::AlwaysOn,
            remote_parent_sampled: SamplerSpec::AlwaysOn,
            remote_parent_not_sampled: SamplerSpec::AlwaysOff,
            local_parent_sampled: SamplerSpec::AlwaysOn,
            local_parent_not_sampled: SamplerSpec::AlwaysOff,
        }
    }
}

/// `tracer_provider.limits` (with `attribute_limits.attribute_count_limit` as the
/// default of `attribute_count`). `None` leaves the SDK's default, which reads the
/// `OTEL_SPAN_*_LIMIT` variables; a config file sets every one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SpanLimitsSpec {
    /// Attributes per span.
    pub attribute_count: Option<u32>,
    /// Events per span.
    pub event_count: Option<u32>,
    /// Links per span.
    pub link_count: Option<u32>,
    /// Attributes per event.
    pub event_attribute_count: Option<u32>,
    /// Attributes per link.
    pub link_attribute_count: Option<u32>,
}

/// A resource attribute's value, typed as the file's `type` says.
#[derive(Clone, Debug, PartialEq)]
pub enum AttributeValue {
    /// `string`.
    String(String),
    /// `bool`.
    Bool(bool),
    /// `int`.
    Int(i64),
    /// `double`.
    Double(f64),
    /// `string_array`.
    StringArray(Vec<String>),
    /// `bool_array`.
    BoolArray(Vec<bool>),
    /// `int_array`.
    IntArray(Vec<i64>),
    /// `double_array`.
    DoubleArray(Vec<f64>),
}

/// A resource detector spanplug has (`resource.detection.detectors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceDetector {
    /// `service.name` from `OTEL_SERVICE_NAME`, and a `service.instance.id`.
    Service,
    /// `host.name`.
    Host,
    /// `process.pid`.
    Process,
    /// `container.id` (and the `k8s.*` facts spanplug reads).
    Container,
}

/// `resource`: exactly what the resource holds in file mode (the SDK's
/// `telemetry.sdk.*` and `service.name` default aside); no variable adds to it.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ResourceSpec {
    /// `attributes`, over `attributes_list`, in order.
    pub attributes: Vec<(String, AttributeValue)>,
    /// `schema_url`.
    pub schema_url: Option<String>,
    /// The detectors to run (their attributes rank below `attributes`).
    pub detectors: Vec<ResourceDetector>,
}
