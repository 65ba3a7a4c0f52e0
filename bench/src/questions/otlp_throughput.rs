//! Question 2: otlp_http against opentelemetry-otlp's HTTP exporter.

use std::fmt;
use std::time::Duration;

use opentelemetry_sdk::trace::Sampler;
use spanplug_bench::{cpu_time, Stats};
use spanplug_tests::otlp_receiver::Receiver;

use super::setup::{delivered_rate, otlp_sdk_provider, plugin_provider};
use super::{verdict, Options, Versus};

#[derive(Debug)]
pub(crate) struct OtlpThroughput {
    count: u64,
    /// spans/s delivered, opentelemetry-otlp's (baseline) and spanplug's.
    delivered: Versus,
    native_cpu_us: Stats,
    plugin_cpu_us: Stats,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<OtlpThroughput> {
    let count = options.pick(2_000, 200_000);
    let (mut native, mut plugin, mut native_cpu, mut plugin_cpu) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let cpu_us_per_span = |since: Duration| (cpu_time() - since).as_secs_f64() * 1e6 / count as f64;
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
        native_cpu.push(cpu_us_per_span(cpu));
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
        plugin_cpu.push(cpu_us_per_span(cpu));
    }
    Ok(OtlpThroughput {
        count,
        delivered: Versus::of(native, plugin),
        native_cpu_us: Stats::of(native_cpu),
        plugin_cpu_us: Stats::of(plugin_cpu),
    })
}

impl fmt::Display for OtlpThroughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.count;
        writeln!(f, "## 2. OTLP throughput\n")?;
        writeln!(f, "The same spans (5 attributes, 1 event) to the same local receiver, which decodes every request with")?;
        writeln!(f, "`opentelemetry-proto` (it runs in the benchmark process, so its decoding is in the CPU figures of both).")?;
        writeln!(f, "Native: `opentelemetry-otlp`'s HTTP/protobuf exporter (blocking reqwest) behind the SDK's `BatchSpanProcessor`;")?;
        writeln!(f, "spanplug: `otlp_http:otlp`. Both: batches of 512, 100 ms delay, a queue large enough to drop nothing. {count} spans per run.\n")?;
        writeln!(f, "| exporter | spans/s delivered | CPU µs per span |")?;
        writeln!(f, "|---|---|---|")?;
        writeln!(
            f,
            "| opentelemetry-otlp + BatchSpanProcessor | {} | {} |",
            self.delivered.baseline.show(0),
            self.native_cpu_us.show(2)
        )?;
        writeln!(
            f,
            "| spanplug otlp_http | {} | {} |",
            self.delivered.spanplug.show(0),
            self.plugin_cpu_us.show(2)
        )?;
        writeln!(
            f,
            "\nspanplug / native: {}× spans/s. Bar ≥ 1.0×: {}.\n",
            self.delivered.ratio.show(2),
            verdict(self.delivered.ratio.median >= 1.0)
        )
    }
}
