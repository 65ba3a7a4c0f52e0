//! Question 3: against the Python SDK that Ray users run today.

use std::fmt;
use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use opentelemetry_sdk::trace::Sampler;
use spanplug_bench::run_spans;
use spanplug_tests::otlp_receiver::Receiver;

use super::python::{baseline_rate, python_venv};
use super::setup::{delivered_rate, plugin_provider, spans_per_second, tempfile_dir};
use super::{verdict, Measured, Options, Versus};

#[derive(Debug)]
pub(crate) struct PythonSdk(Measured<Figures>);

#[derive(Debug)]
struct Figures {
    count: u64,
    /// spans/s of the Python SDK (baseline) and of spanplug.
    file: Versus,
    otlp: Versus,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<PythonSdk> {
    let count = options.pick(1_000, 20_000);
    let python = match python_venv() {
        Ok(python) => python,
        Err(error) => return Ok(PythonSdk(Measured::Skipped(format!("{error:#}")))),
    };
    let dir = tempfile_dir("python")?;
    let (mut py_file, mut sp_file, mut py_otlp, mut sp_otlp) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..options.repeats() {
        let py_path = dir.join(format!("py-{run}.json"));
        py_file.push(baseline_rate(
            &python,
            "file",
            &py_path.to_string_lossy(),
            count,
        )?);
        sp_file.push(spanplug_file_rate(&dir.join(format!("sp-{run}")), count)?);
        py_otlp.push(python_otlp_rate(&python, count)?);
        sp_otlp.push(spanplug_otlp_rate(count)?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(PythonSdk(Measured::Figures(Figures {
        count,
        file: Versus::of(py_file, sp_file),
        otlp: Versus::of(py_otlp, sp_otlp),
    })))
}

/// console_file writing `count` spans under `log_dir`, until shut down.
fn spanplug_file_rate(log_dir: &Path, count: u64) -> anyhow::Result<f64> {
    let provider = plugin_provider(
        &["console_file:default_tracing_exporter"],
        &[("log_dir", &log_dir.to_string_lossy())],
        Sampler::AlwaysOn,
    )?;
    let started = Instant::now();
    run_spans(&provider, count, true);
    let _ = provider.shutdown();
    Ok(spans_per_second(started.elapsed(), count))
}

/// The Python SDK's OTLP exporter to a local receiver, which must get every span.
fn python_otlp_rate(python: &Path, count: u64) -> anyhow::Result<f64> {
    let receiver = Receiver::start();
    let endpoint = format!("{}/v1/traces", receiver.base_url());
    let rate = baseline_rate(python, "otlp", &endpoint, count)?;
    let delivered = receiver.delivered_spans().len();
    if delivered < count as usize {
        bail!("the Python exporter delivered {delivered} of {count}");
    }
    Ok(rate)
}

fn spanplug_otlp_rate(count: u64) -> anyhow::Result<f64> {
    let receiver = Receiver::start();
    let endpoint = receiver.base_url();
    let provider = plugin_provider(
        &["otlp_http:otlp"],
        &[
            ("endpoint", endpoint.as_str()),
            ("schedule_delay", "100"),
            ("max_queue_size", "1000000"),
        ],
        Sampler::AlwaysOn,
    )?;
    delivered_rate(&provider, &receiver, count, true)
}

impl fmt::Display for PythonSdk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f, "## 3. Against the Python SDK")
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count;
        writeln!(f, "The Python OpenTelemetry SDK from PyPI, in its own venv (`target/bench-python-venv`), exporting the same spans")?;
        writeln!(f, "(5 attributes, 1 event): `SimpleSpanProcessor(ConsoleSpanExporter(file))` against `console_file`, and")?;
        writeln!(f, "`BatchSpanProcessor(OTLPSpanExporter)` against `otlp_http`, both to the same local receiver. {count} spans per run.\n")?;
        writeln!(
            f,
            "| path | Python spans/s | spanplug spans/s | spanplug / Python | bar |"
        )?;
        writeln!(f, "|---|---|---|---|---|")?;
        for (path, compared, bar) in [("file", &self.file, 20.0), ("OTLP/HTTP", &self.otlp, 10.0)] {
            writeln!(
                f,
                "| {path} | {} | {} | {}× | ≥ {bar}×: {} |",
                compared.baseline.show(0),
                compared.spanplug.show(0),
                compared.ratio.show(1),
                verdict(compared.ratio.median >= bar)
            )?;
        }
        writeln!(f)
    }
}
