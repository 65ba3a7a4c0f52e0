//! The benchmark questions, one module each. A question measures into a typed
//! result; the result's `Display` renders its section of `BENCHMARKS.md`, so the
//! prose and tables live apart from the timing code.

use std::fmt;

use spanplug_bench::Stats;

mod app_thread;
mod boundary;
pub(crate) mod dead_backend;
pub(crate) mod end_to_end;
mod from_python;
mod header;
mod otlp_throughput;
pub(crate) mod profile;
mod python;
mod python_sdk;
mod ray_serve;
mod scale;
pub(crate) mod self_metrics;
pub(crate) mod setup;
pub(crate) mod startup;
pub(crate) mod wide_spans;

pub(crate) use header::Header;

/// How much to measure: `--quick` runs each question once at a small size.
#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) quick: bool,
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

/// A question's measurement, rendered as its markdown section.
pub(crate) type Answer = anyhow::Result<Box<dyn fmt::Display>>;

fn answer<T: fmt::Display + 'static>(figures: anyhow::Result<T>) -> Answer {
    Ok(Box::new(figures?))
}

/// The questions in their order in `BENCHMARKS.md` (`--only` counts from 1).
pub(crate) const QUESTIONS: [fn(&Options) -> Answer; 11] = [
    |options| answer(boundary::measure(options)),
    |options| answer(otlp_throughput::measure(options)),
    |options| answer(python_sdk::measure(options)),
    |options| answer(app_thread::measure(options)),
    |options| answer(scale::measure(options)),
    |options| answer(dead_backend::measure(options)),
    |options| answer(startup::measure(options)),
    |options| answer(end_to_end::measure(options)),
    |options| answer(from_python::measure(options)),
    |options| answer(ray_serve::measure(options)),
    |options| answer(self_metrics::measure(options)),
];

fn verdict(pass: bool) -> &'static str {
    if pass {
        "meets the bar"
    } else {
        "**misses the bar**"
    }
}

/// Run by run, `ours / theirs`.
fn ratios(ours: &[f64], theirs: &[f64]) -> Stats {
    Stats::of(ours.iter().zip(theirs).map(|(o, t)| o / t).collect())
}

/// Runs `a` and `b`, `a` first on even turns and `b` first on odd ones, so that a
/// drift of the machine or a cost of going first hits both alike.
fn by_turns<T>(turn: usize, a: impl FnOnce() -> T, b: impl FnOnce() -> T) -> (T, T) {
    if turn % 2 == 0 {
        let a = a();
        (a, b())
    } else {
        let b = b();
        (a(), b)
    }
}

/// One figure of spanplug's against the same figure of a baseline (the native
/// SDK, or Python's), over the same runs.
#[derive(Debug)]
struct Versus {
    baseline: Stats,
    spanplug: Stats,
    /// spanplug / baseline, run by run.
    ratio: Stats,
}

impl Versus {
    fn of(baseline: Vec<f64>, spanplug: Vec<f64>) -> Versus {
        Versus {
            ratio: ratios(&spanplug, &baseline),
            baseline: Stats::of(baseline),
            spanplug: Stats::of(spanplug),
        }
    }
}

/// What a question that needs something this machine may lack reports without it.
#[derive(Debug)]
enum Measured<T> {
    Figures(T),
    /// Why it did not run.
    Skipped(String),
}

impl<T: fmt::Display> Measured<T> {
    /// The section: `title`, then the figures or why there are none.
    fn render(&self, f: &mut fmt::Formatter<'_>, title: &str) -> fmt::Result {
        writeln!(f, "{title}\n")?;
        match self {
            Measured::Figures(figures) => write!(f, "{figures}"),
            Measured::Skipped(reason) => writeln!(f, "Skipped: {reason}.\n"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_turns_runs_a_first_on_even_turns_and_b_first_on_odd_ones() {
        for (turn, first) in [(0, "a"), (1, "b"), (2, "a")] {
            let order = std::cell::RefCell::new(Vec::new());
            let (a, b) = by_turns(
                turn,
                || order.borrow_mut().push("a"),
                || order.borrow_mut().push("b"),
            );
            assert_eq!((a, b), ((), ()));
            assert_eq!(order.borrow()[0], first, "turn {turn}");
            assert_eq!(order.borrow().len(), 2);
        }
    }

    #[test]
    fn ratios_divide_run_by_run() {
        let stats = ratios(&[2.0, 9.0, 4.0], &[1.0, 3.0, 4.0]);
        assert_eq!((stats.min, stats.median, stats.max), (1.0, 2.0, 3.0));
    }

    /// Renders `measured` under a title, as a question's `Display` does.
    struct Section(Measured<&'static str>);

    impl fmt::Display for Section {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.render(f, "## 3. Title")
        }
    }

    #[test]
    fn a_skipped_question_says_why_under_its_title() {
        let skipped = Section(Measured::Skipped("python3 is missing".into())).to_string();
        assert_eq!(skipped, "## 3. Title\n\nSkipped: python3 is missing.\n\n");
        let measured = Section(Measured::Figures("| table |\n")).to_string();
        assert_eq!(measured, "## 3. Title\n\n| table |\n");
    }
}
