//! Each loaded processor as an OpenTelemetry SDK component (since spanplug-api
//! 0.3.1): its `otel.component.type` and `otel.component.name`, what it reports about
//! itself, and, for a plugin that reports nothing (built against 0.3.0), what the host
//! sees of it: spans handed over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use abi_stable::std_types::RStr;
use spanplug_api::metrics::MetricsSink;
use spanplug_api::{DurationRecorder, MetricsReport, Processor};

use crate::chain::Stage;
use crate::counters::Counters;

/// What the host counts of a processor that reports nothing itself; counted only once
/// [`Component::count_handed_over`] turned it on (self metrics on).
#[derive(Debug, Default)]
pub(crate) struct HandOver {
    on: AtomicBool,
    /// Slot 0: `on_end` returned; slot 1: it panicked.
    counts: Counters,
}

impl HandOver {
    /// One `on_end` call's outcome: a relaxed load and, when on, one add into this
    /// thread's shard.
    #[inline]
    pub(crate) fn count(&self, ok: bool) {
        if self.on.load(Ordering::Relaxed) {
            self.counts.add(usize::from(!ok));
        }
    }
}

/// The `error.type` of spans whose `on_end` panicked inside the plugin (counted by the
/// host for plugins that report nothing themselves).
pub const PLUGIN_PANIC: &str = "plugin_panic";

/// One processor of the loaded chain, seen as an SDK component.
#[derive(Clone, Debug)]
pub struct Component {
    stages: Arc<Vec<Stage>>,
    index: usize,
}

/// What a processor says of its own type, through the sink.
#[derive(Default)]
struct Types {
    processor: String,
    exporter: String,
}

impl MetricsSink for Types {
    fn component_types(&mut self, processor: RStr<'_>, exporter: RStr<'_>) {
        self.processor = processor.as_str().to_string();
        self.exporter = exporter.as_str().to_string();
    }
    fn processed(&mut self, _: RStr<'_>, _: u64) {}
    fn queue(&mut self, _: u64, _: u64) {}
    fn inflight(&mut self, _: u64) {}
    fn exported(&mut self, _: RStr<'_>, _: u64) {}
    fn server(&mut self, _: RStr<'_>, _: u16) {}
}

impl Component {
    pub(crate) fn all(stages: &Arc<Vec<Stage>>) -> Vec<Component> {
        (0..stages.len())
            .map(|index| Component {
                stages: Arc::clone(stages),
                index,
            })
            .collect()
    }

    fn stage(&self) -> &Stage {
        &self.stages[self.index]
    }

    /// `otel.component.name`: the entry's `module:function`, `/` and the processor's
    /// index among those of the same entry text (`otlp_http:honeycomb/0`), unique per
    /// instance in this process's chain.
    pub fn component_name(&self) -> &str {
        &self.stage().component_name
    }

    /// The processor's own name for logs.
    pub fn processor_name(&self) -> &str {
        &self.stage().name
    }

    /// The `otel.component.type`s the plugin reports for its processor half and its
    /// exporter half (e.g. `batching_span_processor`, `otlp_http_span_exporter`). A
    /// plugin that reports nothing is one component named after its module
    /// (`console_file`), with no exporter half.
    pub fn types(&self) -> (String, String) {
        let stage = self.stage();
        component_types(&stage.processor, &stage.import_path)
    }

    /// Asks the plugin for its figures; `false` if it reports none.
    pub fn report(&self, report: MetricsReport<'_>) -> bool {
        self.stage().processor.report_metrics(report)
    }

    /// Turns on the host's count of spans handed over, for a plugin that reports
    /// nothing itself; returns whether it did.
    pub fn count_handed_over(&self) -> bool {
        let reports = self.report(MetricsReport::new(&mut Types::default()));
        if !reports {
            self.stage().hand_over.on.store(true, Ordering::Relaxed);
        }
        !reports
    }

    /// Spans handed over so far: `on_end` returned, and `on_end` panicked; `None`
    /// unless [`Component::count_handed_over`] turned the count on.
    pub fn handed_over(&self) -> Option<(u64, u64)> {
        let counts = &self.stage().hand_over;
        counts
            .on
            .load(Ordering::Relaxed)
            .then(|| (counts.counts.sum(0), counts.counts.sum(1)))
    }

    /// Gives the plugin the export-duration recorder; `false` for one built before 0.3.1.
    pub fn attach_duration_recorder(&self, recorder: DurationRecorder) -> bool {
        self.stage().processor.attach_duration_recorder(recorder)
    }
}

/// The `otel.component.type`s of `processor`, loaded from `import_path`: what it
/// reports for its processor half and exporter half, or its module's name and none.
pub fn component_types(processor: &Processor, import_path: &str) -> (String, String) {
    let mut types = Types::default();
    if processor.report_metrics(MetricsReport::new(&mut types)) && !types.processor.is_empty() {
        (types.processor, types.exporter)
    } else {
        let short = short_import_path(import_path);
        let module = short.split(':').next().unwrap_or_default();
        (module.to_string(), String::new())
    }
}

/// `otel.component.name` for each of `import_paths` (one per processor, in order).
pub fn component_names<'a>(import_paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen: Vec<&str> = Vec::new();
    import_paths
        .map(|path| {
            let index = seen.iter().filter(|p| **p == path).count();
            seen.push(path);
            format!("{}/{index}", short_import_path(path))
        })
        .collect()
}

/// `module:function`, with a library path (`/opt/libfoo.so:make`) shortened to its
/// module name (`foo:make`).
pub(crate) fn short_import_path(path: &str) -> String {
    let (module, function) = path.rsplit_once(':').unwrap_or((path, ""));
    let file = module.rsplit('/').next().unwrap_or(module);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = if module.contains('/') {
        stem.strip_prefix("lib").unwrap_or(stem)
    } else {
        stem
    };
    format!("{stem}:{function}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_count_each_entry_text_separately_and_shorten_library_paths() {
        let names = component_names(
            [
                "otlp_http:honeycomb",
                "/opt/plugins/libredact.so:mask",
                "otlp_http:honeycomb",
                "otlp_http:otlp",
            ]
            .into_iter(),
        );
        assert_eq!(
            names,
            [
                "otlp_http:honeycomb/0",
                "redact:mask/0",
                "otlp_http:honeycomb/1",
                "otlp_http:otlp/0"
            ]
        );
    }
}
