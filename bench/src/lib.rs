//! Benchmark support: the shipped plugins' processor logic used natively (their rlibs)
//! (the native twins the plugin path is compared with), an adapter that runs them as
//! `opentelemetry_sdk` processors, the span workload, and statistics.

use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData};
use opentelemetry_sdk::Resource;
use spanplug_sdk::loader::span::ResourceRecord;
use spanplug_sdk::span_view::{ordered_resource, with_span_view};

/// Runs one plugin-style processor natively as an SDK processor: the view is built
/// exactly as `SpanplugProcessor` builds it, then the processor is called directly.
pub struct NativeAdapter {
    processor: Box<dyn spanplug_api::SpanProcessor>,
    resource: ResourceRecord,
}

impl NativeAdapter {
    pub fn new(processor: impl spanplug_api::SpanProcessor) -> Self {
        NativeAdapter {
            processor: Box::new(processor),
            resource: ordered_resource(&Resource::builder_empty().build()),
        }
    }
}

impl std::fmt::Debug for NativeAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeAdapter")
    }
}

impl opentelemetry_sdk::trace::SpanProcessor for NativeAdapter {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, mut span: SpanData) {
        if span.span_context.is_sampled() {
            with_span_view(&mut span, &self.resource, |view| {
                self.processor.on_end(view)
            });
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.processor
            .force_flush(Duration::from_secs(30))
            .map_err(opentelemetry_sdk::error::OTelSdkError::InternalFailure)
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.processor
            .shutdown(timeout)
            .map_err(opentelemetry_sdk::error::OTelSdkError::InternalFailure)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ordered_resource(resource);
    }
}

/// An SDK processor that does nothing: the floor of the native path.
#[derive(Debug)]
pub struct NativeNoop;

impl opentelemetry_sdk::trace::SpanProcessor for NativeNoop {
    fn on_start(&self, _span: &mut opentelemetry_sdk::trace::Span, _cx: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        std::hint::black_box(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

extern "C" fn discard_log(
    _level: spanplug_api::LogLevel,
    _target: spanplug_api::abi_stable::std_types::RStr<'_>,
    _message: spanplug_api::abi_stable::std_types::RStr<'_>,
) {
}

/// A plugin context for constructing the native twins (logs are discarded).
pub fn with_native_context<R>(
    config: &[(&str, &str)],
    f: impl FnOnce(&spanplug_api::PluginContext<'_>) -> R,
) -> R {
    let config: Vec<spanplug_api::StrPair<'_>> = config
        .iter()
        .map(|(k, v)| spanplug_api::StrPair {
            key: (*k).into(),
            value: (*v).into(),
        })
        .collect();
    static SERVICES: spanplug_api::abi_stable::prefix_type::WithMetadata<
        spanplug_api::HostServices,
    > = spanplug_api::abi_stable::prefix_type::WithMetadata::new(spanplug_api::HostServices::new(
        discard_log,
    ));
    let parts = spanplug_api::ContextParts {
        import_path: "native",
        service_name: "bench",
        resource_attributes: &[],
        config: &config,
        entry_config_keys: &[],
        dry_run: false,
    };
    let services = spanplug_api::HostServicesRef::from_static(&SERVICES);
    let fields = spanplug_api::PluginContextFields::new(parts, services);
    spanplug_api::with_context(fields, |ctx| f(&spanplug_api::PluginContext::new(ctx)))
}

/// The workload: a span with 5 attributes (and optionally 1 event), started and ended.
pub fn make_span(tracer: &opentelemetry_sdk::trace::SdkTracer, i: u64, with_event: bool) {
    let mut span = tracer.start("GET /user/{id}");
    span.set_attribute(KeyValue::new("http.request.method", "GET"));
    span.set_attribute(KeyValue::new("http.route", "/user/{id}"));
    span.set_attribute(KeyValue::new("http.response.status_code", 200));
    span.set_attribute(KeyValue::new(
        "request_id",
        "0af7651916cd43dd8448eb211c80319c",
    ));
    span.set_attribute(KeyValue::new("i", i as i64));
    if with_event {
        span.add_event("cache.miss", vec![KeyValue::new("cache.key", "user:1")]);
    }
    span.end();
}

/// Ends `count` spans on one thread; returns the elapsed time.
pub fn run_spans(provider: &SdkTracerProvider, count: u64, with_event: bool) -> Duration {
    let tracer = provider.tracer("bench");
    let started = Instant::now();
    for i in 0..count {
        make_span(&tracer, i, with_event);
    }
    started.elapsed()
}

/// Median and range of repeated measurements.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(mut samples: Vec<f64>) -> Stats {
        samples.sort_by(|a, b| a.total_cmp(b));
        Stats {
            median: samples[samples.len() / 2],
            min: samples[0],
            max: samples[samples.len() - 1],
        }
    }

    /// `median (min–max)` with `digits` decimals.
    pub fn show(&self, digits: usize) -> String {
        format!(
            "{:.digits$} ({:.digits$}–{:.digits$})",
            self.median, self.min, self.max
        )
    }
}

/// Percentile of sorted samples.
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// This process's CPU time (user + system), from /proc.
pub fn cpu_time() -> Duration {
    Duration::from_millis(own_ticks() * 10)
}

/// This process's CPU time (user + system) in clock ticks (1/100 s), from /proc.
fn own_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after ')'.
    ticks(11) + ticks(12)
}

/// The machine's CPU time so far, in clock ticks, to tell what else ran while a
/// measurement did (`/proc/stat` and `/proc/self/stat`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuSample {
    total: u64,
    busy: u64,
    steal: u64,
    own: u64,
}

impl CpuSample {
    /// The counters now (all zero where /proc cannot be read).
    pub fn now() -> CpuSample {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        // cpu  user nice system idle iowait irq softirq steal guest guest_nice
        let ticks: Vec<u64> = stat
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .map(|t| t.parse().unwrap_or(0))
            .collect();
        let at = |i: usize| ticks.get(i).copied().unwrap_or(0);
        CpuSample {
            // guest time is already counted in user time.
            total: (0..8).map(at).sum(),
            busy: at(0) + at(1) + at(2) + at(5) + at(6),
            steal: at(7),
            own: own_ticks(),
        }
    }

    /// Of the machine's CPU time since `earlier`: the share other processes used and
    /// the share the hypervisor took from this guest (steal), in percent.
    pub fn shares_since(&self, earlier: &CpuSample) -> (f64, f64) {
        let total = self.total.saturating_sub(earlier.total).max(1) as f64;
        let busy = self.busy.saturating_sub(earlier.busy);
        let own = self.own.saturating_sub(earlier.own);
        let steal = self.steal.saturating_sub(earlier.steal);
        (
            100.0 * busy.saturating_sub(own) as f64 / total,
            100.0 * steal as f64 / total,
        )
    }
}

/// Resident set size in bytes, from /proc (the tests' reader).
pub fn rss_bytes() -> u64 {
    spanplug_tests::memory_kib().0 * 1024
}
