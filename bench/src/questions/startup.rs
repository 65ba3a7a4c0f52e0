//! Question 7: resolve, load, check and call each shipped plugin's factory, each in
//! a fresh process (`spanplug-bench startup-child IMPORT_PATH`).

use std::fmt;
use std::process::Command;
use std::time::Instant;

use anyhow::bail;
use spanplug_bench::Stats;
use spanplug_sdk::SpanplugProcessor;

use super::setup::{plugin_config, resource};
use super::{verdict, Options};

/// The shipped plugins, one factory each.
const SHIPPED_PLUGINS: [&str; 5] = [
    "console_file:default_tracing_exporter",
    "otlp_http:otlp",
    "context_enricher:serve_context",
    "span_filter:drop",
    "redact:attributes",
];

/// Milliseconds to a started `SpanplugProcessor`, per import path.
#[derive(Debug)]
pub(crate) struct Startup {
    rows: Vec<(&'static str, Stats)>,
}

pub(crate) fn measure(options: &Options) -> anyhow::Result<Startup> {
    let exe = std::env::current_exe()?;
    let mut rows = Vec::new();
    for import_path in SHIPPED_PLUGINS {
        let mut samples = Vec::new();
        for _ in 0..options.pick(1, 5) {
            let output = Command::new(&exe)
                .args(["startup-child", import_path])
                .output()?;
            if !output.status.success() {
                bail!("{import_path}: {}", String::from_utf8_lossy(&output.stderr));
            }
            let micros = String::from_utf8_lossy(&output.stdout)
                .trim()
                .parse::<f64>()?;
            samples.push(micros / 1000.0);
        }
        rows.push((import_path, Stats::of(samples)));
    }
    Ok(Startup { rows })
}

/// The fresh process: loads `import_path`'s processors and prints the µs it took.
pub(crate) fn startup_child(import_path: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    // What every shipped factory needs to start (span_filter refuses to run with no
    // rule); each ignores the others' settings (shared `exporter_config`).
    let processor = SpanplugProcessor::load(
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
    drop(processor);
    println!("{}", elapsed.as_micros());
    Ok(())
}

impl fmt::Display for Startup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "## 7. Start-up\n")?;
        writeln!(f, "Resolve, `dlopen`, check the ABI and call the factory, in a fresh process each time (first load).\n")?;
        writeln!(f, "| import path | ms | bar ≤ 5 ms |")?;
        writeln!(f, "|---|---|---|")?;
        for (import_path, ms) in &self.rows {
            writeln!(
                f,
                "| {import_path} | {} | {} |",
                ms.show(2),
                verdict(ms.median <= 5.0)
            )?;
        }
        writeln!(f)
    }
}
