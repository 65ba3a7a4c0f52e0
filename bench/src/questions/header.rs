//! The top of `BENCHMARKS.md`: how it was produced and on what machine.

use std::fmt;

/// The machine the figures were measured on.
#[derive(Debug)]
pub(crate) struct Header {
    quick: bool,
    cores: usize,
    cpu: String,
}

impl Header {
    pub(crate) fn of_this_machine(quick: bool) -> Header {
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
        Header { quick, cores, cpu }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Header { quick, cores, cpu } = self;
        writeln!(f, "# Benchmarks\n")?;
        writeln!(f, "Produced by `cargo run --release -p spanplug-bench{}` (the same runs as `cargo bench -p spanplug-bench`).", if *quick { " -- --quick" } else { "" })?;
        writeln!(f, "Machine: {cores} cores ({cpu}), shared and noisy, so every figure is a ratio against a baseline")?;
        writeln!(
            f,
            "measured in the same run, repeated; cells show `median (min–max)` over the repeats.\n"
        )?;
        if *quick {
            writeln!(f, "**Quick mode: one small run per question, to keep the benchmarks working. Not a measurement.**\n")?;
        }
        Ok(())
    }
}
