//! Question 1: the same logic native and through a `.so`.

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};
use spanplug_bench::{run_spans, with_native_context, CpuSample, NativeAdapter, NativeNoop, Stats};
use spanplug_tests::otlp_receiver::Receiver;

use super::setup::{
    delivered_rate, native_provider, ns_per_span, plugin_provider, spans_per_second, tempfile_dir,
    timed_with_flush,
};
use super::{by_turns, verdict, Options, Versus};

/// The no-op runs come in this many alternating blocks each.
const NOOP_BLOCKS: u64 = 10;
/// What the `.so` boundary may add to a no-op processor, per span.
const NOOP_BAR_NS: f64 = 40.0;

#[derive(Debug)]
pub(crate) struct Boundary {
    count: u64,
    noop: Noop,
    /// spans/s native (baseline) and as a plugin.
    console_file: Versus,
    otlp_http: Versus,
}

/// ns per span of the no-op processor, and what else used the machine meanwhile.
#[derive(Debug)]
struct Noop {
    native: Stats,
    plugin: Stats,
    added: Stats,
    /// Percent of the machine's CPU time other processes used.
    others: f64,
    /// Percent the hypervisor took (steal).
    steal: f64,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<Boundary> {
    let count = options.pick(2_000, 200_000);
    Ok(Boundary {
        count,
        noop: noop(options, count)?,
        console_file: console_file(options, count)?,
        otlp_http: otlp_http(options, count)?,
    })
}

/// ns per span; both alive, in alternating blocks, so drifts in machine load hit both.
fn noop(options: &Options, count: u64) -> anyhow::Result<Noop> {
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
    let (others, steal) = CpuSample::now().shares_since(&machine_before);
    Ok(Noop {
        native: Stats::of(native),
        plugin: Stats::of(plugin),
        added,
        others,
        steal,
    })
}

/// spans/s including the final flush.
fn console_file(options: &Options, count: u64) -> anyhow::Result<Versus> {
    let dir = tempfile_dir("boundary-console")?;
    let (mut native, mut plugin) = (Vec::new(), Vec::new());
    for run in 0..options.repeats() {
        let provider = native_console_file(dir.join(format!("native-{run}")))?;
        native.push(spans_per_second(timed_with_flush(&provider, count), count));
        let _ = provider.shutdown();
        let plugin_dir = dir.join(format!("plugin-{run}"));
        let provider = plugin_provider(
            &["console_file:default_tracing_exporter"],
            &[("log_dir", &plugin_dir.to_string_lossy())],
            Sampler::AlwaysOn,
        )?;
        plugin.push(spans_per_second(timed_with_flush(&provider, count), count));
        let _ = provider.shutdown();
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Versus::of(native, plugin))
}

/// console_file's processor compiled into the host, writing pretty spans under `dir`.
fn native_console_file(dir: std::path::PathBuf) -> anyhow::Result<SdkTracerProvider> {
    use spanplug_console_file::sink::{ConsoleProcessor, Destination, Settings};
    let processor = with_native_context(&[], |ctx| {
        ConsoleProcessor::start(
            Settings {
                destination: Destination::Directory {
                    root: dir.clone(),
                    root_may_be_link: true,
                    dir,
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
    Ok(native_provider(
        NativeAdapter::new(processor),
        Sampler::AlwaysOn,
    ))
}

/// The otlp_http exporter's batch settings, native and plugin alike.
const OTLP_BATCH: [(&str, &str); 2] = [("max_queue_size", "1000000"), ("schedule_delay", "100")];

/// spans/s delivered to a local receiver. A run is short at these rates, so twice
/// the runs, in native-plugin and plugin-native order by turns.
fn otlp_http(options: &Options, count: u64) -> anyhow::Result<Versus> {
    let native_rate = || -> anyhow::Result<f64> {
        let receiver = Receiver::start();
        let endpoint = receiver.base_url();
        let provider = native_otlp_http(&endpoint)?;
        delivered_rate(&provider, &receiver, count, false)
    };
    let plugin_rate = || -> anyhow::Result<f64> {
        let receiver = Receiver::start();
        let endpoint = receiver.base_url();
        let provider = plugin_provider(
            &["otlp_http:otlp"],
            &[
                ("endpoint", endpoint.as_str()),
                OTLP_BATCH[0],
                OTLP_BATCH[1],
            ],
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
    Ok(Versus::of(native, plugin))
}

/// otlp_http's exporter compiled into the host, sending to `endpoint`.
fn native_otlp_http(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    use spanplug_otlp_http::{batch::FactoryResource, settings, worker::Exporter};
    let config = [("endpoint", endpoint), OTLP_BATCH[0], OTLP_BATCH[1]];
    let exporter = with_native_context(&config, |ctx| {
        let settings = settings::Settings::resolve(&settings::OTLP, ctx)?;
        let resource = FactoryResource::new(ctx.resource_attributes());
        Exporter::start(settings, resource, ctx.logger())
    })
    .map_err(anyhow::Error::msg)?;
    Ok(native_provider(
        NativeAdapter::new(exporter),
        Sampler::AlwaysOn,
    ))
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Boundary {
            count,
            noop,
            console_file,
            otlp_http,
        } = self;
        writeln!(f, "## 1. Boundary cost\n")?;
        writeln!(f, "Spans with 5 attributes, ended on one thread. *Native* is an `opentelemetry_sdk` `SpanProcessor` in the")?;
        writeln!(f, "host: for no-op it does nothing with the `SpanData`; for the exporters it runs the plugin's own source")?;
        writeln!(f, "compiled into the host (the same view is built, then the processor is called directly). *Plugin* loads")?;
        writeln!(f, "the `.so` through `exporter_import_path`. {count} spans per run (no-op: both in {NOOP_BLOCKS} alternating blocks).\n")?;
        writeln!(f, "| processor | native | plugin | plugin / native |")?;
        writeln!(f, "|---|---|---|---|")?;
        // One row each: the native and plugin figures, then what the plugin adds.
        let rows = [
            (
                "no-op (ns/span)",
                &noop.native,
                &noop.plugin,
                format!("+{} ns", noop.added.show(0)),
            ),
            (
                "console_file (spans/s)",
                &console_file.baseline,
                &console_file.spanplug,
                format!("{}×", console_file.ratio.show(2)),
            ),
            (
                "otlp_http (spans/s delivered)",
                &otlp_http.baseline,
                &otlp_http.spanplug,
                format!("{}×", otlp_http.ratio.show(2)),
            ),
        ];
        for (name, native, plugin, added) in rows {
            writeln!(
                f,
                "| {name} | {} | {} | {added} |",
                native.show(0),
                plugin.show(0)
            )?;
        }
        writeln!(f)?;
        self.write_bars(f)
    }
}

impl Boundary {
    fn write_bars(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noop_added = self.noop.added.median;
        let (console, otlp) = (self.console_file.ratio.median, self.otlp_http.ratio.median);
        writeln!(
            f,
            "Bar: the plugin adds at most {NOOP_BAR_NS} ns per span for no-op ({}: +{noop_added:.0} ns) and reaches 0.95× native for the",
            verdict(noop_added <= NOOP_BAR_NS)
        )?;
        writeln!(
            f,
            "exporters (console_file {}: {console:.2}×; otlp_http {}: {otlp:.2}×). For a user: loading a processor from a `.so`",
            verdict(console >= 0.95),
            verdict(otlp >= 0.95),
        )?;
        writeln!(
            f,
            "instead of compiling it in costs about the time of one small allocation per span.\n"
        )?;
        let Noop { others, steal, .. } = self.noop;
        writeln!(
            f,
            "While the no-op blocks ran, other processes used {others:.0}% of the machine's CPU time and the hypervisor"
        )?;
        writeln!(
            f,
            "took {steal:.0}% (steal): a run with either above a few percent measured the machine as much as the boundary.\n"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(median: f64) -> Stats {
        Stats {
            median,
            min: median,
            max: median,
        }
    }

    fn versus(ratio: f64) -> Versus {
        Versus {
            baseline: stats(1000.0),
            spanplug: stats(1000.0 * ratio),
            ratio: stats(ratio),
        }
    }

    fn report(noop_added: f64, console_ratio: f64) -> String {
        Boundary {
            count: 2000,
            noop: Noop {
                native: stats(100.0),
                plugin: stats(100.0 + noop_added),
                added: stats(noop_added),
                others: 3.0,
                steal: 0.0,
            },
            console_file: versus(console_ratio),
            otlp_http: versus(1.0),
        }
        .to_string()
    }

    #[test]
    fn the_report_holds_each_row_and_says_which_bar_is_missed() {
        let text = report(55.0, 0.9);
        assert!(text.starts_with("## 1. Boundary cost\n\n"), "{text}");
        assert!(text.contains("the `.so` through `exporter_import_path`. 2000 spans per run (no-op: both in 10 alternating blocks).\n"), "{text}");
        assert!(
            text.contains("| no-op (ns/span) | 100 (100–100) | 155 (155–155) | +55 (55–55) ns |\n"),
            "{text}"
        );
        assert!(text.contains("| console_file (spans/s) | 1000 (1000–1000) | 900 (900–900) | 0.90 (0.90–0.90)× |\n"), "{text}");
        assert!(
            text.contains("for no-op (**misses the bar**: +55 ns)"),
            "{text}"
        );
        assert!(
            text.contains(
                "(console_file **misses the bar**: 0.90×; otlp_http meets the bar: 1.00×)"
            ),
            "{text}"
        );
        assert!(
            text.contains("other processes used 3% of the machine's CPU time"),
            "{text}"
        );
    }

    #[test]
    fn the_report_says_the_bars_are_met_within_them() {
        let text = report(40.0, 0.95);
        assert!(text.contains("for no-op (meets the bar: +40 ns)"), "{text}");
        assert!(!text.contains("misses"), "{text}");
    }
}
