//! `cargo bench -p spanplug-bench`: the full benchmark run (see `src/questions/`),
//! printing `BENCHMARKS.md` to stdout.

use std::process::Command;

fn main() {
    // Cargo passes `--bench`; the runner takes `--quick` only.
    let quick = std::env::args().any(|a| a == "--quick");
    let runner = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.join("spanplug-bench")))
        .filter(|path| path.is_file())
        .expect("cargo builds the spanplug-bench binary alongside its benchmark");
    let mut command = Command::new(runner);
    if quick {
        command.arg("--quick");
    }
    let status = command.status().expect("run spanplug-bench");
    std::process::exit(status.code().unwrap_or(1));
}
