//! Question 4: what the application thread pays per span.

use std::fmt;
use std::time::Instant;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use spanplug_bench::{make_span, percentile, NativeNoop, Stats};
use spanplug_sdk::RequestContext;
use spanplug_tests::otlp_receiver::Receiver;

use super::setup::{native_provider, otlp_sdk_provider, plugin_provider, NativeEnricher};
use super::{ratios, verdict, Options};

/// spanplug's configuration, against the native SDK with the same processors.
const ENRICHED_OTLP: [&str; 2] = ["context_enricher:serve_context", "otlp_http:otlp"];
/// The transform chain in front of the exporter.
const CHAIN_OTLP: [&str; 3] = ["span_filter:drop", "redact:attributes", "otlp_http:otlp"];

#[derive(Debug)]
pub(crate) struct AppThread {
    count: u64,
    native: Percentiles,
    plugin: Percentiles,
    unsampled: Stats,
    native_unsampled: Stats,
    timer: Stats,
    otlp_alone: Stats,
    chain: Stats,
    /// spanplug / native, run by run.
    p50_ratio: Stats,
    p99_ratio: Stats,
    /// The chain / `otlp_http:otlp` alone at p50, run by run.
    chain_ratio: Stats,
}

#[derive(Debug)]
struct Percentiles {
    p50: Stats,
    p99: Stats,
}

/// One run's figures, in ns: p50s unless named otherwise.
#[derive(Debug)]
struct Run {
    native: f64,
    native_p99: f64,
    plugin: f64,
    plugin_p99: f64,
    unsampled: f64,
    native_unsampled: f64,
    otlp_alone: f64,
    chain: f64,
    timer: f64,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<AppThread> {
    let count = options.pick(2_000, 100_000);
    let runs = (0..options.repeats())
        .map(|_| run_once(count))
        .collect::<anyhow::Result<Vec<Run>>>()?;
    let column = |pick: fn(&Run) -> f64| runs.iter().map(pick).collect::<Vec<f64>>();
    let stats = |pick: fn(&Run) -> f64| Stats::of(column(pick));
    Ok(AppThread {
        count,
        native: Percentiles {
            p50: stats(|r| r.native),
            p99: stats(|r| r.native_p99),
        },
        plugin: Percentiles {
            p50: stats(|r| r.plugin),
            p99: stats(|r| r.plugin_p99),
        },
        unsampled: stats(|r| r.unsampled),
        native_unsampled: stats(|r| r.native_unsampled),
        timer: stats(|r| r.timer),
        otlp_alone: stats(|r| r.otlp_alone),
        chain: stats(|r| r.chain),
        p50_ratio: ratios(&column(|r| r.plugin), &column(|r| r.native)),
        p99_ratio: ratios(&column(|r| r.plugin_p99), &column(|r| r.native_p99)),
        chain_ratio: ratios(&column(|r| r.chain), &column(|r| r.otlp_alone)),
    })
}

fn never() -> Sampler {
    Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0)))
}

fn run_once(count: u64) -> anyhow::Result<Run> {
    let receiver = Receiver::start();
    let endpoint = receiver.base_url();
    let native = otlp_sdk_provider(
        &endpoint,
        count as usize * 2,
        Sampler::AlwaysOn,
        Some(Box::new(NativeEnricher)),
    )?;
    let (native_p50, native_p99) = p50_p99(&native, count);
    let _ = native.shutdown();
    let queue = (count * 2).to_string();
    let config = [
        ("endpoint", endpoint.as_str()),
        ("max_queue_size", queue.as_str()),
    ];
    let plugin = plugin_provider(&ENRICHED_OTLP, &config, Sampler::AlwaysOn)?;
    let (plugin_p50, plugin_p99) = p50_p99(&plugin, count);
    let _ = plugin.shutdown();
    let unsampled = plugin_provider(&ENRICHED_OTLP, &config, never())?;
    let unsampled_p50 = p50_p99(&unsampled, count).0;
    let _ = unsampled.shutdown();
    let native_unsampled = native_provider(NativeNoop, never());
    let native_unsampled_p50 = p50_p99(&native_unsampled, count).0;
    let (otlp_alone, chain) = chain_against_exporter(&endpoint, &queue, count)?;
    Ok(Run {
        native: native_p50,
        native_p99,
        plugin: plugin_p50,
        plugin_p99,
        unsampled: unsampled_p50,
        native_unsampled: native_unsampled_p50,
        otlp_alone,
        chain,
        timer: timer_p50(count),
    })
}

/// Per-span start+end latencies on the calling thread, in ns, sorted.
fn latencies(provider: &SdkTracerProvider, count: u64) -> Vec<u64> {
    let tracer = provider.tracer("bench");
    let _request = RequestContext::new()
        .with("request_id", "0af7651916cd43dd")
        .with("app", "default")
        .with("deployment", "UserService")
        .with("replica_id", "UserService#1")
        .attach();
    let mut samples: Vec<u64> = (0..count)
        .map(|i| {
            let started = Instant::now();
            make_span(&tracer, i, false);
            started.elapsed().as_nanos() as u64
        })
        .collect();
    samples.sort_unstable();
    samples
}

fn p50_p99(provider: &SdkTracerProvider, count: u64) -> (f64, f64) {
    let samples = latencies(provider, count);
    (
        percentile(&samples, 0.5) as f64,
        percentile(&samples, 0.99) as f64,
    )
}

/// p50 of `otlp_http:otlp` alone and behind the transform chain. Both alive,
/// measured in alternating blocks, so drifts in machine load hit both.
fn chain_against_exporter(endpoint: &str, queue: &str, count: u64) -> anyhow::Result<(f64, f64)> {
    let config = [
        ("endpoint", endpoint),
        ("max_queue_size", queue),
        ("names", "GET /health*"),
    ];
    let alone = plugin_provider(&["otlp_http:otlp"], &config, Sampler::AlwaysOn)?;
    let chain = plugin_provider(&CHAIN_OTLP, &config, Sampler::AlwaysOn)?;
    let (mut alone_samples, mut chain_samples) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        alone_samples.extend(latencies(&alone, count / 10));
        chain_samples.extend(latencies(&chain, count / 10));
    }
    let p50 = |provider: SdkTracerProvider, samples: &mut Vec<u64>| {
        samples.sort_unstable();
        let _ = provider.shutdown();
        percentile(samples, 0.5) as f64
    };
    Ok((
        p50(alone, &mut alone_samples),
        p50(chain, &mut chain_samples),
    ))
}

/// The timer alone: p50 of two `Instant::now()` around nothing.
fn timer_p50(count: u64) -> f64 {
    let mut empty: Vec<u64> = (0..count)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(());
            started.elapsed().as_nanos() as u64
        })
        .collect();
    empty.sort_unstable();
    percentile(&empty, 0.5) as f64
}

impl fmt::Display for AppThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count;
        writeln!(f, "## 4. Cost on the application thread\n")?;
        writeln!(f, "Start and end of a span with 5 attributes inside a request context, timed on the application thread.")?;
        writeln!(f, "spanplug: `[context_enricher:serve_context, otlp_http:otlp]` through the host. Native: the SDK with the")?;
        writeln!(f, "same processors built in (an enricher `SpanProcessor` copying the request context in `on_start`, and")?;
        writeln!(f, "`opentelemetry-otlp` behind `BatchSpanProcessor`). Both export to a local receiver. {count} spans per run.")?;
        writeln!(f, "The transform-chain rows run both configurations side by side, in 10 alternating blocks per run.\n")?;
        writeln!(f, "| path | p50 ns | p99 ns |")?;
        writeln!(f, "|---|---|---|")?;
        for (path, figures) in [
            ("native SDK, sampled", &self.native),
            ("spanplug, sampled", &self.plugin),
        ] {
            let (p50, p99) = (figures.p50.show(0), figures.p99.show(0));
            writeln!(f, "| {path} | {p50} | {p99} |")?;
        }
        for (path, p50) in [
            ("spanplug, unsampled (ratio 0)", &self.unsampled),
            ("native SDK, unsampled (ratio 0)", &self.native_unsampled),
            ("the timer alone (two `Instant::now()`)", &self.timer),
            ("spanplug `otlp_http:otlp` alone, sampled", &self.otlp_alone),
            (
                "spanplug `[span_filter:drop, redact:attributes, otlp_http:otlp]`, sampled",
                &self.chain,
            ),
        ] {
            writeln!(f, "| {path} | {} | |", p50.show(0))?;
        }
        self.write_bars(f)
    }
}

impl AppThread {
    fn write_bars(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "\nThe transform chain (a filter rule and the default redaction, which match nothing in this workload) costs {}× `otlp_http:otlp` alone at p50 (bar ≤ 1.3×: {}).",
            self.chain_ratio.show(2),
            verdict(self.chain_ratio.median <= 1.3)
        )?;
        let unsampled = self.unsampled.median;
        writeln!(
            f,
            "\nSampled spanplug / native: p50 {}× (bar ≤ 1.1×: {}), p99 {}× (bar ≤ 1×: {}). Unsampled p50 {unsampled:.0} ns (bar ≤ 100 ns: {}); an unsampled",
            self.p50_ratio.show(2),
            verdict(self.p50_ratio.median <= 1.1),
            self.p99_ratio.show(2),
            verdict(self.p99_ratio.median <= 1.0),
            verdict(unsampled <= 100.0)
        )?;
        writeln!(f, "span never reaches a processor, so that figure is the SDK's own (native: {:.0} ns), timer included.\n", self.native_unsampled.median)
    }
}
