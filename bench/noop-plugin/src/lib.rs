//! `bench_noop:noop`: a processor whose `on_end` does nothing; what it costs is the
//! plugin boundary.

use spanplug_api::{export_plugin, PluginContext, Processor, SpanProcessor, SpanView};

export_plugin! {
    noop: "Does nothing with each ended span (measures the boundary)",
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
