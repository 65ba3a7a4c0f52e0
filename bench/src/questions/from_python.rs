//! Question 9: spanplug's Python package against the Python SDK's processors, as a
//! Ray user would swap one for the other (`bench/python_bridge.py`).

use std::fmt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};
use spanplug_bench::Stats;
use spanplug_tests::otlp_receiver::Receiver;

use super::python::python_venv;
use super::setup::tempfile_dir;
use super::{ratios, verdict, Measured, Options};

/// Question 9's script, run by path so Python finds `bench/workload.py` beside it.
const BRIDGE_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python_bridge.py");

/// The script's configurations, as it names them; `none` (no processor) first.
const CONFIGS: [&str; 5] = [
    "none",
    "python BatchSpanProcessor(OTLPSpanExporter)",
    "spanplug otlp_http:otlp",
    "python SimpleSpanProcessor(ConsoleSpanExporter)",
    "spanplug console_file",
];

#[derive(Debug)]
pub(crate) struct FromPython(Measured<Figures>);

#[derive(Debug)]
struct Figures {
    count: u64,
    /// Per configuration, run by run: app-thread ns per span, spans/s delivered.
    ns: Vec<Vec<f64>>,
    delivered: Vec<Vec<f64>>,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<FromPython> {
    let count = options.pick(500, 20_000);
    let python = match python_venv() {
        Ok(python) => python,
        Err(error) => return Ok(FromPython(Measured::Skipped(format!("{error:#}")))),
    };
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); CONFIGS.len()];
    let mut delivered: Vec<Vec<f64>> = vec![Vec::new(); CONFIGS.len()];
    for run in 0..options.repeats() {
        let figures = run_bridge(&python, run, count)?;
        for (index, name) in CONFIGS.iter().enumerate() {
            let figure = |key: &str| {
                figures[name][key]
                    .as_f64()
                    .with_context(|| format!("{name}: {key}"))
            };
            ns[index].push(figure("ns_per_span")?);
            delivered[index].push(if index == 0 {
                0.0
            } else {
                figure("delivered_per_second")?
            });
        }
    }
    Ok(FromPython(Measured::Figures(Figures {
        count,
        ns,
        delivered,
    })))
}

/// One run of the script against a fresh receiver and folder: its figures.
fn run_bridge(python: &Path, run: usize, count: u64) -> anyhow::Result<serde_json::Value> {
    let receiver = Receiver::start();
    let dir = tempfile_dir(&format!("bridge-{run}"))?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    let output = Command::new(python)
        .arg(BRIDGE_SCRIPT)
        .arg(receiver.base_url())
        .arg(&dir)
        .arg(count.to_string())
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .output()?;
    if !output.status.success() {
        bail!(
            "python_bridge.py failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let figures = serde_json::from_slice(&output.stdout).context("python_bridge.py output")?;
    // Both OTLP configurations delivered every span of every phase.
    let expected = 2 * (2 * count + (count / 10).max(1)) as usize;
    let received = receiver.delivered_spans().len();
    if received < expected {
        bail!("the receiver got {received} of {expected} spans");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(figures)
}

impl Figures {
    /// What configuration `index` adds to `none`, run by run.
    fn added(&self, index: usize) -> Vec<f64> {
        self.ns[index]
            .iter()
            .zip(&self.ns[0])
            .map(|(x, none)| x - none)
            .collect()
    }
}

impl fmt::Display for FromPython {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f, "## 9. From Python")
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count;
        writeln!(f, "`bench/python_bridge.py` in `target/bench-python-venv`, {count} spans with 5 attributes per run. *App")?;
        writeln!(f, "thread*: creating and ending them on a provider with the processor (so it includes what a processor's")?;
        writeln!(f, "own Python thread takes through the GIL); *added*: that minus the same with no processor, per run.")?;
        writeln!(f, "*Delivered*: the same spans, already ended, handed to a fresh processor as fast as the SDK would, until")?;
        writeln!(
            f,
            "`force_flush` returns (everything at the same local receiver, or in the file).\n"
        )?;
        writeln!(
            f,
            "| configuration | app thread (ns/span) | added (ns/span) | delivered (spans/s) |"
        )?;
        writeln!(f, "|---|---|---|---|")?;
        for (index, name) in CONFIGS.iter().enumerate() {
            let (added_cell, delivered_cell) = if index == 0 {
                (String::new(), String::new())
            } else {
                (
                    Stats::of(self.added(index)).show(0),
                    Stats::of(self.delivered[index].clone()).show(0),
                )
            };
            writeln!(
                f,
                "| {name} | {} | {added_cell} | {delivered_cell} |",
                Stats::of(self.ns[index].clone()).show(0)
            )?;
        }
        self.write_bars(f)
    }
}

impl Figures {
    fn write_bars(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let otlp_added = ratios(&self.added(2), &self.added(1));
        let otlp_delivered = ratios(&self.delivered[2], &self.delivered[1]);
        let console_added = ratios(&self.added(4), &self.added(3));
        writeln!(f)?;
        writeln!(
            f,
            "Bars: spanplug's OTLP adds {} of what the Python batch processor adds on the application thread (≤ 0.25: {})",
            otlp_added.show(2),
            verdict(otlp_added.median <= 0.25),
        )?;
        writeln!(
            f,
            "and delivers {}× its spans per second (≥ 3×: {}); `console_file` adds {} of what `SimpleSpanProcessor(ConsoleSpanExporter)` adds (≤ 0.1: {}).\n",
            otlp_delivered.show(1),
            verdict(otlp_delivered.median >= 3.0),
            console_added.show(3),
            verdict(console_added.median <= 0.1),
        )
    }
}
