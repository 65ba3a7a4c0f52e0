//! Question 5: cost per span as the count and the thread count grow.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use opentelemetry_sdk::trace::Sampler;
use spanplug_bench::run_spans;

use super::setup::{plugin_provider, tempfile_dir};
use super::Options;

/// The thread counts of the rows after the single-thread ones.
const THREADS: [u64; 2] = [2, 4];

#[derive(Debug)]
pub(crate) struct Scale {
    rows: Vec<Row>,
}

/// One single run.
#[derive(Debug)]
struct Row {
    spans: u64,
    threads: u64,
    ns_per_span: f64,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<Scale> {
    let dir = tempfile_dir("scale")?;
    let counts: Vec<u64> = options.pick(vec![1_000, 5_000], vec![10_000, 100_000, 1_000_000]);
    let mut rows = Vec::new();
    let mut row = |spans: u64, threads: u64, name: String| -> anyhow::Result<()> {
        let ns_per_span = ns_per_span(&dir.join(name), spans, threads)?;
        rows.push(Row {
            spans,
            threads,
            ns_per_span,
        });
        Ok(())
    };
    for &count in &counts {
        row(count, 1, format!("c{count}"))?;
    }
    let total = *counts.last().expect("counts");
    for threads in THREADS {
        row(total, threads, format!("t{threads}"))?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Scale { rows })
}

/// Total wall time × threads / spans of `count` spans split over `threads` threads,
/// through console_file (jsonl) writing under `log_dir`.
fn ns_per_span(log_dir: &Path, count: u64, threads: u64) -> anyhow::Result<f64> {
    let provider = plugin_provider(
        &["console_file:default_tracing_exporter"],
        &[("log_dir", &log_dir.to_string_lossy()), ("format", "jsonl")],
        Sampler::AlwaysOn,
    )?;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| run_spans(&provider, count / threads, false));
        }
    });
    let elapsed = started.elapsed();
    let _ = provider.shutdown();
    let _ = std::fs::remove_dir_all(log_dir);
    Ok(elapsed.as_nanos() as f64 * threads as f64 / count as f64)
}

impl fmt::Display for Scale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## 5. Scale\n")?;
        writeln!(f, "`console_file` (jsonl) through the host, spans with 5 attributes; ns per span on the application side")?;
        writeln!(f, "(total wall time × threads / spans, so flat means no contention). Single runs; the spread shows in the rows.\n")?;
        writeln!(f, "| spans | threads | ns/span |")?;
        writeln!(f, "|---|---|---|")?;
        for Row {
            spans,
            threads,
            ns_per_span,
        } in &self.rows
        {
            writeln!(f, "| {spans} | {threads} | {ns_per_span:.0} |")?;
        }
        writeln!(f, "\nOn 2 cores, 4 threads oversubscribe the machine: their per-thread figure includes waiting for a core.\n")
    }
}
