//! `spanplug._native`: the Rust half of the `spanplug` Python package.
//!
//! A [`Pipeline`] runs the loader's [`Stages`] as a Rust service does: the same search
//! path, trust and checksum checks, factories, transform chain and `on_error`
//! policy, loaded from the same config. The Python half (`spanplug/__init__.py`)
//! wraps it in an `opentelemetry.sdk.trace.SpanProcessor` subclass, because Ray and
//! the SDK check `isinstance`.
//!
//! Plugins never see Python: each span is copied once, on the calling thread with
//! the GIL held, from the SDK's private fields into the loader's [`SpanRecord`]
//! (`record.rs`), and the loader runs the processors over a view of that. Waiting
//! for a flush or a shutdown releases the GIL.
//!
//! [`SpanRecord`]: spanplug_loader::span::SpanRecord

mod config;
mod record;
mod resource;
mod values;

use std::path::PathBuf;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use spanplug_config::TracingConfig;
use spanplug_loader::span::ResourceRecord;
use spanplug_loader::Stages;
use spanplug_self_metrics::SelfMetrics;

use crate::config::read_config;
use crate::record::span_record;
use crate::resource::{factory_resource, SpanResource};
use crate::values::python_value;

pyo3::create_exception!(
    spanplug,
    SpanplugError,
    PyException,
    "A tracing config or plugin that cannot be used; the message says what was searched or expected and what to do."
);

fn error(message: impl std::fmt::Display) -> PyErr {
    SpanplugError::new_err(message.to_string())
}

/// The loaded plugins of one `spanplug.processors()` call.
#[pyclass(frozen, module = "spanplug._native")]
struct Pipeline {
    /// The running stages. Replaced after `fork()` and never freed: a child's copy
    /// owns threads that do not exist there, so it must never be dropped (and plugin
    /// libraries are never unloaded anyway).
    current: AtomicPtr<Stages>,
    config: TracingConfig,
    /// What factories are told (and told again after `fork()`).
    resource: Arc<ResourceRecord>,
    /// spanplug's own `otel.sdk.*` metrics when `self_metrics` asks for them: the same
    /// pipeline (crate spanplug-self-metrics) a Rust service runs. Started again in a
    /// child after `fork()`, whose copy has no reader thread.
    self_metrics: Mutex<Option<SelfMetrics>>,
}

impl Pipeline {
    fn stages(&self) -> &Stages {
        // SAFETY: the pointer always comes from `Box::leak` in `load`, and is never
        // freed, so it stays valid for as long as `self`.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }
}

/// Loads stages that are never freed (see [`Pipeline::current`]).
fn load(config: &TracingConfig, resource: &Arc<ResourceRecord>) -> PyResult<&'static mut Stages> {
    let stages = config.load_stages(resource).map_err(error)?;
    Ok(Box::leak(Box::new(stages)))
}

/// Starts self metrics over `stages` when the config asks for them.
fn watch(
    config: &TracingConfig,
    resource: &ResourceRecord,
    stages: &Stages,
) -> PyResult<Option<SelfMetrics>> {
    let metrics =
        SelfMetrics::start_for_resource(config.self_metrics.as_ref(), resource).map_err(error)?;
    if let Some(metrics) = &metrics {
        metrics.watch(stages.components());
    }
    Ok(metrics)
}

#[pymethods]
impl Pipeline {
    /// Loads the plugins, their factories given the SDK `resource` (each span then
    /// carries its own provider's, see `on_end`): `builtin_dir` (the package's own plugins) is searched after
    /// `SPANPLUG_PLUGIN_PATH` and `plugin_path`; `exporter_defaults` fill
    /// `exporter_config` keys the config leaves unset. Returns None when tracing is disabled
    /// (`enabled: false`, `OTEL_SDK_DISABLED=true`) or nothing is configured.
    #[staticmethod]
    #[pyo3(signature = (import_paths, config_yaml, config_file, builtin_dir, resource, exporter_defaults))]
    fn load(
        py: Python<'_>,
        import_paths: Option<Vec<String>>,
        config_yaml: Option<String>,
        config_file: Option<PathBuf>,
        builtin_dir: PathBuf,
        resource: &Bound<'_, PyAny>,
        exporter_defaults: Vec<(String, String)>,
    ) -> PyResult<Option<Pipeline>> {
        spanplug_loader::stderr_log::init();
        let mut config = read_config(import_paths, config_yaml.as_deref(), config_file)?;
        if !config.provider_settings.is_empty() {
            log::warn!(
                "{}: set by the configuration file but not applied here: spanplug.processors() returns span processors, and these belong to the TracerProvider (its own sampler, limits, propagators and resource apply; build the provider from the same file with the OpenTelemetry SDK's OTEL_CONFIG_FILE support, or in code)",
                config.provider_settings.join(", ")
            );
        }
        if !config.enabled || config.entries().is_empty() {
            return Ok(None);
        }
        config.plugin_path.push(builtin_dir);
        // What the front end knows of its surroundings (Ray's logs folder), unless set.
        for (key, value) in exporter_defaults {
            config.exporter_config.insert_if_absent(key, value);
        }
        let resource = Arc::new(factory_resource(resource, config.service_name.as_deref())?);
        // Factories may wait (their timeout); other Python threads go on meanwhile.
        let current = py.detach(|| load(&config, &resource))?;
        let self_metrics = watch(&config, &resource, current)?;
        Ok(Some(Pipeline {
            current: AtomicPtr::new(current),
            config,
            resource,
            self_metrics: Mutex::new(self_metrics),
        }))
    }

    /// Whether any plugin wants `on_start` (else the Python side skips the call).
    #[getter]
    fn needs_on_start(&self) -> bool {
        self.stages().any_on_start()
    }

    /// `module:function -> processor name` for every processor, in order.
    #[getter]
    fn processors(&self) -> Vec<String> {
        self.stages()
            .plugins()
            .iter()
            .flat_map(|plugin| {
                plugin
                    .processors
                    .iter()
                    .map(|p| format!("{} -> {p}", plugin.import_path))
            })
            .collect()
    }

    /// Runs the plugins' `on_start` over a starting SDK span with the request
    /// context `request`; returns the attributes they set, for the caller to set.
    fn on_start<'py>(
        &self,
        span: &Bound<'py, PyAny>,
        request: Vec<(String, String)>,
    ) -> PyResult<Vec<(String, Bound<'py, PyAny>)>> {
        let record = span_record(span, false, &self.resource)?;
        let request = request.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        let added = self.stages().on_start_record(&record, request);
        let py = span.py();
        added
            .into_iter()
            .map(|kv| Ok((kv.key.to_string(), python_value(py, &kv.value)?)))
            .collect()
    }

    /// Runs the pipeline over an ended SDK span whose resource is `resource`.
    fn on_end(&self, span: &Bound<'_, PyAny>, resource: &SpanResource) -> PyResult<()> {
        let mut record = span_record(span, true, &resource.0)?;
        self.stages().on_end_span(&mut record);
        Ok(())
    }

    /// Flushes every plugin within `timeout_millis`, without the GIL. Returns the
    /// failures in the pipeline's words, or None.
    fn force_flush(&self, py: Python<'_>, timeout_millis: u64) -> Option<String> {
        let stages = self.stages();
        py.detach(|| stages.force_flush(Duration::from_millis(timeout_millis)))
            .err()
    }

    /// Flushes and stops every plugin within `timeout_millis`, without the GIL; then
    /// sends the last self metrics, which carry the plugins' final figures.
    fn shutdown(&self, py: Python<'_>, timeout_millis: u64) -> Option<String> {
        let stages = self.stages();
        py.detach(|| {
            let result = stages.shutdown(Duration::from_millis(timeout_millis));
            if let Some(metrics) = spanplug_api::sync::lock(&self.self_metrics).take() {
                if let Err(failure) = metrics.shutdown() {
                    log::warn!("self metrics: the last export failed: {failure}");
                }
            }
            result
        })
        .err()
    }

    /// In a child after `fork()`: the parent's plugin threads are gone, so the
    /// plugins are loaded again (each factory runs anew: its own files, its own
    /// queue). The parent's copy is abandoned, not dropped.
    fn after_fork_in_child(&self, py: Python<'_>) -> PyResult<()> {
        let current = py.detach(|| load(&self.config, &self.resource))?;
        let metrics = watch(&self.config, &self.resource, current)?;
        // The parent's pipeline is forgotten, not shut down: its thread is not here.
        std::mem::forget(spanplug_api::sync::lock(&self.self_metrics).take());
        *spanplug_api::sync::lock(&self.self_metrics) = metrics;
        self.current.store(current, Ordering::Release);
        Ok(())
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Pipeline>()?;
    module.add_class::<SpanResource>()?;
    module.add("SpanplugError", module.py().get_type::<SpanplugError>())?;
    module.add("API_VERSION", spanplug_api::API_VERSION)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
