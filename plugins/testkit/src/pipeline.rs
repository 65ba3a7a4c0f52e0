//! A plugin's processors run the way a service runs them: the host's own chain
//! (`spanplug-loader`'s `Stages`), with an in-memory exporter listed last.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use spanplug_api::Processor;
use spanplug_loader::span::ResourceRecord;
use spanplug_loader::Stages;

use crate::exported::{ExportedSpan, InMemoryExporter};
use crate::host_log;
use crate::span::TestSpan;

/// How long [`Pipeline::force_flush`] and [`Pipeline::shutdown`] give the processors.
const DEADLINE: Duration = Duration::from_secs(5);

/// The processors a factory returned, in list order, followed by an in-memory exporter.
#[derive(Debug)]
pub struct Pipeline {
    stages: Stages,
    exported: Arc<Mutex<Vec<ExportedSpan>>>,
    resource: Arc<ResourceRecord>,
    import_path: String,
    log_mark: usize,
}

impl Pipeline {
    pub(crate) fn new(
        mut stages: Stages,
        import_path: &str,
        resource: Arc<ResourceRecord>,
        log_mark: usize,
    ) -> Self {
        let exported = Arc::new(Mutex::new(Vec::new()));
        let memory = Processor::new(InMemoryExporter(Arc::clone(&exported)));
        stages.append("spanplug-plugin-test:in_memory", vec![memory]);
        Pipeline {
            stages,
            exported,
            resource,
            import_path: import_path.to_string(),
            log_mark,
        }
    }

    /// The names of the plugin's processors, in order (the in-memory exporter left out).
    pub fn processor_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.stages.names().map(str::to_string).collect();
        names.pop();
        names
    }

    /// Runs every `on_start` over `span` with the request context `request` and sets
    /// on `span` the attributes they set, as the host does on the SDK's span.
    pub fn start(&self, span: &mut TestSpan, request: &[(&str, &str)]) {
        let added = self.stages.on_start_record(
            &span.record,
            request.iter().map(|(key, value)| (*key, *value)),
        );
        for attribute in added {
            span.set(attribute);
        }
    }

    /// Ends `span`: the transform chain, then every processor's `on_end`, in list
    /// order; [`Pipeline::exported`] then holds it as an exporter after them saw it.
    pub fn end(&self, span: &TestSpan) {
        let mut record = span.record.clone();
        record.resource = Arc::clone(&self.resource);
        self.stages.on_end_span(&mut record);
    }

    /// Every span an exporter listed after the plugin's processors received so far.
    pub fn exported(&self) -> Vec<ExportedSpan> {
        self.exported
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// `force_flush` of every processor (5 s in all); the error names each that failed.
    pub fn force_flush(&self) -> Result<(), String> {
        self.stages.force_flush(DEADLINE)
    }

    /// `shutdown` of every processor (5 s in all); the error names each that failed.
    pub fn shutdown(&self) -> Result<(), String> {
        self.stages.shutdown(DEADLINE)
    }

    /// The host log lines about this plugin since the pipeline was made: its own
    /// messages (`INFO [module:function] ...`) and the host's about it (failures,
    /// panics caught). Tests running in parallel with one import path share them:
    /// give a test that asserts on the log an import path of its own.
    pub fn logs(&self) -> Vec<String> {
        host_log::since(self.log_mark, &self.import_path)
    }
}
