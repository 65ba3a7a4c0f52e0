//! What the questions share: the tracer providers they compare (native SDK
//! processors, plugins through the host), and timing helpers.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::bail;
use opentelemetry::trace::Span as _;
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use spanplug_bench::run_spans;
use spanplug_config::TracingConfig;
use spanplug_sdk::{RequestContext, SpanplugProcessor};
use spanplug_tests::otlp_receiver::Receiver;
use spanplug_tests::plugin_dir;

pub(crate) fn resource() -> Resource {
    Resource::builder_empty().with_service_name("bench").build()
}

pub(crate) fn native_provider(
    processor: impl SpanProcessor + 'static,
    sampler: Sampler,
) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_resource(resource())
        .with_span_processor(processor)
        .build()
}

pub(crate) fn plugin_config(import_paths: &[&str], config: &[(&str, &str)]) -> TracingConfig {
    let base = import_paths
        .iter()
        .fold(TracingConfig::default(), |c, p| {
            c.with_exporter_import_path(*p)
        })
        .with_plugin_dir(plugin_dir());
    config
        .iter()
        .fold(base, |c, (k, v)| c.with_exporter_config(*k, *v))
}

pub(crate) fn plugin_provider(
    import_paths: &[&str],
    config: &[(&str, &str)],
    sampler: Sampler,
) -> anyhow::Result<SdkTracerProvider> {
    let processor = SpanplugProcessor::load(&plugin_config(import_paths, config), &resource())?;
    Ok(native_provider(processor, sampler))
}

/// `opentelemetry-otlp`'s HTTP exporter behind the SDK's `BatchSpanProcessor`
/// (batches of 512, 100 ms delay), after `extra` if given.
pub(crate) fn otlp_sdk_provider(
    endpoint: &str,
    queue: usize,
    sampler: Sampler,
    extra: Option<Box<dyn SpanProcessor>>,
) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_headers(Default::default())
        .build()?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_millis(100))
                .build(),
        )
        .build();
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_resource(resource());
    if let Some(extra) = extra {
        builder = builder.with_span_processor(BoxedProcessor(extra));
    }
    Ok(builder.with_span_processor(batch).build())
}

/// `with_span_processor` takes a concrete type.
#[derive(Debug)]
struct BoxedProcessor(Box<dyn SpanProcessor>);

impl SpanProcessor for BoxedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.0.on_start(span, cx)
    }

    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.0.on_end(span)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

/// The native twin of `context_enricher:serve_context`: copies the request context
/// onto each span at start.
#[derive(Debug)]
pub(crate) struct NativeEnricher;

impl SpanProcessor for NativeEnricher {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        if let Some(request) = cx.get::<RequestContext>() {
            for (key, value) in request.iter() {
                span.set_attribute(KeyValue::new(key.to_string(), value.to_string()));
            }
        }
    }

    fn on_end(&self, _span: opentelemetry_sdk::trace::SpanData) {}

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

/// Runs `count` spans, then flushes; returns the elapsed time including the flush.
pub(crate) fn timed_with_flush(provider: &SdkTracerProvider, count: u64) -> Duration {
    let started = Instant::now();
    run_spans(provider, count, false);
    let _ = provider.force_flush();
    started.elapsed()
}

/// Ends `count` spans, waits for the receiver to hold them all; spans/s delivered.
pub(crate) fn delivered_rate(
    provider: &SdkTracerProvider,
    receiver: &Receiver,
    count: u64,
    with_event: bool,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    run_spans(provider, count, with_event);
    let _ = provider.force_flush();
    let delivered = receiver.wait_for_span_count(count as usize, Duration::from_secs(120));
    let elapsed = started.elapsed();
    let _ = provider.shutdown();
    if delivered < count as usize {
        bail!("only {delivered} of {count} spans delivered");
    }
    Ok(spans_per_second(elapsed, count))
}

pub(crate) fn ns_per_span(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count as f64
}

pub(crate) fn spans_per_second(elapsed: Duration, count: u64) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

/// A folder of this run's under the system's temporary folder.
pub(crate) fn tempfile_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("spanplug-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
