//! `bench_noop:noop`: a processor whose `on_end` does nothing; what it costs is the
//! plugin boundary. `bench_noop:reporting` is the same, reporting (empty) self metrics
//! itself, as the shipped exporters do, so the host counts no hand-over for it.

use spanplug_api::{
    export_plugin, MetricsReport, PluginContext, Processor, SpanProcessor, SpanView,
};

export_plugin! {
    noop: "Does nothing with each ended span (measures the boundary)",
    reporting: "Does nothing, and reports its own (empty) self metrics",
}

/// Also compiled natively by the benchmark, as the in-host twin.
#[derive(Debug)]
pub struct Noop;

impl SpanProcessor for Noop {
    fn name(&self) -> String {
        "noop".into()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        std::hint::black_box(span);
    }
}

fn noop(_ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    Ok(vec![Processor::new(Noop)])
}

/// [`Noop`] that reports its own figures (none), as an exporter does.
#[derive(Debug)]
struct Reporting;

impl SpanProcessor for Reporting {
    fn name(&self) -> String {
        "noop(reporting)".into()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, span: &SpanView<'_>) {
        std::hint::black_box(span);
    }

    fn report_metrics(&self, report: &mut MetricsReport<'_>) -> bool {
        report.component_types("bench_noop", "");
        true
    }
}

fn reporting(_ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    Ok(vec![Processor::new(Reporting)])
}
