//! Question 8: the multi-service example under load, its services and the OTLP
//! receiver each a process of this binary's (`serve`, `receiver-child`).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use spanplug_bench::{percentile, Stats};
use spanplug_examples::multi_service::{Deployment, Role};
use spanplug_tests::otlp_receiver::Receiver;
use spanplug_tests::plugin_dir;

use super::setup::tempfile_dir;
use super::{verdict, Options};

const CONCURRENCY: usize = 4;

#[derive(Debug)]
pub(crate) struct EndToEnd {
    duration: Duration,
    /// In the order of the modes, `off` first.
    rows: Vec<Row>,
}

#[derive(Debug)]
struct Row {
    mode: &'static str,
    p50_us: Stats,
    p99_us: Stats,
    requests_per_second: Stats,
    /// Median p99 / the median p99 with tracing off.
    p99_ratio: f64,
}

/// Repeated load runs of one tracing mode.
#[derive(Debug, Default)]
struct LoadSamples {
    p50: Vec<f64>,
    p99: Vec<f64>,
    rate: Vec<f64>,
}

/// The example's own tracing config; the environment picks the exporter per run.
pub(crate) fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/multi-service/service.yaml")
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<EndToEnd> {
    let duration = options.pick(Duration::from_millis(500), Duration::from_secs(10));
    let (_collector, collector_url) = start_receiver_process(0)?;
    let (_remote_collector, remote_collector_url) = start_receiver_process(19)?;
    let logs = tempfile_dir("e2e")?;
    let modes = tracing_modes(&logs, collector_url, remote_collector_url);
    let mut results: BTreeMap<&str, LoadSamples> = BTreeMap::new();
    for _ in 0..options.pick(1, 3) {
        for (name, mode_env) in &modes {
            let (latencies, rate) = load_with(mode_env, duration)?;
            let entry = results.entry(name).or_default();
            entry.p50.push(percentile(&latencies, 0.5) as f64);
            entry.p99.push(percentile(&latencies, 0.99) as f64);
            entry.rate.push(rate);
        }
    }
    let _ = std::fs::remove_dir_all(&logs);
    let off_p99 = Stats::of(results["off"].p99.clone()).median;
    let rows = modes
        .iter()
        .map(|(mode, _)| {
            let LoadSamples { p50, p99, rate } = &results[mode];
            let p99_us = Stats::of(p99.clone());
            Row {
                mode,
                p50_us: Stats::of(p50.clone()),
                p99_ratio: p99_us.median / off_p99,
                p99_us,
                requests_per_second: Stats::of(rate.clone()),
            }
        })
        .collect();
    Ok(EndToEnd { duration, rows })
}

/// Each tracing mode's name and the environment that selects it.
fn tracing_modes(
    logs: &Path,
    collector_url: String,
    remote_collector_url: String,
) -> [(&'static str, Vec<(&'static str, String)>); 4] {
    let otlp_to = |url: String| {
        vec![
            (
                "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
                "otlp_http:otlp".into(),
            ),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url),
        ]
    };
    [
        ("off", vec![("SPANPLUG_TRACING_ENABLED", "false".into())]),
        (
            "console_file",
            vec![("SPANPLUG_LOG_DIR", logs.to_string_lossy().into_owned())],
        ),
        ("otlp_http", otlp_to(collector_url)),
        (
            "otlp_http, collector at nice 19",
            otlp_to(remote_collector_url),
        ),
    ]
}

/// Starts the example's services with `mode_env`, loads them, stops them.
fn load_with(
    mode_env: &[(&'static str, String)],
    duration: Duration,
) -> anyhow::Result<(Vec<u64>, f64)> {
    let plugin_path = plugin_dir();
    let mut env: Vec<(&str, &OsStr)> = vec![
        ("SPANPLUG_PLUGIN_PATH", plugin_path.as_os_str()),
        ("SPANPLUG_LOG", OsStr::new("warn")),
    ];
    env.extend(
        mode_env
            .iter()
            .map(|(key, value)| (*key, OsStr::new(value))),
    );
    let mut services = Deployment::start(&std::env::current_exe()?, &example_config(), &env)?;
    let measured = load(&services.url(Role::Proxy), duration, CONCURRENCY)?;
    services.stop()?;
    Ok(measured)
}

/// Latencies (µs, sorted) and requests/s of `GET /user/1` through the proxy.
fn load(proxy: &str, duration: Duration, concurrency: usize) -> anyhow::Result<(Vec<u64>, f64)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let url = format!("{proxy}/user/1");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        // Warm up connections and caches.
        for _ in 0..20 {
            client.get(&url).send().await?.bytes().await?;
        }
        let started = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut samples = Vec::new();
                    while started.elapsed() < duration {
                        let begun = Instant::now();
                        let response = client.get(&url).send().await?;
                        response.bytes().await?;
                        samples.push(begun.elapsed().as_micros() as u64);
                    }
                    Ok::<_, reqwest::Error>(samples)
                })
            })
            .collect();
        let mut all = Vec::new();
        for worker in workers {
            all.extend(worker.await??);
        }
        let elapsed = started.elapsed();
        all.sort_unstable();
        let rate = all.len() as f64 / elapsed.as_secs_f64();
        Ok((all, rate))
    })
}

/// A helper process that is killed when the benchmark is done with it.
#[derive(Debug)]
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// An OTLP receiver in its own process, as a collector would be: prints its port,
/// runs until killed.
pub(crate) fn receiver_child() -> anyhow::Result<()> {
    let receiver = Receiver::start();
    println!("{}", receiver.port());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// `niceness` > 0 runs the receiver below the services' priority, standing in for a
/// collector on another machine.
fn start_receiver_process(niceness: u32) -> anyhow::Result<(KillOnDrop, String)> {
    use std::io::BufRead as _;
    let mut child = Command::new("nice")
        .args(["-n", &niceness.to_string()])
        .arg(std::env::current_exe()?)
        .arg("receiver-child")
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().context("receiver stdout")?)
        .read_line(&mut line)?;
    let port: u16 = line.trim().parse().context("receiver port")?;
    Ok((KillOnDrop(child), format!("http://127.0.0.1:{port}")))
}

impl fmt::Display for EndToEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## 8. End to end\n")?;
        writeln!(f, "The multi-service example (5 processes, 4 HTTP hops per request) under `GET /user/1` from {CONCURRENCY} concurrent")?;
        writeln!(
            f,
            "clients for {:?} per run, on loopback; the OTLP receiver runs as its own process, as a collector would.",
            self.duration
        )?;
        writeln!(f, "On this 2-core machine the receiver's decoding competes with the services; the last row runs it at")?;
        writeln!(
            f,
            "the lowest priority, standing in for a collector on another host. Latency in µs.\n"
        )?;
        writeln!(f, "| tracing | p50 µs | p99 µs | requests/s | p99 / off |")?;
        writeln!(f, "|---|---|---|---|---|")?;
        let mut worst = 0.0f64;
        for row in &self.rows {
            if row.mode != "off" {
                worst = worst.max(row.p99_ratio);
            }
            writeln!(
                f,
                "| {} | {} | {} | {} | {:.2}× |",
                row.mode,
                row.p50_us.show(0),
                row.p99_us.show(0),
                row.requests_per_second.show(0),
                row.p99_ratio
            )?;
        }
        writeln!(
            f,
            "\nBar: p99 with tracing on ≤ 1.05× off: {} (worst {worst:.2}×).\n",
            verdict(worst <= 1.05)
        )
    }
}
