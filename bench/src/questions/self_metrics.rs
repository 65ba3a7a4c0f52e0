//! Question 11: what spanplug's own `otel.sdk.*` metrics cost on the application
//! thread, on against off in one run.

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use spanplug_bench::{run_spans, Stats};
use spanplug_config::SelfMetricsConfig;
use spanplug_sdk::SpanplugProcessor;
use spanplug_self_metrics::SelfMetrics;
use spanplug_tests::otlp_receiver::Receiver;

use super::setup::{native_provider, ns_per_span, plugin_config, resource};
use super::{by_turns, verdict, Options};

/// The runs come in this many alternating blocks each.
const BLOCKS: u64 = 10;
/// What counting may add per span.
const BAR_NS: f64 = 5.0;

#[derive(Debug)]
pub(crate) struct SelfMetricsCost {
    count: u64,
    /// The plugin that reports nothing (the host counts its hand-over too).
    silent: OnOff,
    /// The plugin that reports its own figures, as the shipped exporters do.
    reporting: OnOff,
}

/// ns per span off and on, and what on adds, run by run.
#[derive(Debug)]
struct OnOff {
    off: Stats,
    on: Stats,
    added: Stats,
}

/// Self metrics to `receiver`, collected every 60 s (none during a run).
pub(crate) fn start(receiver: &Receiver) -> anyhow::Result<SelfMetrics> {
    let config = SelfMetricsConfig::default()
        .with_endpoint(format!("{}/v1/metrics", receiver.base_url()))
        .with_interval(Duration::from_secs(60));
    SelfMetrics::start(Some(&config), resource())?
        .ok_or_else(|| anyhow::anyhow!("self metrics did not start"))
}

/// The no-op plugin `import_path`, with self metrics on or off.
pub(crate) fn provider(
    import_path: &str,
    metrics: Option<&SelfMetrics>,
) -> anyhow::Result<SdkTracerProvider> {
    let mut processor = SpanplugProcessor::load(&plugin_config(&[import_path], &[]), &resource())?;
    if let Some(metrics) = metrics {
        metrics.watch(processor.components());
        processor = processor.with_span_counts(metrics.span_counts());
    }
    Ok(native_provider(processor, Sampler::AlwaysOn))
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<SelfMetricsCost> {
    let count = options.pick(2_000, 400_000);
    let receiver = Receiver::start();
    Ok(SelfMetricsCost {
        count,
        silent: on_off(options, &receiver, "bench_noop:noop", count)?,
        reporting: on_off(options, &receiver, "bench_noop:reporting", count)?,
    })
}

/// `import_path` with self metrics off and on, both alive, in alternating blocks.
fn on_off(
    options: &Options,
    receiver: &Receiver,
    import_path: &str,
    count: u64,
) -> anyhow::Result<OnOff> {
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..options.repeats() {
        let metrics = start(receiver)?;
        let without = provider(import_path, None)?;
        let with = provider(import_path, Some(&metrics))?;
        run_spans(&without, count / BLOCKS, false);
        run_spans(&with, count / BLOCKS, false);
        let (mut off_time, mut on_time) = (Duration::ZERO, Duration::ZERO);
        for block in 0..BLOCKS {
            let (a, b) = by_turns(
                block as usize,
                || run_spans(&without, count / BLOCKS, false),
                || run_spans(&with, count / BLOCKS, false),
            );
            off_time += a;
            on_time += b;
        }
        off.push(ns_per_span(off_time, count));
        on.push(ns_per_span(on_time, count));
        let _ = (without.shutdown(), with.shutdown(), metrics.shutdown());
    }
    let added = Stats::of(off.iter().zip(&on).map(|(a, b)| b - a).collect());
    Ok(OnOff {
        off: Stats::of(off),
        on: Stats::of(on),
        added,
    })
}

impl fmt::Display for SelfMetricsCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SelfMetricsCost {
            count,
            silent,
            reporting,
        } = self;
        writeln!(f, "## 11. Self metrics on the application thread\n")?;
        writeln!(f, "A no-op plugin, spans with 5 attributes ended on one thread, `self_metrics` off and on (collected every")?;
        writeln!(f, "60 s: no collection falls in a run), both alive, in {BLOCKS} alternating blocks; {count} spans per run. On,")?;
        writeln!(f, "the host adds one to `otel.sdk.span.started` and one to the ended count behind `.live` (each an add")?;
        writeln!(f, "into the thread's own shard, no locked instruction), and for a plugin that reports nothing itself one")?;
        writeln!(
            f,
            "more for the span handed over; off, a predictable branch each.\n"
        )?;
        writeln!(f, "| plugin | off (ns/span) | on (ns/span) | added by on |")?;
        writeln!(f, "|---|---|---|---|")?;
        for (name, figures) in [
            (
                "reports its own figures (as the shipped exporters)",
                reporting,
            ),
            (
                "reports nothing (0.3.0 plugins, `redact`, `context_enricher`)",
                silent,
            ),
        ] {
            writeln!(
                f,
                "| {name} | {} | {} | {} |",
                figures.off.show(1),
                figures.on.show(1),
                figures.added.show(1)
            )?;
        }
        writeln!(
            f,
            "\nBar: at most {BAR_NS} ns per span added (a plugin that reports): {}.\n",
            verdict(reporting.added.median <= BAR_NS)
        )
    }
}
