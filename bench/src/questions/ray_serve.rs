//! Question 10: Ray Serve requests traced by Ray's default exporter and by spanplug
//! (`bench/ray_serve_latency.py`, with `SPANPLUG_RAY_TESTS=1`).

use std::fmt;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};
use spanplug_bench::Stats;
use spanplug_tests::otlp_receiver::unused_port;

use super::{by_turns, Measured, Options};

const RAY_SERVE_SCRIPT: &str = include_str!("../../ray_serve_latency.py");

/// Ray's default first, then spanplug's: (label, exporter entry point).
const EXPORTERS: [(&str, &str); 2] = [
    (
        "Ray's default (`SimpleSpanProcessor(ConsoleSpanExporter)` to its spans folder)",
        "ray.serve._private.tracing_utils:default_tracing_exporter",
    ),
    (
        "spanplug `spanplug.ray:default_tracing_exporter` (console_file, same files)",
        "spanplug.ray:default_tracing_exporter",
    ),
];

#[derive(Debug)]
pub(crate) struct RayServe(Measured<Figures>);

#[derive(Debug)]
struct Figures {
    requests: usize,
    runs: usize,
    /// Per exporter (as [`EXPORTERS`]), each run's (p50, p99) in µs.
    latencies: [Vec<(f64, f64)>; 2],
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<RayServe> {
    let requests = options.pick(30, 400);
    if std::env::var_os("SPANPLUG_RAY_TESTS").is_none() {
        return Ok(RayServe(Measured::Skipped(
            "set SPANPLUG_RAY_TESTS=1 to install Ray (`ray[serve]==2.60.0`, in `target/ray-venv`) and run it".into(),
        )));
    }
    let venv =
        spanplug_tests::python::venv_with_package("ray-venv", "python/tests_ray/requirements.txt");
    let runs = options.pick(1, 3);
    let mut latencies: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for run in 0..runs {
        let (ray, ours) = by_turns(
            run,
            || serve(&venv, EXPORTERS[0].1, requests),
            || serve(&venv, EXPORTERS[1].1, requests),
        );
        latencies[0].push(ray?);
        latencies[1].push(ours?);
    }
    Ok(RayServe(Measured::Figures(Figures {
        requests,
        runs,
        latencies,
    })))
}

/// One cluster with `entry` as its exporter: the (p50, p99) of its requests.
fn serve(venv: &Path, entry: &str, requests: usize) -> anyhow::Result<(f64, f64)> {
    let output = Command::new(venv.join("bin/python"))
        .arg("-c")
        .arg(RAY_SERVE_SCRIPT)
        .arg(entry)
        .arg(unused_port().to_string())
        .arg(requests.to_string())
        .env("PATH", spanplug_tests::python::path_with(venv))
        .output()?;
    let _ = Command::new(venv.join("bin/ray"))
        .args(["stop", "--force"])
        .output();
    if !output.status.success() {
        bail!(
            "ray_serve_latency.py ({entry}) failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let last_line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let mut latencies: Vec<f64> =
        serde_json::from_str(&last_line).context("ray_serve_latency.py output")?;
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| latencies[(((latencies.len() - 1) as f64) * p).round() as usize];
    Ok((at(0.5), at(0.99)))
}

impl fmt::Display for RayServe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f, "## 10. In Ray Serve")
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Figures {
            requests,
            runs,
            latencies,
        } = self;
        writeln!(f, "`bench/ray_serve_latency.py` in `target/ray-venv`: a local Ray cluster, two deployments (one calling the")?;
        writeln!(f, "other through a handle) behind Ray's proxy, sampling 1.0; {requests} requests one after another after a")?;
        writeln!(f, "warm-up, the same requests for each exporter, each in a cluster of its own; {runs} runs of each, which one")?;
        writeln!(f, "goes first alternating. Latency in µs.\n")?;
        writeln!(f, "| exporter | p50 | p99 |")?;
        writeln!(f, "|---|---|---|")?;
        for ((label, _), runs) in EXPORTERS.iter().zip(latencies) {
            writeln!(
                f,
                "| {label} | {} | {} |",
                Stats::of(runs.iter().map(|r| r.0).collect()).show(0),
                Stats::of(runs.iter().map(|r| r.1).collect()).show(0)
            )?;
        }
        let ratio = |pick: fn(&(f64, f64)) -> f64| {
            let column = |runs: &[(f64, f64)]| runs.iter().map(pick).collect::<Vec<f64>>();
            super::ratios(&column(&latencies[1]), &column(&latencies[0]))
        };
        writeln!(
            f,
            "\nspanplug / Ray's default, run by run: p50 {}×, p99 {}×. Ray's start-up and scheduling vary between",
            ratio(|r| r.0).show(2),
            ratio(|r| r.1).show(2)
        )?;
        writeln!(
            f,
            "clusters more than the exporters differ: read the spread before the median.\n"
        )
    }
}
