//! The `otel.sdk.*` instruments: observable ones read the span counts and poll every
//! component at collection time; the export-duration histogram is recorded by
//! plugins' export threads through the recorder each one is handed.

use std::sync::{Arc, Mutex};

use abi_stable::std_types::RStr;
use opentelemetry::metrics::{Histogram, Meter};
use opentelemetry::KeyValue;
use spanplug_api::metrics::DurationRecorderAbi;
use spanplug_api::sync::lock;
use spanplug_loader::Component;

use crate::figures::{with_error_type, Figures};
use crate::span_counts::{ParentOrigin, SpanCounts, SAMPLING_RESULTS};

/// The components the callbacks poll; filled by [`crate::SelfMetrics::watch`].
pub(crate) type Registry = Arc<Mutex<Vec<Component>>>;

/// Polls every watched component (on the collection thread; the application
/// threads never take this lock).
fn poll(registry: &Registry) -> Vec<Figures> {
    lock(registry).iter().map(Figures::of).collect()
}

/// Registers the observable instruments; they live as long as the meter provider.
pub(crate) fn register(meter: &Meter, registry: &Registry, counts: &Arc<SpanCounts>) {
    let spans = Arc::clone(counts);
    meter
        .u64_observable_counter("otel.sdk.span.started")
        .with_unit("{span}")
        .with_description("The number of created spans.")
        .with_callback(move |observer| {
            for (result, name) in SAMPLING_RESULTS.iter().enumerate() {
                for origin in ParentOrigin::ALL {
                    let attributes = [
                        KeyValue::new("otel.span.sampling_result", *name),
                        KeyValue::new("otel.span.parent.origin", origin.as_str()),
                    ];
                    observer.observe(spans.started_count(result, origin), &attributes);
                }
            }
        })
        .build();
    let spans = Arc::clone(counts);
    meter
        .i64_observable_up_down_counter("otel.sdk.span.live")
        .with_unit("{span}")
        .with_description("The number of created spans that have not ended yet.")
        .with_callback(move |observer| {
            for (result, name) in SAMPLING_RESULTS.iter().enumerate() {
                let attributes = [KeyValue::new("otel.span.sampling_result", *name)];
                observer.observe(spans.live(result), &attributes);
            }
        })
        .build();
    register_processor(meter, registry);
    register_exporter(meter, registry);
}

fn register_processor(meter: &Meter, registry: &Registry) {
    let components = Arc::clone(registry);
    meter
        .u64_observable_counter("otel.sdk.processor.span.processed")
        .with_unit("{span}")
        .with_description("The number of spans for which processing has finished.")
        .with_callback(move |observer| {
            for figures in poll(&components) {
                let base = figures.processor_attributes();
                for (error_type, spans) in &figures.processed {
                    observer.observe(*spans, &with_error_type(&base, error_type));
                }
            }
        })
        .build();
    for (name, description, capacity) in [
        (
            "otel.sdk.processor.span.queue.size",
            "The number of spans in the queue of a given instance of an SDK span processor.",
            false,
        ),
        (
            "otel.sdk.processor.span.queue.capacity",
            "The maximum number of spans the queue of a given instance of an SDK span processor can hold.",
            true,
        ),
    ] {
        let components = Arc::clone(registry);
        meter
            .i64_observable_up_down_counter(name)
            .with_unit("{span}")
            .with_description(description)
            .with_callback(move |observer| {
                for figures in poll(&components) {
                    if let Some((size, cap)) = figures.queue {
                        let value = if capacity { cap } else { size };
                        observer.observe(clamp(value), &figures.processor_attributes());
                    }
                }
            })
            .build();
    }
}

fn register_exporter(meter: &Meter, registry: &Registry) {
    let components = Arc::clone(registry);
    meter
        .i64_observable_up_down_counter("otel.sdk.exporter.span.inflight")
        .with_unit("{span}")
        .with_description("The number of spans which were passed to the exporter, but that have not been exported yet.")
        .with_callback(move |observer| {
            for figures in poll(&components) {
                if let (Some(attributes), Some(spans)) =
                    (figures.exporter_attributes(), figures.inflight)
                {
                    observer.observe(clamp(spans), &attributes);
                }
            }
        })
        .build();
    let components = Arc::clone(registry);
    meter
        .u64_observable_counter("otel.sdk.exporter.span.exported")
        .with_unit("{span}")
        .with_description(
            "The number of spans for which the export has finished, either successful or failed.",
        )
        .with_callback(move |observer| {
            for figures in poll(&components) {
                if let Some(base) = figures.exporter_attributes() {
                    for (error_type, spans) in &figures.exported {
                        observer.observe(*spans, &with_error_type(&base, error_type));
                    }
                }
            }
        })
        .build();
}

fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// `otel.sdk.exporter.operation.duration`, the spec's instrument.
pub(crate) fn duration_histogram(meter: &Meter) -> Histogram<f64> {
    meter
        .f64_histogram("otel.sdk.exporter.operation.duration")
        .with_unit("s")
        .with_description("The duration of exporting a batch of telemetry records.")
        .build()
}

/// The recorder handed to one component: its exporter attributes, fixed.
pub(crate) struct Recorder {
    pub(crate) histogram: Histogram<f64>,
    pub(crate) attributes: Vec<KeyValue>,
}

impl DurationRecorderAbi for Recorder {
    fn record(&self, seconds: f64, status_code: u16, error_type: RStr<'_>) {
        let mut attributes = with_error_type(&self.attributes, error_type.as_str());
        if status_code != 0 {
            attributes.push(KeyValue::new(
                "http.response.status_code",
                i64::from(status_code),
            ));
        }
        self.histogram.record(seconds, &attributes);
    }
}
