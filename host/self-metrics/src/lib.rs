//! spanplug's own health as OpenTelemetry SDK metrics: the `otel.sdk.*` instruments of
//! the semantic conventions ("Semantic conventions for OpenTelemetry SDK metrics"),
//! collected by opentelemetry_sdk's metrics SDK and sent with opentelemetry-otlp as
//! OTLP/HTTP protobuf. One crate, so a Rust service (spanplug-sdk) and a Python one
//! (the `spanplug` package) report the same figures from the same code.
//!
//! - Host side: `otel.sdk.span.started` and `otel.sdk.span.live` from [`SpanCounts`],
//!   which the front end bumps where spans start and end (one add each into the thread's own shard:
//!   no locked instruction, see `spanplug_loader::counters`).
//! - Per processor: each plugin built against spanplug-api 0.3.1 or later writes its
//!   cumulative counters and gauges into a sink the host polls at collection time,
//!   and records each export call's duration through the recorder it was handed. For a
//!   plugin built against 0.3.0 the host reports the spans it handed over.
//!
//! Off unless asked for (`self_metrics` in `tracing_config`, `OTEL_METRICS_EXPORTER=otlp`,
//! or a configuration file's `meter_provider`, which no variable overrides); see the
//! README's "Watching spanplug itself".

#![warn(missing_docs)]

mod client;
mod export;
mod figures;
mod instruments;
mod span_counts;

use std::fmt;
use std::sync::{Arc, Mutex};

use opentelemetry::metrics::{Histogram, MeterProvider as _};
use opentelemetry_sdk::metrics::{
    Aggregation, Instrument, InstrumentKind, PeriodicReader, SdkMeterProvider, Stream,
};
use opentelemetry_sdk::Resource;
use spanplug_api::sync::lock;
use spanplug_api::DurationRecorder;
use spanplug_api::ValueRef;
use spanplug_config::{HistogramAggregation, SelfMetricsConfig};
use spanplug_loader::span::ResourceRecord;
use spanplug_loader::Component;

pub use span_counts::{ParentOrigin, SpanCounts};

use instruments::{Recorder, Registry};

/// Why the pipeline could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SelfMetricsErrorKind {
    /// A variable or config value is not what it should be; the message names it.
    InvalidSetting,
    /// The exporter or its HTTP client could not be built.
    Exporter,
}

/// The pipeline could not start; the message names the setting (never its secret).
#[derive(Debug, thiserror::Error)]
#[error("self metrics: {message}")]
pub struct SelfMetricsError {
    kind: SelfMetricsErrorKind,
    message: String,
}

impl SelfMetricsError {
    pub(crate) fn new(kind: SelfMetricsErrorKind, message: String) -> Self {
        SelfMetricsError { kind, message }
    }

    /// What went wrong.
    pub fn kind(&self) -> SelfMetricsErrorKind {
        self.kind
    }
}

/// `default_histogram_aggregation: base2_exponential_bucket_histogram`: every histogram
/// with the spec's default exponential buckets (160 at most, scale 20 at most).
fn exponential_histograms(instrument: &Instrument) -> Option<Stream> {
    if instrument.kind() != InstrumentKind::Histogram {
        return None;
    }
    Stream::builder()
        .with_aggregation(Aggregation::Base2ExponentialHistogram {
            max_size: 160,
            max_scale: 20,
            record_min_max: true,
        })
        .build()
        .ok()
}

/// The running pipeline: its meter provider, the span counts, and the components
/// it polls. Shut it down after the tracer provider, so that the final export carries
/// the plugins' final figures.
pub struct SelfMetrics {
    provider: SdkMeterProvider,
    counts: Arc<SpanCounts>,
    registry: Registry,
    durations: Histogram<f64>,
}

impl fmt::Debug for SelfMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = lock(&self.registry)
            .iter()
            .map(|c| c.component_name().to_string())
            .collect();
        f.debug_struct("SelfMetrics")
            .field("components", &names)
            .finish_non_exhaustive()
    }
}

impl SelfMetrics {
    /// Starts the pipeline when `config` (the `self_metrics` key) or
    /// `OTEL_METRICS_EXPORTER` asks for it; `None` when self metrics are off.
    pub fn start(
        config: Option<&SelfMetricsConfig>,
        resource: Resource,
    ) -> Result<Option<SelfMetrics>, SelfMetricsError> {
        let Some(resolved) = export::resolve(config)? else {
            return Ok(None);
        };
        let reader = PeriodicReader::builder(resolved.exporter()?)
            .with_interval(resolved.interval)
            .build();
        let mut builder = SdkMeterProvider::builder()
            .with_reader(reader)
            .with_resource(resource);
        if resolved.histogram_aggregation() == Some(HistogramAggregation::Base2Exponential) {
            builder = builder.with_view(exponential_histograms);
        }
        let provider = builder.build();
        let meter = provider.meter("spanplug");
        let counts = Arc::new(SpanCounts::default());
        let registry: Registry = Arc::new(Mutex::new(Vec::new()));
        instruments::register(&meter, &registry, &counts);
        log::info!(
            "self metrics on: otel.sdk.* every {:?} over OTLP/HTTP",
            resolved.interval
        );
        Ok(Some(SelfMetrics {
            durations: instruments::duration_histogram(&meter),
            provider,
            counts,
            registry,
        }))
    }

    /// [`SelfMetrics::start`] for a front end that holds the loader's resource (the
    /// Python package): its scalar attributes become the metrics' resource.
    pub fn start_for_resource(
        config: Option<&SelfMetricsConfig>,
        resource: &ResourceRecord,
    ) -> Result<Option<SelfMetrics>, SelfMetricsError> {
        let view = resource.view();
        let attributes = view.attributes.iter().filter_map(|kv| {
            let value: opentelemetry::Value = match kv.value.get() {
                ValueRef::Bool(b) => b.into(),
                ValueRef::I64(i) => i.into(),
                ValueRef::F64(f) => f.into(),
                ValueRef::String(s) => s.to_string().into(),
                _ => return None,
            };
            Some(opentelemetry::KeyValue::new(
                kv.key.as_str().to_string(),
                value,
            ))
        });
        let resource = Resource::builder_empty()
            .with_attributes(attributes)
            .build();
        SelfMetrics::start(config, resource)
    }

    /// The counts a front end bumps where spans start and end.
    pub fn span_counts(&self) -> Arc<SpanCounts> {
        Arc::clone(&self.counts)
    }

    /// Polls `components` from now on: turns on the host's count of spans handed
    /// over for plugins that report nothing, and hands each plugin its recorder of
    /// export durations.
    pub fn watch(&self, components: Vec<Component>) {
        for component in &components {
            component.count_handed_over();
            let figures = figures::Figures::of(component);
            if let Some(attributes) = figures.exporter_attributes() {
                component.attach_duration_recorder(DurationRecorder::new(Recorder {
                    histogram: self.durations.clone(),
                    attributes,
                }));
            }
        }
        lock(&self.registry).extend(components);
    }

    /// Collects and sends what is due now.
    pub fn force_flush(&self) -> Result<(), String> {
        self.provider.force_flush().map_err(|e| e.to_string())
    }

    /// A last collection and export, then stops; the components are let go.
    pub fn shutdown(&self) -> Result<(), String> {
        let result = self.provider.shutdown().map_err(|e| e.to_string());
        lock(&self.registry).clear();
        result
    }
}
