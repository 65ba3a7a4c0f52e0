//! Every processor of every `exporter_import_path` entry, run in list order over
//! `spanplug-api` views: what a front end (the `opentelemetry_sdk` adapter, a Python
//! bridge) calls for each span, and for flush and shutdown.

use std::cell::Cell;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use spanplug_api::settings::deadline_after;
use spanplug_api::{Processor, RequestContextView, SpanView, StartingSpan};

use crate::chain::{deliver, unrepresentable_values, Stage};
use crate::component::{component_names, Component};
use crate::entry::{OnError, ProcessorEntry};
use crate::error::LoadError;
use crate::factory::{load_import_path, FactoryInput, Pins};
use crate::library::PluginSearchPath;

/// A plugin function whose processors were loaded into [`Stages`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InstalledPlugin {
    /// The entry's `module:function`, as resolved.
    pub import_path: String,
    /// The library file it came from.
    pub library: PathBuf,
    /// The spanplug-api version the plugin was built against.
    pub api_version: String,
    /// The names of the processors its factory returned.
    pub processors: Vec<String>,
    /// Each processor's `otel.component.name` (since 0.3.1's self metrics), in order.
    pub component_names: Vec<String>,
}

thread_local! {
    static ON_END_CALLS: Cell<u64> = const { Cell::new(0) };
}

/// One `on_end` call in this many is timed (timing every call would cost more than
/// the plugin boundary itself).
const SLOW_SAMPLE_EVERY: u64 = 32;

/// The loaded processors, in list order.
#[derive(Debug, Default)]
pub struct Stages {
    stages: Arc<Vec<Stage>>,
    plugins: Vec<InstalledPlugin>,
    any_on_start: bool,
    any_transformer: bool,
}

/// What [`Stages::load`] loads and how.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoadPlan<'a> {
    /// The entries, in order.
    pub entries: &'a [ProcessorEntry],
    /// Where modules are looked for.
    pub search: &'a PluginSearchPath,
    /// The SHA-256 pins libraries are checked against.
    pub pins: Pins<'a>,
    /// What every factory is told.
    pub input: &'a FactoryInput<'a>,
    /// Whether an entry that fails fails the load, or is logged and skipped.
    pub on_error: OnError,
    /// How long processors already started get to shut down after a failed load.
    pub shutdown_timeout: Duration,
}

impl<'a> LoadPlan<'a> {
    /// A plan that fails on the first entry that fails.
    pub fn new(
        entries: &'a [ProcessorEntry],
        search: &'a PluginSearchPath,
        pins: Pins<'a>,
        input: &'a FactoryInput<'a>,
    ) -> Self {
        LoadPlan {
            entries,
            search,
            pins,
            input,
            on_error: OnError::Fail,
            shutdown_timeout: Duration::from_secs(5),
        }
    }

    /// What an entry that cannot be loaded does.
    pub fn with_on_error(mut self, on_error: OnError) -> Self {
        self.on_error = on_error;
        self
    }

    /// How long started processors get to shut down after a failed load.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }
}

impl Stages {
    /// Loads every entry and calls its factory. On failure, with `on_error: fail` the
    /// processors already started are shut down again and the error returned; with
    /// `warn` the error is logged once and the entry skipped.
    pub fn load(plan: &LoadPlan<'_>) -> Result<Stages, LoadError> {
        let mut stages: Vec<Stage> = Vec::new();
        let mut plugins = Vec::new();
        let mut skipped = 0;
        for entry in plan.entries {
            let loaded = match load_import_path(entry, plan.search, plan.pins, plan.input) {
                Ok(loaded) => loaded,
                Err(error) if plan.on_error == OnError::Warn => {
                    skipped += 1;
                    log::error!(
                        "exporter {} skipped (on_error: warn): {error}",
                        entry.import_path
                    );
                    continue;
                }
                Err(error) => {
                    for stage in &stages {
                        if let Err(e) = stage.processor.shutdown(plan.shutdown_timeout) {
                            log::warn!("shutting down {} after a failed load: {e}", stage.name);
                        }
                    }
                    return Err(error);
                }
            };
            plugins.push(InstalledPlugin {
                import_path: loaded.import_path.clone(),
                library: loaded.library,
                api_version: loaded.api_version,
                processors: loaded.processors.iter().map(Processor::name).collect(),
                component_names: Vec::new(),
            });
            stages.extend(
                loaded
                    .processors
                    .into_iter()
                    .map(|p| Stage::new(loaded.import_path.clone(), p, String::new())),
            );
        }
        if skipped > 0 && skipped == plan.entries.len() {
            log::error!(
                "none of the {skipped} exporter import paths could be loaded; the service runs with no span processors (on_error: warn)"
            );
        }
        let mut loaded = Stages {
            plugins,
            ..Stages::default()
        };
        loaded.append_stages(stages);
        Ok(loaded)
    }

    /// Appends processors a factory returned without a library (a plugin's own tests
    /// run its factory natively: `spanplug-plugin-test`), after those already here.
    pub fn append(&mut self, import_path: &str, processors: Vec<Processor>) {
        self.append_stages(
            processors
                .into_iter()
                .map(|p| Stage::new(import_path.to_string(), p, String::new()))
                .collect(),
        );
    }

    fn append_stages(&mut self, stages: Vec<Stage>) {
        // Self metrics share the chain only once it runs, after every append.
        let Some(all) = Arc::get_mut(&mut self.stages) else {
            log::error!("processors appended to a running chain were not added");
            return;
        };
        all.extend(stages);
        name_components(all, &mut self.plugins);
        self.any_on_start = self.stages.iter().any(|s| s.needs_on_start);
        self.any_transformer = self.stages.iter().any(|s| s.transforms);
    }

    /// Every processor as an SDK component, in order (for self metrics).
    pub fn components(&self) -> Vec<Component> {
        Component::all(&self.stages)
    }

    /// What was installed, in order.
    pub fn plugins(&self) -> &[InstalledPlugin] {
        &self.plugins
    }

    /// The names of the processors, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().map(|s| s.name.as_str())
    }

    /// Whether any processor wants `on_start` (if none, a front end need not build a
    /// starting span's view at all).
    pub fn any_on_start(&self) -> bool {
        self.any_on_start
    }

    /// `on_start` of every processor that asked for it, in order; failures are
    /// counted and logged, never passed on.
    pub fn on_start(&self, span: &mut StartingSpan<'_>, request: &RequestContextView<'_>) {
        for stage in self.stages.iter().filter(|s| s.needs_on_start) {
            if let Err(error) = stage.processor.on_start(span, request) {
                stage.record_failure("on_start", &error);
            }
        }
    }

    /// The transform chain, then `on_end` of every processor, for one ended span.
    /// One call in 32 per thread is timed, and slow processors reported.
    pub fn on_end(&self, span: &SpanView<'_>) {
        // A thread-local count, not a shared atomic: sampling must cost next to nothing.
        let timed = ON_END_CALLS.with(|calls| {
            let n = calls.get().wrapping_add(1);
            calls.set(n);
            n % SLOW_SAMPLE_EVERY == 0
        });
        deliver(&self.stages, self.any_transformer, span, timed);
    }

    /// `force_flush` of every processor, all within `timeout`; the error names each
    /// processor that failed.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), String> {
        self.for_each_until(deadline_after(timeout), Processor::force_flush)
    }

    /// `shutdown` of every processor, all within `timeout`, then the process-wide
    /// reports (values the interface could not carry, failures per processor).
    pub fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        let result = self.for_each_until(deadline_after(timeout), Processor::shutdown);
        let unrepresentable = unrepresentable_values();
        if unrepresentable > 0 {
            log::warn!(
                "{unrepresentable} attribute values so far were of kinds spanplug-api {} cannot carry (passed as UNSUPPORTED or ignored)",
                spanplug_api::API_VERSION
            );
        }
        for stage in self.stages.iter() {
            let failures = stage.failures.load(Ordering::Relaxed);
            if failures > 0 {
                log::warn!(
                    "span processor {} ({}) failed {failures} times",
                    stage.name,
                    stage.import_path
                );
            }
        }
        result
    }

    /// Calls `call` on every stage with the time left before `deadline`.
    fn for_each_until(
        &self,
        deadline: Instant,
        call: impl Fn(&Processor, Duration) -> Result<(), String>,
    ) -> Result<(), String> {
        let errors: Vec<String> = self
            .stages
            .iter()
            .filter_map(|stage| {
                let left = deadline.saturating_duration_since(Instant::now());
                call(&stage.processor, left)
                    .err()
                    .map(|e| format!("{} ({}): {e}", stage.name, stage.import_path))
            })
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}

/// Gives every stage its `otel.component.name` and lists them per plugin.
fn name_components(stages: &mut [Stage], plugins: &mut [InstalledPlugin]) {
    let names = component_names(stages.iter().map(|s| s.import_path.as_str()));
    for (stage, name) in stages.iter_mut().zip(names) {
        stage.component_name = name;
    }
    // Each plugin's processors are the next ones of the chain, in order.
    let mut names = stages.iter().map(|s| s.component_name.clone());
    for plugin in plugins.iter_mut() {
        plugin.component_names = names.by_ref().take(plugin.processors.len()).collect();
    }
}
