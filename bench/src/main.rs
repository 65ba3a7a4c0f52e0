//! `spanplug-bench [--quick]`: answers the benchmark questions and prints
//! `BENCHMARKS.md` to stdout. Every figure is a ratio against a baseline measured in
//! the same run; `--quick` runs each question once at a small size (CI uses it so the
//! benchmarks never rot; its numbers mean nothing).

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider, SpanProcessor,
};
use opentelemetry_sdk::Resource;
use spanplug_bench::{
    cpu_time, make_span, percentile, rss_bytes, run_spans, with_native_context, CpuSample,
    NativeAdapter, NativeNoop, Stats,
};
use spanplug_config::TracingConfig;
use spanplug_examples::multi_service::{Deployment, Role, ServeArgs};
use spanplug_sdk::{PluginPipeline, RequestContext};
use spanplug_tests::otlp_receiver::{unused_port, Receiver};
use spanplug_tests::plugin_dir;

struct Options {
    quick: bool,
}

impl Options {
    fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }

    fn repeats(&self) -> usize {
        self.pick(1, 5)
    }
}

#[derive(clap::Parser)]
#[command(
    name = "spanplug-bench",
    about = "Answers the benchmark questions and prints BENCHMARKS.md to stdout"
)]
struct Cli {
    /// Each question once, at a small size: proves the benchmarks run (CI); the
    /// numbers mean nothing.
    #[arg(long)]
    quick: bool,
    /// Only these questions, by number (e.g. `--only 2,8`).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    only: Option<Vec<usize>>,
    #[command(subcommand)]
    child: Option<SelfCommand>,
}

/// The processes the benchmark starts of itself.
#[derive(clap::Subcommand)]
enum SelfCommand {
    /// One service of the multi-service example (end-to-end question).
    #[command(hide = true)]
    Serve(ServeArgs),
    #[command(hide = true)]
    StartupChild { import_path: String },
    #[command(hide = true)]
    MemoryChild { count: u64 },
    #[command(hide = true)]
    ReceiverChild,
    /// Runs one workload under a profiler-friendly loop.
    Profile {
        workload: String,
        #[arg(default_value_t = 20_000)]
        spans: u64,
    },
    /// Times `Span::end()` of spans this wide (half their attributes set twice).
    WideSpans {
        #[arg(default_values_t = [1_000, 16_000, 100_000])]
        attributes: Vec<u32>,
    },
}

fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = <Cli as clap::Parser>::parse();
    match cli.child {
        Some(SelfCommand::Serve(args)) => return args.run(&example_config()),
        Some(SelfCommand::StartupChild { import_path }) => return startup_child(&import_path),
        Some(SelfCommand::MemoryChild { count }) => return memory_child(count),
        Some(SelfCommand::ReceiverChild) => return receiver_child(),
        Some(SelfCommand::Profile { workload, spans }) => return profile(&workload, spans),
        Some(SelfCommand::WideSpans { attributes }) => return wide_spans(&attributes),
        None => {}
    }
    let options = Options { quick: cli.quick };
    let only = cli.only;
    let questions: [fn(&Options) -> anyhow::Result<()>; 10] = [
        boundary,
        otlp_throughput,
        python_baseline,
        app_thread_cost,
        scale,
        dead_backend_memory,
        startup,
        end_to_end,
        from_python,
        ray_serve_latency,
    ];
    header(&options);
    for (number, question) in (1..).zip(questions) {
        if only.as_ref().is_none_or(|only| only.contains(&number)) {
            question(&options)?;
        }
    }
    Ok(())
}

fn header(options: &Options) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("# Benchmarks\n");
    println!("Produced by `cargo run --release -p spanplug-bench{}` (the same runs as `cargo bench -p spanplug-bench`).", if options.quick { " -- --quick" } else { "" });
    println!("Machine: {cores} cores ({cpu}), shared and noisy, so every figure is a ratio against a baseline");
    println!(
        "measured in the same run, repeated; cells show `median (min–max)` over the repeats.\n"
    );
    if options.quick {
        println!("**Quick mode: one small run per question, to keep the benchmarks working. Not a measurement.**\n");
    }
}

fn resource() -> Resource {
    Resource::builder_empty().with_service_name("bench").build()
}

fn native_provider(processor: impl SpanProcessor + 'static, sampler: Sampler) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_resource(resource())
        .with_span_processor(processor)
        .build()
}

fn plugin_config(import_paths: &[&str], config: &[(&str, &str)]) -> TracingConfig {
    let base = import_paths
        .iter()
        .fold(TracingConfig::default(), |c, p| {
            c.with_exporter_import_path(*p)
        })
        .with_plugin_dir(plugin_dir());
    config
        .iter()
        .fold(base, |c, (k, v)| c.with_exporter_config(*k, *v))
}

fn plugin_provider(
    import_paths: &[&str],
    config: &[(&str, &str)],
    sampler: Sampler,
) -> anyhow::Result<SdkTracerProvider> {
    let pipeline = PluginPipeline::load(&plugin_config(import_paths, config), &resource())?;
    Ok(native_provider(pipeline, sampler))
}

/// Runs `count` spans, then flushes; returns the elapsed time including the flush.
fn timed_with_flush(provider: &SdkTracerProvider, count: u64, with_event: bool) -> Duration {
    let started = Instant::now();
    run_spans(provider, count, with_event);
    let _ = provider.force_flush();
    started.elapsed()
}

fn ns_per_span(elapsed: Duration, count: u64) -> f64 {
    elapsed.as_nanos() as f64 / count as f64
}

fn spans_per_second(elapsed: Duration, count: u64) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn verdict(pass: bool) -> &'static str {
    if pass {
        "meets the bar"
    } else {
        "**misses the bar**"
    }
}

/// Runs `a` and `b`, `a` first on even turns and `b` first on odd ones, so that a
/// drift of the machine or a cost of going first hits both alike.
fn by_turns<T>(turn: usize, a: impl FnOnce() -> T, b: impl FnOnce() -> T) -> (T, T) {
    if turn.is_multiple_of(2) {
        let a = a();
        (a, b())
    } else {
        let b = b();
        (a(), b)
    }
}

/// The no-op runs of question 1 come in this many alternating blocks each.
const NOOP_BLOCKS: u64 = 10;
/// What the `.so` boundary may add to a no-op processor, per span.
const NOOP_BAR_NS: f64 = 40.0;

/// Question 1: the same logic native and through a `.so`.
fn boundary(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(2_000, 200_000);
    println!("## 1. Boundary cost\n");
    println!("Spans with 5 attributes, ended on one thread. *Native* is an `opentelemetry_sdk` `SpanProcessor` in the");
    println!("host: for no-op it does nothing with the `SpanData`; for the exporters it runs the plugin's own source");
    println!("compiled into the host (the same view is built, then the processor is called directly). *Plugin* loads");
    println!("the `.so` through `exporter_import_path`. {count} spans per run (no-op: both in {NOOP_BLOCKS} alternating blocks).\n");
    println!("| processor | native | plugin | plugin / native |");
    println!("|---|---|---|---|");

    // No-op: ns per span; both alive, in alternating blocks, so drifts in machine
    // load hit both.
    let (mut native, mut plugin) = (Vec::new(), Vec::new());
    let machine_before = CpuSample::now();
    for _ in 0..options.repeats() {
        let native_noop = native_provider(NativeNoop, Sampler::AlwaysOn);
        let plugin_noop = plugin_provider(&["bench_noop:noop"], &[], Sampler::AlwaysOn)?;
        // A warm-up block each, then the blocks in one order and the other by turns.
        run_spans(&native_noop, count / NOOP_BLOCKS, false);
        run_spans(&plugin_noop, count / NOOP_BLOCKS, false);
        let (mut native_time, mut plugin_time) = (Duration::ZERO, Duration::ZERO);
        for block in 0..NOOP_BLOCKS {
            let (native, plugin) = by_turns(
                block as usize,
                || run_spans(&native_noop, count / NOOP_BLOCKS, false),
                || run_spans(&plugin_noop, count / NOOP_BLOCKS, false),
            );
            native_time += native;
            plugin_time += plugin;
        }
        native.push(ns_per_span(native_time, count));
        plugin.push(ns_per_span(plugin_time, count));
    }
    let added = Stats::of(native.iter().zip(&plugin).map(|(n, p)| p - n).collect());
    let (native, plugin) = (Stats::of(native), Stats::of(plugin));
    println!(
        "| no-op (ns/span) | {} | {} | +{} ns |",
        native.show(0),
        plugin.show(0),
        added.show(0)
    );
    let noop_added = added.median;
    let (others, steal) = CpuSample::now().shares_since(&machine_before);

    // console_file: spans/s including the final flush.
    let dir = tempfile_dir("boundary-console")?;
    let (mut native, mut plugin) = (Vec::new(), Vec::new());
    for run in 0..options.repeats() {
        let native_dir = dir.join(format!("native-{run}"));
        let processor = with_native_context(&[], |ctx| {
            spanplug_console_file::sink::ConsoleProcessor::start(
                spanplug_console_file::sink::Settings {
                    destination: spanplug_console_file::sink::Destination::Directory {
                        root: native_dir.clone(),
                        root_may_be_link: true,
                        dir: native_dir,
                        service: "bench".into(),
                        file_name: None,
                    },
                    layout: spanplug_console_file::format::Layout::Pretty,
                    flush_interval: Duration::from_secs(1),
                    dry_run: false,
                },
                ctx.logger(),
            )
        })
        .map_err(anyhow::Error::msg)?;
        let provider = native_provider(NativeAdapter::new(processor), Sampler::AlwaysOn);
        native.push(spans_per_second(
            timed_with_flush(&provider, count, false),
            count,
        ));
        let _ = provider.shutdown();
        let plugin_dir = dir.join(format!("plugin-{run}"));
        let provider = plugin_provider(
            &["console_file:default_tracing_exporter"],
            &[("log_dir", &plugin_dir.to_string_lossy())],
            Sampler::AlwaysOn,
        )?;
        plugin.push(spans_per_second(
            timed_with_flush(&provider, count, false),
            count,
        ));
        let _ = provider.shutdown();
    }
    let console_ratio = Stats::of(plugin.iter().zip(&native).map(|(p, n)| p / n).collect());
    println!(
        "| console_file (spans/s) | {} | {} | {}× |",
        Stats::of(native).show(0),
        Stats::of(plugin).show(0),
        console_ratio.show(2)
    );
    let _ = std::fs::remove_dir_all(&dir);

    // otlp_http: spans/s delivered to a local receiver. A run is short at these rates,
    // so twice the runs, in native-plugin and plugin-native order by turns.
    let batch = [("max_queue_size", "1000000"), ("schedule_delay", "100")];
    let native_rate = || -> anyhow::Result<f64> {
        let receiver = Receiver::start();
        let endpoint = receiver.base_url();
        let exporter = with_native_context(
            &[("endpoint", endpoint.as_str()), batch[0], batch[1]],
            |ctx| {
                let settings = spanplug_otlp_http::settings::Settings::resolve(
                    &spanplug_otlp_http::settings::OTLP,
                    ctx,
                )?;
                let resource =
                    spanplug_otlp_http::batch::FactoryResource::new(ctx.resource_attributes());
                spanplug_otlp_http::worker::Exporter::start(settings, resource, ctx.logger())
            },
        )
        .map_err(anyhow::Error::msg)?;
        let provider = native_provider(NativeAdapter::new(exporter), Sampler::AlwaysOn);
        delivered_rate(&provider, &receiver, count, false)
    };
    let plugin_rate = || -> anyhow::Result<f64> {
        let receiver = Receiver::start();
        let endpoint = receiver.base_url();
        let provider = plugin_provider(
            &["otlp_http:otlp"],
            &[("endpoint", endpoint.as_str()), batch[0], batch[1]],
            Sampler::AlwaysOn,
        )?;
        delivered_rate(&provider, &receiver, count, false)
    };
    let (mut native, mut plugin) = (Vec::new(), Vec::new());
    for run in 0..options.repeats() * 2 {
        let (native_run, plugin_run) = by_turns(run, native_rate, plugin_rate);
        native.push(native_run?);
        plugin.push(plugin_run?);
    }
    let otlp_ratio = Stats::of(plugin.iter().zip(&native).map(|(p, n)| p / n).collect());
    println!(
        "| otlp_http (spans/s delivered) | {} | {} | {}× |",
        Stats::of(native).show(0),
        Stats::of(plugin).show(0),
        otlp_ratio.show(2)
    );
    println!();
    println!(
        "Bar: the plugin adds at most {NOOP_BAR_NS} ns per span for no-op ({}: +{noop_added:.0} ns) and reaches 0.95× native for the",
        verdict(noop_added <= NOOP_BAR_NS)
    );
    println!(
        "exporters (console_file {}: {:.2}×; otlp_http {}: {:.2}×). For a user: loading a processor from a `.so`",
        verdict(console_ratio.median >= 0.95),
        console_ratio.median,
        verdict(otlp_ratio.median >= 0.95),
        otlp_ratio.median
    );
    println!("instead of compiling it in costs about the time of one small allocation per span.\n");
    println!(
        "While the no-op blocks ran, other processes used {others:.0}% of the machine's CPU time and the hypervisor"
    );
    println!(
        "took {steal:.0}% (steal): a run with either above a few percent measured the machine as much as the boundary.\n"
    );
    Ok(())
}

/// Ends `count` spans, waits for the receiver to hold them all; spans/s delivered.
fn delivered_rate(
    provider: &SdkTracerProvider,
    receiver: &Receiver,
    count: u64,
    with_event: bool,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    run_spans(provider, count, with_event);
    let _ = provider.force_flush();
    let delivered = receiver.wait_for_span_count(count as usize, Duration::from_secs(120));
    let elapsed = started.elapsed();
    let _ = provider.shutdown();
    if delivered < count as usize {
        bail!("only {delivered} of {count} spans delivered");
    }
    Ok(spans_per_second(elapsed, count))
}

fn otlp_sdk_provider(
    endpoint: &str,
    queue: usize,
    sampler: Sampler,
    extra: Option<Box<dyn SpanProcessor>>,
) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::{WithExportConfig as _, WithHttpConfig as _};
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .with_headers(Default::default())
        .build()?;
    let batch = BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(queue)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_millis(100))
                .build(),
        )
        .build();
    let mut builder = SdkTracerProvider::builder()
        .with_sampler(sampler)
        .with_resource(resource());
    if let Some(extra) = extra {
        builder = builder.with_span_processor(BoxedProcessor(extra));
    }
    Ok(builder.with_span_processor(batch).build())
}

/// `with_span_processor` takes a concrete type.
#[derive(Debug)]
struct BoxedProcessor(Box<dyn SpanProcessor>);

impl SpanProcessor for BoxedProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        self.0.on_start(span, cx)
    }

    fn on_end(&self, span: opentelemetry_sdk::trace::SpanData) {
        self.0.on_end(span)
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
}

/// Question 2: otlp_http against opentelemetry-otlp's HTTP exporter.
fn otlp_throughput(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(2_000, 200_000);
    println!("## 2. OTLP throughput\n");
    println!("The same spans (5 attributes, 1 event) to the same local receiver, which decodes every request with");
    println!("`opentelemetry-proto` (it runs in the benchmark process, so its decoding is in the CPU figures of both).");
    println!("Native: `opentelemetry-otlp`'s HTTP/protobuf exporter (blocking reqwest) behind the SDK's `BatchSpanProcessor`;");
    println!("spanplug: `otlp_http:otlp`. Both: batches of 512, 100 ms delay, a queue large enough to drop nothing. {count} spans per run.\n");
    println!("| exporter | spans/s delivered | CPU µs per span |");
    println!("|---|---|---|");
    let (mut native, mut plugin, mut native_cpu, mut plugin_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..options.repeats() {
        let receiver = Receiver::start();
        let provider = otlp_sdk_provider(
            &receiver.base_url(),
            count as usize * 2,
            Sampler::AlwaysOn,
            None,
        )?;
        let cpu = cpu_time();
        native.push(delivered_rate(&provider, &receiver, count, true)?);
        native_cpu.push((cpu_time() - cpu).as_secs_f64() * 1e6 / count as f64);
        drop(receiver);
        let receiver = Receiver::start();
        let endpoint = receiver.base_url();
        let queue = (count * 2).to_string();
        let provider = plugin_provider(
            &["otlp_http:otlp"],
            &[
                ("endpoint", endpoint.as_str()),
                ("max_queue_size", &queue),
                ("schedule_delay", "100"),
            ],
            Sampler::AlwaysOn,
        )?;
        let cpu = cpu_time();
        plugin.push(delivered_rate(&provider, &receiver, count, true)?);
        plugin_cpu.push((cpu_time() - cpu).as_secs_f64() * 1e6 / count as f64);
    }
    let ratio = Stats::of(plugin.iter().zip(&native).map(|(p, n)| p / n).collect());
    println!(
        "| opentelemetry-otlp + BatchSpanProcessor | {} | {} |",
        Stats::of(native).show(0),
        Stats::of(native_cpu).show(2)
    );
    println!(
        "| spanplug otlp_http | {} | {} |",
        Stats::of(plugin).show(0),
        Stats::of(plugin_cpu).show(2)
    );
    println!(
        "\nspanplug / native: {}× spans/s. Bar ≥ 1.0×: {}.\n",
        ratio.show(2),
        verdict(ratio.median >= 1.0)
    );
    Ok(())
}

const PYTHON_SCRIPT: &str = include_str!("../python_baseline.py");

/// The benchmark's venv (`target/bench-python-venv`): the pinned Python SDK and its
/// OTLP exporter from PyPI, and spanplug's package built from this checkout.
fn python_venv() -> anyhow::Result<PathBuf> {
    if !spanplug_tests::python::python_available("the Python questions", "SPANPLUG_REQUIRE_PYTHON")
    {
        bail!("python3 with venv is not installed");
    }
    let venv = spanplug_tests::python::venv_with_package(
        "bench-python-venv",
        "bench/python-requirements.txt",
    );
    Ok(venv.join("bin/python"))
}

fn run_python(python: &Path, mode: &str, target: &str, count: u64) -> anyhow::Result<f64> {
    let output = Command::new(python)
        .args(["-c", PYTHON_SCRIPT, mode, target, &count.to_string()])
        .output()?;
    if !output.status.success() {
        bail!(
            "python baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse::<f64>()
        .context("python baseline output")
}

/// Question 3: against the Python SDK that Ray users run today.
fn python_baseline(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(1_000, 20_000);
    println!("## 3. Against the Python SDK\n");
    let python = match python_venv() {
        Ok(python) => python,
        Err(error) => {
            println!("Skipped: {error:#}.\n");
            return Ok(());
        }
    };
    println!("The Python OpenTelemetry SDK from PyPI, in its own venv (`target/bench-python-venv`), exporting the same spans");
    println!("(5 attributes, 1 event): `SimpleSpanProcessor(ConsoleSpanExporter(file))` against `console_file`, and");
    println!("`BatchSpanProcessor(OTLPSpanExporter)` against `otlp_http`, both to the same local receiver. {count} spans per run.\n");
    println!("| path | Python spans/s | spanplug spans/s | spanplug / Python | bar |");
    println!("|---|---|---|---|---|");
    let dir = tempfile_dir("python")?;
    let (mut py_file, mut sp_file, mut py_otlp, mut sp_otlp) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for run in 0..options.repeats() {
        py_file.push(run_python(
            &python,
            "file",
            &dir.join(format!("py-{run}.json")).to_string_lossy(),
            count,
        )?);
        let log_dir = dir.join(format!("sp-{run}"));
        let provider = plugin_provider(
            &["console_file:default_tracing_exporter"],
            &[("log_dir", &log_dir.to_string_lossy())],
            Sampler::AlwaysOn,
        )?;
        let started = Instant::now();
        run_spans(&provider, count, true);
        let _ = provider.shutdown();
        sp_file.push(spans_per_second(started.elapsed(), count));

        let receiver = Receiver::start();
        py_otlp.push(run_python(
            &python,
            "otlp",
            &format!("{}/v1/traces", receiver.base_url()),
            count,
        )?);
        let delivered = receiver.delivered_spans().len();
        if delivered < count as usize {
            bail!("the Python exporter delivered {delivered} of {count}");
        }
        drop(receiver);
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
        sp_otlp.push(delivered_rate(&provider, &receiver, count, true)?);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let file_ratio = Stats::of(sp_file.iter().zip(&py_file).map(|(s, p)| s / p).collect());
    let otlp_ratio = Stats::of(sp_otlp.iter().zip(&py_otlp).map(|(s, p)| s / p).collect());
    println!(
        "| file | {} | {} | {}× | ≥ 20×: {} |",
        Stats::of(py_file).show(0),
        Stats::of(sp_file).show(0),
        file_ratio.show(1),
        verdict(file_ratio.median >= 20.0)
    );
    println!(
        "| OTLP/HTTP | {} | {} | {}× | ≥ 10×: {} |",
        Stats::of(py_otlp).show(0),
        Stats::of(sp_otlp).show(0),
        otlp_ratio.show(1),
        verdict(otlp_ratio.median >= 10.0)
    );
    println!();
    Ok(())
}

const BRIDGE_SCRIPT: &str = include_str!("../python_bridge.py");

/// Question 9: spanplug's Python package against the Python SDK's processors, as a
/// Ray user would swap one for the other.
fn from_python(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(500, 20_000);
    println!("## 9. From Python\n");
    let python = match python_venv() {
        Ok(python) => python,
        Err(error) => {
            println!("Skipped: {error:#}.\n");
            return Ok(());
        }
    };
    println!("`bench/python_bridge.py` in `target/bench-python-venv`, {count} spans with 5 attributes per run. *App");
    println!("thread*: creating and ending them on a provider with the processor (so it includes what a processor's");
    println!("own Python thread takes through the GIL); *added*: that minus the same with no processor, per run.");
    println!("*Delivered*: the same spans, already ended, handed to a fresh processor as fast as the SDK would, until");
    println!("`force_flush` returns (everything at the same local receiver, or in the file).\n");
    const CONFIGS: [&str; 5] = [
        "none",
        "python BatchSpanProcessor(OTLPSpanExporter)",
        "spanplug otlp_http:otlp",
        "python SimpleSpanProcessor(ConsoleSpanExporter)",
        "spanplug console_file",
    ];
    let mut ns: Vec<Vec<f64>> = vec![Vec::new(); CONFIGS.len()];
    let mut delivered: Vec<Vec<f64>> = vec![Vec::new(); CONFIGS.len()];
    for run in 0..options.repeats() {
        let receiver = Receiver::start();
        let dir = tempfile_dir(&format!("bridge-{run}"))?;
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
        let output = Command::new(&python)
            .arg("-c")
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
        let figures: serde_json::Value =
            serde_json::from_slice(&output.stdout).context("python_bridge.py output")?;
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
        // Both OTLP configurations delivered every span of every phase.
        let expected = 2 * (2 * count + (count / 10).max(1)) as usize;
        let received = receiver.delivered_spans().len();
        if received < expected {
            bail!("the receiver got {received} of {expected} spans");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    let added = |index: usize| -> Vec<f64> {
        ns[index]
            .iter()
            .zip(&ns[0])
            .map(|(x, none)| x - none)
            .collect()
    };
    println!("| configuration | app thread (ns/span) | added (ns/span) | delivered (spans/s) |");
    println!("|---|---|---|---|");
    for (index, name) in CONFIGS.iter().enumerate() {
        let (added_cell, delivered_cell) = if index == 0 {
            (String::new(), String::new())
        } else {
            (
                Stats::of(added(index)).show(0),
                Stats::of(delivered[index].clone()).show(0),
            )
        };
        println!(
            "| {name} | {} | {added_cell} | {delivered_cell} |",
            Stats::of(ns[index].clone()).show(0)
        );
    }
    let ratio = |ours: &[f64], theirs: &[f64]| {
        Stats::of(ours.iter().zip(theirs).map(|(o, t)| o / t).collect())
    };
    let otlp_added = ratio(&added(2), &added(1));
    let otlp_delivered = ratio(&delivered[2], &delivered[1]);
    let console_added = ratio(&added(4), &added(3));
    println!();
    println!(
        "Bars: spanplug's OTLP adds {} of what the Python batch processor adds on the application thread (≤ 0.25: {})",
        otlp_added.show(2),
        verdict(otlp_added.median <= 0.25),
    );
    println!(
        "and delivers {}× its spans per second (≥ 3×: {}); `console_file` adds {} of what `SimpleSpanProcessor(ConsoleSpanExporter)` adds (≤ 0.1: {}).\n",
        otlp_delivered.show(1),
        verdict(otlp_delivered.median >= 3.0),
        console_added.show(3),
        verdict(console_added.median <= 0.1),
    );
    Ok(())
}

const RAY_SERVE_SCRIPT: &str = include_str!("../ray_serve_latency.py");

/// Question 10: Ray Serve requests traced by Ray's default exporter and by spanplug.
fn ray_serve_latency(options: &Options) -> anyhow::Result<()> {
    let requests = options.pick(30, 400);
    println!("## 10. In Ray Serve\n");
    if std::env::var_os("SPANPLUG_RAY_TESTS").is_none() {
        println!("Skipped: set SPANPLUG_RAY_TESTS=1 to install Ray (`ray[serve]==2.60.0`, in `target/ray-venv`) and run it.\n");
        return Ok(());
    }
    let venv =
        spanplug_tests::python::venv_with_package("ray-venv", "python/tests_ray/requirements.txt");
    println!("`bench/ray_serve_latency.py` in `target/ray-venv`: a local Ray cluster, two deployments (one calling the");
    println!("other through a handle) behind Ray's proxy, sampling 1.0; {requests} requests one after another after a");
    let runs = options.pick(1, 3);
    println!("warm-up, the same requests for each exporter, each in a cluster of its own; {runs} runs of each, which one");
    println!("goes first alternating. Latency in µs.\n");
    let exporters = [
        (
            "Ray's default (`SimpleSpanProcessor(ConsoleSpanExporter)` to its spans folder)",
            "ray.serve._private.tracing_utils:default_tracing_exporter",
        ),
        (
            "spanplug `spanplug.ray:default_tracing_exporter` (console_file, same files)",
            "spanplug.ray:default_tracing_exporter",
        ),
    ];
    // One cluster with `entry` as its exporter: the (p50, p99) of its requests.
    let serve = |entry: &str| -> anyhow::Result<(f64, f64)> {
        let output = Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(RAY_SERVE_SCRIPT)
            .arg(entry)
            .arg(unused_port().to_string())
            .arg(requests.to_string())
            .env("PATH", spanplug_tests::python::path_with(&venv))
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
    };
    // Per exporter, each run's (p50, p99).
    let mut figures: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
    for run in 0..runs {
        let (ray, ours) = by_turns(run, || serve(exporters[0].1), || serve(exporters[1].1));
        figures[0].push(ray?);
        figures[1].push(ours?);
    }
    println!("| exporter | p50 | p99 |");
    println!("|---|---|---|");
    for ((label, _), runs) in exporters.iter().zip(&figures) {
        println!(
            "| {label} | {} | {} |",
            Stats::of(runs.iter().map(|r| r.0).collect()).show(0),
            Stats::of(runs.iter().map(|r| r.1).collect()).show(0)
        );
    }
    let ratio = |pick: fn(&(f64, f64)) -> f64| {
        Stats::of(
            figures[1]
                .iter()
                .zip(&figures[0])
                .map(|(s, r)| pick(s) / pick(r))
                .collect(),
        )
    };
    println!(
        "\nspanplug / Ray's default, run by run: p50 {}×, p99 {}×. Ray's start-up and scheduling vary between",
        ratio(|r| r.0).show(2),
        ratio(|r| r.1).show(2)
    );
    println!("clusters more than the exporters differ: read the spread before the median.\n");
    Ok(())
}

/// The native twin of `context_enricher:serve_context` for question 4: copies the
/// request context onto each span at start.
#[derive(Debug)]
struct NativeEnricher;

impl SpanProcessor for NativeEnricher {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &Context) {
        if let Some(request) = cx.get::<RequestContext>() {
            for (key, value) in request.iter() {
                span.set_attribute(KeyValue::new(key.to_string(), value.to_string()));
            }
        }
    }

    fn on_end(&self, _span: opentelemetry_sdk::trace::SpanData) {}

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
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

/// Question 4: what the application thread pays per span.
fn app_thread_cost(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(2_000, 100_000);
    println!("## 4. Cost on the application thread\n");
    println!("Start and end of a span with 5 attributes inside a request context, timed on the application thread.");
    println!("spanplug: `[context_enricher:serve_context, otlp_http:otlp]` through the host. Native: the SDK with the");
    println!("same processors built in (an enricher `SpanProcessor` copying the request context in `on_start`, and");
    println!("`opentelemetry-otlp` behind `BatchSpanProcessor`). Both export to a local receiver. {count} spans per run.");
    println!("The transform-chain rows run both configurations side by side, in 10 alternating blocks per run.\n");
    println!("| path | p50 ns | p99 ns |");
    println!("|---|---|---|");
    let (mut n50, mut n99, mut p50, mut p99) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut u50, mut nu50, mut timer) = (Vec::new(), Vec::new(), Vec::new());
    let (mut otlp50, mut chain50) = (Vec::new(), Vec::new());
    for _ in 0..options.repeats() {
        let receiver = Receiver::start();
        let native = otlp_sdk_provider(
            &receiver.base_url(),
            count as usize * 2,
            Sampler::AlwaysOn,
            Some(Box::new(NativeEnricher)),
        )?;
        let samples = latencies(&native, count);
        n50.push(percentile(&samples, 0.5) as f64);
        n99.push(percentile(&samples, 0.99) as f64);
        let _ = native.shutdown();
        let endpoint = receiver.base_url();
        let queue = (count * 2).to_string();
        let config = [
            ("endpoint", endpoint.as_str()),
            ("max_queue_size", queue.as_str()),
        ];
        let plugin = plugin_provider(
            &["context_enricher:serve_context", "otlp_http:otlp"],
            &config,
            Sampler::AlwaysOn,
        )?;
        let samples = latencies(&plugin, count);
        p50.push(percentile(&samples, 0.5) as f64);
        p99.push(percentile(&samples, 0.99) as f64);
        let _ = plugin.shutdown();
        let unsampled = plugin_provider(
            &["context_enricher:serve_context", "otlp_http:otlp"],
            &config,
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0))),
        )?;
        u50.push(percentile(&latencies(&unsampled, count), 0.5) as f64);
        let _ = unsampled.shutdown();
        let native_unsampled = native_provider(
            NativeNoop,
            Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.0))),
        );
        nu50.push(percentile(&latencies(&native_unsampled, count), 0.5) as f64);
        // The transform chain in front of an exporter, against the exporter alone.
        let chain_config = [
            ("endpoint", endpoint.as_str()),
            ("max_queue_size", queue.as_str()),
            ("names", "GET /health*"),
        ];
        // Both alive, measured in alternating blocks, so drifts in machine load hit both.
        let alone = plugin_provider(&["otlp_http:otlp"], &chain_config, Sampler::AlwaysOn)?;
        let chain = plugin_provider(
            &["span_filter:drop", "redact:attributes", "otlp_http:otlp"],
            &chain_config,
            Sampler::AlwaysOn,
        )?;
        let (mut alone_samples, mut chain_samples) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            alone_samples.extend(latencies(&alone, count / 10));
            chain_samples.extend(latencies(&chain, count / 10));
        }
        for (provider, samples, medians) in [
            (alone, &mut alone_samples, &mut otlp50),
            (chain, &mut chain_samples, &mut chain50),
        ] {
            samples.sort_unstable();
            medians.push(percentile(samples, 0.5) as f64);
            let _ = provider.shutdown();
        }
        let mut empty: Vec<u64> = (0..count)
            .map(|_| {
                let started = Instant::now();
                std::hint::black_box(());
                started.elapsed().as_nanos() as u64
            })
            .collect();
        empty.sort_unstable();
        timer.push(percentile(&empty, 0.5) as f64);
    }
    let ratio = Stats::of(p50.iter().zip(&n50).map(|(p, n)| p / n).collect());
    let p99_ratio = Stats::of(p99.iter().zip(&n99).map(|(p, n)| p / n).collect());
    let chain_ratio = Stats::of(chain50.iter().zip(&otlp50).map(|(c, o)| c / o).collect());
    let unsampled = Stats::of(u50);
    println!(
        "| native SDK, sampled | {} | {} |",
        Stats::of(n50).show(0),
        Stats::of(n99).show(0)
    );
    println!(
        "| spanplug, sampled | {} | {} |",
        Stats::of(p50).show(0),
        Stats::of(p99).show(0)
    );
    println!(
        "| spanplug, unsampled (ratio 0) | {} | |",
        unsampled.show(0)
    );
    let native_unsampled = Stats::of(nu50);
    println!(
        "| native SDK, unsampled (ratio 0) | {} | |",
        native_unsampled.show(0)
    );
    println!(
        "| the timer alone (two `Instant::now()`) | {} | |",
        Stats::of(timer).show(0)
    );
    println!(
        "| spanplug `otlp_http:otlp` alone, sampled | {} | |",
        Stats::of(otlp50).show(0)
    );
    println!(
        "| spanplug `[span_filter:drop, redact:attributes, otlp_http:otlp]`, sampled | {} | |",
        Stats::of(chain50).show(0)
    );
    println!(
        "\nThe transform chain (a filter rule and the default redaction, which match nothing in this workload) costs {}× `otlp_http:otlp` alone at p50 (bar ≤ 1.3×: {}).",
        chain_ratio.show(2),
        verdict(chain_ratio.median <= 1.3)
    );
    println!(
        "\nSampled spanplug / native: p50 {}× (bar ≤ 1.1×: {}), p99 {}× (bar ≤ 1×: {}). Unsampled p50 {:.0} ns (bar ≤ 100 ns: {}); an unsampled",
        ratio.show(2),
        verdict(ratio.median <= 1.1),
        p99_ratio.show(2),
        verdict(p99_ratio.median <= 1.0),
        unsampled.median,
        verdict(unsampled.median <= 100.0)
    );
    println!("span never reaches a processor, so that figure is the SDK's own (native: {:.0} ns), timer included.\n", native_unsampled.median);
    Ok(())
}

/// Question 5: cost per span as the count and the thread count grow.
fn scale(options: &Options) -> anyhow::Result<()> {
    println!("## 5. Scale\n");
    println!("`console_file` (jsonl) through the host, spans with 5 attributes; ns per span on the application side");
    println!("(total wall time × threads / spans, so flat means no contention). Single runs; the spread shows in the rows.\n");
    println!("| spans | threads | ns/span |");
    println!("|---|---|---|");
    let dir = tempfile_dir("scale")?;
    let counts: Vec<u64> = options.pick(vec![1_000, 5_000], vec![10_000, 100_000, 1_000_000]);
    let threads: Vec<u64> = vec![1, 2, 4];
    let run = |count: u64, threads: u64, name: &str| -> anyhow::Result<f64> {
        let log_dir = dir.join(name);
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
        let _ = std::fs::remove_dir_all(&log_dir);
        Ok(elapsed.as_nanos() as f64 * threads as f64 / count as f64)
    };
    for &count in &counts {
        println!(
            "| {count} | 1 | {:.0} |",
            run(count, 1, &format!("c{count}"))?
        );
    }
    let total = *counts.last().expect("counts");
    for &threads in &threads[1..] {
        println!(
            "| {total} | {threads} | {:.0} |",
            run(total, threads, &format!("t{threads}"))?
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("\nOn 2 cores, 4 threads oversubscribe the machine: their per-thread figure includes waiting for a core.\n");
    Ok(())
}

/// One path, for `valgrind --tool=callgrind spanplug-bench profile <case> [count]`:
/// where the instructions of a span go.
fn profile(case: &str, count: u64) -> anyhow::Result<()> {
    let receiver = Receiver::start();
    let endpoint = receiver.base_url();
    let dir = tempfile_dir("profile")?;
    let otlp = [
        ("endpoint", endpoint.as_str()),
        ("max_queue_size", "1000000"),
        ("log_dir", dir.to_str().unwrap_or("/tmp")),
    ];
    let provider = match case {
        "native-noop" => native_provider(NativeNoop, Sampler::AlwaysOn),
        "plugin-noop" => plugin_provider(&["bench_noop:noop"], &[], Sampler::AlwaysOn)?,
        "console_file" => plugin_provider(
            &["console_file:default_tracing_exporter"],
            &otlp,
            Sampler::AlwaysOn,
        )?,
        "otlp_http" => plugin_provider(&["otlp_http:otlp"], &otlp, Sampler::AlwaysOn)?,
        "enricher+otlp_http" => plugin_provider(
            &["context_enricher:serve_context", "otlp_http:otlp"],
            &otlp,
            Sampler::AlwaysOn,
        )?,
        "chain+otlp_http" => plugin_provider(
            &["span_filter:drop", "redact:attributes", "otlp_http:otlp"],
            &[otlp[0], otlp[1], otlp[2], ("names", "GET /health*")],
            Sampler::AlwaysOn,
        )?,
        "native-enricher+otlp" => otlp_sdk_provider(
            &endpoint,
            1_000_000,
            Sampler::AlwaysOn,
            Some(Box::new(NativeEnricher)),
        )?,
        other => bail!("unknown case {other}"),
    };
    let _request = RequestContext::new()
        .with("request_id", "0af7651916cd43dd")
        .with("app", "default")
        .attach();
    run_spans(&provider, count, false);
    let _ = provider.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `Span::end()` on the application thread for one span of each width through the
/// no-op plugin, span limits raised to let every attribute in; half of them repeat a
/// key, so the host's key de-duplication has work to do. `median (min–max)` of 3.
fn wide_spans(widths: &[u32]) -> anyhow::Result<()> {
    let widest = widths.iter().copied().max().unwrap_or(0);
    let pipeline = PluginPipeline::load(&plugin_config(&["bench_noop:noop"], &[]), &resource())?;
    let provider = SdkTracerProvider::builder()
        .with_max_attributes_per_span(widest)
        .with_span_processor(pipeline)
        .build();
    let tracer = provider.tracer("bench");
    println!("| attributes | `Span::end()` |\n|---|---|");
    for &width in widths {
        let mut times = (0..3)
            .map(|_| {
                let mut span = tracer.start("wide");
                for i in 0..width {
                    let key = format!("attribute.{}", i % width.div_ceil(2));
                    span.set_attribute(KeyValue::new(key, i64::from(i)));
                }
                let started = Instant::now();
                span.end();
                started.elapsed()
            })
            .collect::<Vec<_>>();
        times.sort();
        println!(
            "| {width} | {:.2?} ({:.2?}–{:.2?}) |",
            times[1], times[0], times[2]
        );
    }
    Ok(())
}

const WARM_UP_SPANS: u64 = 1000;

/// Question 6, measured in a fresh process: offers `count` spans to `otlp_http`
/// with nothing listening; prints RSS before, peak RSS, and the exporter's report.
fn memory_child(count: u64) -> anyhow::Result<()> {
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
    // The SDK wraps the pipeline's message; keep the exporter's own words.
    let report = outcome
        .find(" spans lost")
        .map(|end| {
            let start = outcome[..end].rfind(' ').map_or(0, |i| i + 1);
            outcome[start..]
                .trim_end_matches(['"', ')', ']'])
                .to_string()
        })
        .unwrap_or(outcome.clone());
    println!("{before}\n{peak}\n{report}");
    Ok(())
}

/// Question 6: memory with the backend down.
fn dead_backend_memory(options: &Options) -> anyhow::Result<()> {
    let count = options.pick(20_000u64, 1_000_000);
    let queue = 2048u64;
    println!("## 6. Memory with a dead backend\n");
    println!("`otlp_http:otlp` to a port nothing listens on, default queue ({queue} spans), {count} spans offered, in a fresh");
    println!("process (RSS measured after 1000 warm-up spans).\n");
    let output = Command::new(std::env::current_exe()?)
        .args(["memory-child", &count.to_string()])
        .output()?;
    if !output.status.success() {
        bail!("memory child: {}", String::from_utf8_lossy(&output.stderr));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let before: u64 = lines.next().context("rss before")?.parse()?;
    let peak: u64 = lines.next().context("rss peak")?.parse()?;
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
    // A queued span is its encoded bytes (~300 B for this workload) in a Vec, plus the
    // queue slot and a shared scope pointer: under 1 KiB.
    let span_bytes = 1024u64;
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    println!(
        "| RSS before | RSS peak | growth | queue bound ({queue} × 1 KiB) | spans accounted for |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | {accounted} of {} |",
        mib(before),
        mib(peak),
        mib(peak.saturating_sub(before)),
        mib(queue * span_bytes),
        count + WARM_UP_SPANS
    );
    println!("\nThe exporter's shutdown report: {report}.");
    println!(
        "Growth stays under the queue bound ({}) and does not grow with the span count; every span offered is",
        verdict(peak.saturating_sub(before) <= queue * span_bytes)
    );
    println!("counted as delivered, dropped (queue full) or failed.\n");
    Ok(())
}

fn startup_child(import_path: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    // What every shipped factory needs to start (span_filter refuses to run with no
    // rule); each ignores the others' settings (shared `exporter_config`).
    let pipeline = PluginPipeline::load(
        &plugin_config(
            &[import_path],
            &[
                ("endpoint", "http://127.0.0.1:9"),
                ("names", "GET /health*"),
            ],
        ),
        &resource(),
    )?;
    let elapsed = started.elapsed();
    drop(pipeline);
    println!("{}", elapsed.as_micros());
    Ok(())
}

/// The shipped plugins, one factory each, as question 7 loads them.
const SHIPPED_PLUGINS: [&str; 5] = [
    "console_file:default_tracing_exporter",
    "otlp_http:otlp",
    "context_enricher:serve_context",
    "span_filter:drop",
    "redact:attributes",
];

/// Question 7: resolve, load, check and call each shipped plugin's factory.
fn startup(options: &Options) -> anyhow::Result<()> {
    println!("## 7. Start-up\n");
    println!("Resolve, `dlopen`, check the ABI and call the factory, in a fresh process each time (first load).\n");
    println!("| import path | ms | bar ≤ 5 ms |");
    println!("|---|---|---|");
    let exe = std::env::current_exe()?;
    for import_path in SHIPPED_PLUGINS {
        let mut samples = Vec::new();
        for _ in 0..options.pick(1, 5) {
            let output = Command::new(&exe)
                .args(["startup-child", import_path])
                .output()?;
            if !output.status.success() {
                bail!("{import_path}: {}", String::from_utf8_lossy(&output.stderr));
            }
            samples.push(
                String::from_utf8_lossy(&output.stdout)
                    .trim()
                    .parse::<f64>()?
                    / 1000.0,
            );
        }
        let stats = Stats::of(samples);
        println!(
            "| {import_path} | {} | {} |",
            stats.show(2),
            verdict(stats.median <= 5.0)
        );
    }
    println!();
    Ok(())
}

/// The example's own tracing config; the environment picks the exporter per run.
fn example_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/multi-service/service.yaml")
}

/// A helper process that is killed when the benchmark is done with it.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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

/// Repeated load runs of one tracing mode.
#[derive(Default)]
struct LoadSamples {
    p50: Vec<f64>,
    p99: Vec<f64>,
    rate: Vec<f64>,
}

/// An OTLP receiver in its own process, as a collector would be: prints its port,
/// runs until killed.
fn receiver_child() -> anyhow::Result<()> {
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

/// Question 8: the multi-service example under load.
fn end_to_end(options: &Options) -> anyhow::Result<()> {
    let duration = options.pick(Duration::from_millis(500), Duration::from_secs(10));
    let concurrency = 4;
    println!("## 8. End to end\n");
    println!("The multi-service example (5 processes, 4 HTTP hops per request) under `GET /user/1` from {concurrency} concurrent");
    println!(
        "clients for {:?} per run, on loopback; the OTLP receiver runs as its own process, as a collector would.",
        duration
    );
    println!("On this 2-core machine the receiver's decoding competes with the services; the last row runs it at");
    println!("the lowest priority, standing in for a collector on another host. Latency in µs.\n");
    println!("| tracing | p50 µs | p99 µs | requests/s | p99 / off |");
    println!("|---|---|---|---|---|");
    let (_collector, collector_url) = start_receiver_process(0)?;
    let (_remote_collector, remote_collector_url) = start_receiver_process(19)?;
    let logs = tempfile_dir("e2e")?;
    let modes: [(&str, Vec<(&str, String)>); 4] = [
        ("off", vec![("SPANPLUG_TRACING_ENABLED", "false".into())]),
        (
            "console_file",
            vec![("SPANPLUG_LOG_DIR", logs.to_string_lossy().into_owned())],
        ),
        (
            "otlp_http",
            vec![
                (
                    "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
                    "otlp_http:otlp".into(),
                ),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", collector_url.clone()),
            ],
        ),
        (
            "otlp_http, collector at nice 19",
            vec![
                (
                    "SPANPLUG_TRACING_EXPORTER_IMPORT_PATH",
                    "otlp_http:otlp".into(),
                ),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", remote_collector_url.clone()),
            ],
        ),
    ];
    let mut results: BTreeMap<&str, LoadSamples> = BTreeMap::new();
    for _ in 0..options.pick(1, 3) {
        for (name, mode_env) in &modes {
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
            let mut services =
                Deployment::start(&std::env::current_exe()?, &example_config(), &env)?;
            let (latencies, rate) = load(&services.url(Role::Proxy), duration, concurrency)?;
            services.stop()?;
            let entry = results.entry(name).or_default();
            entry.p50.push(percentile(&latencies, 0.5) as f64);
            entry.p99.push(percentile(&latencies, 0.99) as f64);
            entry.rate.push(rate);
        }
    }
    let _ = std::fs::remove_dir_all(&logs);
    let off_p99 = Stats::of(results["off"].p99.clone()).median;
    let mut worst = 0.0f64;
    for (name, _) in &modes {
        let LoadSamples { p50, p99, rate } = &results[name];
        let p99 = Stats::of(p99.clone());
        let ratio = p99.median / off_p99;
        if *name != "off" {
            worst = worst.max(ratio);
        }
        println!(
            "| {name} | {} | {} | {} | {ratio:.2}× |",
            Stats::of(p50.clone()).show(0),
            p99.show(0),
            Stats::of(rate.clone()).show(0)
        );
    }
    println!(
        "\nBar: p99 with tracing on ≤ 1.05× off: {} (worst {worst:.2}×).\n",
        verdict(worst <= 1.05)
    );
    Ok(())
}

fn tempfile_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("spanplug-bench-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
