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

/// The no-op plugin, with self metrics on or off.
pub(crate) fn provider(metrics: Option<&SelfMetrics>) -> anyhow::Result<SdkTracerProvider> {
    let mut processor =
        SpanplugProcessor::load(&plugin_config(&["bench_noop:noop"], &[]), &resource())?;
    if let Some(metrics) = metrics {
        metrics.watch(processor.components());
        processor = processor.with_span_counts(metrics.span_counts());
    }
    Ok(native_provider(processor, Sampler::AlwaysOn))
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<SelfMetricsCost> {
    let count = options.pick(2_000, 400_000);
    let receiver = Receiver::start();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..options.repeats() {
        let metrics = start(&receiver)?;
        let (without, with) = (provider(None)?, provider(Some(&metrics))?);
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
    Ok(SelfMetricsCost {
        count,
        off: Stats::of(off),
        on: Stats::of(on),
        added,
    })
}

impl fmt::Display for SelfMetricsCost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SelfMetricsCost {
            count,
            off,
            on,
            added,
        } = self;
        writeln!(f, "## 11. Self metrics on the application thread\n")?;
        writeln!(f, "The no-op plugin (which reports nothing itself, so the host also counts the spans it hands over: the")?;
        writeln!(f, "most the host counts per span), spans with 5 attributes ended on one thread, with `self_metrics` off and")?;
        writeln!(f, "on (collected every 60 s, so no collection falls in the run), both alive, in {BLOCKS} alternating blocks;")?;
        writeln!(f, "{count} spans per run. On adds two relaxed atomic adds for `otel.sdk.span.started`/`.live`, one for the")?;
        writeln!(
            f,
            "span handed over, and a predictable branch each; off, only the branches.\n"
        )?;
        writeln!(f, "| self metrics | ns/span (median, min–max) |")?;
        writeln!(f, "|---|---|")?;
        writeln!(f, "| off | {} |", off.show(1))?;
        writeln!(f, "| on | {} |", on.show(1))?;
        writeln!(f, "| added by on | {} |\n", added.show(1))?;
        writeln!(
            f,
            "Bar: at most {BAR_NS} ns per span added: {}.\n",
            verdict(added.median <= BAR_NS)
        )
    }
}
