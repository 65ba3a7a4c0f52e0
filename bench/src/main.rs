//! `spanplug-bench [--quick]`: answers the benchmark questions and prints
//! `BENCHMARKS.md` to stdout. Every figure is a ratio against a baseline measured in
//! the same run; `--quick` runs each question once at a small size (CI uses it so the
//! benchmarks never rot; its numbers mean nothing).
//!
//! Each question is a module of `questions/`: it measures into a typed result,
//! whose `Display` is its section of `BENCHMARKS.md`.

mod questions;

use spanplug_examples::multi_service::ServeArgs;

use questions::{dead_backend, end_to_end, profile, startup, wide_spans, Header, Options};

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
        Some(command) => run_child(command),
        None => answer_questions(&Options { quick: cli.quick }, cli.only.as_deref()),
    }
}

fn run_child(command: SelfCommand) -> anyhow::Result<()> {
    match command {
        SelfCommand::Serve(args) => args.run(&end_to_end::example_config()),
        SelfCommand::StartupChild { import_path } => startup::startup_child(&import_path),
        SelfCommand::MemoryChild { count } => dead_backend::memory_child(count),
        SelfCommand::ReceiverChild => end_to_end::receiver_child(),
        SelfCommand::Profile { workload, spans } => profile::profile(&workload, spans),
        SelfCommand::WideSpans { attributes } => {
            print!("{}", wide_spans::measure(&attributes)?);
            Ok(())
        }
    }
}

/// Prints the header, then each question's section as it is answered.
fn answer_questions(options: &Options, only: Option<&[usize]>) -> anyhow::Result<()> {
    print!("{}", Header::of_this_machine(options.quick));
    for (number, question) in (1..).zip(questions::QUESTIONS) {
        if only.is_none_or(|only| only.contains(&number)) {
            print!("{}", question(options)?);
        }
    }
    Ok(())
}
