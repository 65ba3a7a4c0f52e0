//! `spanplug._native`: the Rust half of the `spanplug` Python package.
//!
//! A [`Pipeline`] is the same [`PluginPipeline`] a Rust service runs: the same search
//! path, trust and checksum checks, factories, transform chain and `on_error`
//! policy, loaded from the same config. The Python half (`spanplug/__init__.py`)
//! wraps it in an `opentelemetry.sdk.trace.SpanProcessor` subclass, because Ray and
//! the SDK check `isinstance`.
//!
//! Plugins never see Python: each span is copied once, on the calling thread with
//! the GIL held, from the SDK's private fields (cheaper than its public properties)
//! into an owned `SpanData`, and the pipeline runs over a view of that. Waiting for
//! a flush or a shutdown releases the GIL.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{
    Event, Link, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Array, InstrumentationScope, KeyValue, StringValue, Value};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks, SpanProcessor as _};
use opentelemetry_sdk::Resource;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyIterator, PyList, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};
use spanplug_config::TracingConfig;
use spanplug_sdk::pipeline::interned;
use spanplug_sdk::span_view::{count_unrepresentable, resource_in_order, OrderedResource};
use spanplug_sdk::{PluginPipeline, RequestContext};

pyo3::create_exception!(
    spanplug,
    SpanplugError,
    PyException,
    "A tracing config or plugin that cannot be used; the message says what was searched or expected and what to do."
);

fn error(message: impl std::fmt::Display) -> PyErr {
    SpanplugError::new_err(message.to_string())
}

/// The variable naming a service YAML whose `tracing_config` section to read.
const CONFIG_FILE_VAR: &str = "SPANPLUG_CONFIG";

/// The config a front end asked for, read as every spanplug host reads it: the
/// YAML (given as text or a file, else the file `SPANPLUG_CONFIG` names), then the
/// environment overrides, then the import paths given in code.
fn read_config(
    import_paths: Option<Vec<String>>,
    config_yaml: Option<&str>,
    config_file: Option<PathBuf>,
) -> Result<TracingConfig, PyErr> {
    let config_file = config_file.or_else(|| std::env::var_os(CONFIG_FILE_VAR).map(PathBuf::from));
    let config = match (config_yaml, config_file) {
        (Some(text), _) => TracingConfig::from_yaml_str(text),
        (None, Some(path)) => TracingConfig::from_yaml_file(path),
        (None, None) => Ok(TracingConfig::default()),
    };
    let mut config = config
        .and_then(TracingConfig::with_env_overrides)
        .map_err(error)?;
    if let Some(paths) = import_paths {
        config.exporter_import_path.clear();
        for path in paths {
            config = config.with_exporter_import_path(path);
        }
    }
    Ok(config)
}

/// The attributes of a Python `Resource` (its `attributes` mapping, in its order).
fn resource_attributes(attributes: &Bound<'_, PyAny>) -> PyResult<Vec<KeyValue>> {
    let mut out = Vec::new();
    for item in attributes
        .call_method0(intern!(attributes.py(), "items"))?
        .try_iter()?
    {
        let (key, value): (String, Bound<'_, PyAny>) = item?.extract()?;
        if let Some(value) = otel_value(&value)? {
            out.push(KeyValue::new(key, value));
        }
    }
    Ok(out)
}

/// A Python resource converted once, for the spans that carry it.
#[pyclass(frozen, module = "spanplug._native")]
struct SpanResource(Arc<OrderedResource>);

#[pymethods]
impl SpanResource {
    #[new]
    fn new(attributes: &Bound<'_, PyAny>, schema_url: Option<String>) -> PyResult<Self> {
        let attributes = resource_attributes(attributes)?;
        Ok(SpanResource(Arc::new(resource_in_order(
            attributes,
            schema_url.as_deref().unwrap_or(""),
        ))))
    }
}

/// The loaded plugins of one `spanplug.processors()` call.
#[pyclass(frozen, module = "spanplug._native")]
struct Pipeline {
    /// The running pipeline. Replaced after `fork()` and never freed: a child's
    /// copy owns threads that do not exist there, so it must never be dropped (and
    /// plugin libraries are never unloaded anyway).
    current: AtomicPtr<PluginPipeline>,
    config: TracingConfig,
    resource: Resource,
}

impl Pipeline {
    fn pipeline(&self) -> &PluginPipeline {
        // SAFETY: the pointer always comes from `Box::leak`, and is never freed.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }
}

/// Loads a pipeline that is never freed (see [`Pipeline::current`]).
fn load(config: &TracingConfig, resource: &Resource) -> PyResult<&'static mut PluginPipeline> {
    let pipeline = PluginPipeline::load(config, resource).map_err(error)?;
    Ok(Box::leak(Box::new(pipeline)))
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
        spanplug_sdk::stderr_log::init();
        let mut config = read_config(import_paths, config_yaml.as_deref(), config_file)?;
        if !config.enabled || config.entries().is_empty() {
            return Ok(None);
        }
        config.plugin_path.push(builtin_dir);
        // What the front end knows of its surroundings (Ray's logs folder), unless set.
        for (key, value) in exporter_defaults {
            config.exporter_config.insert_if_absent(key, value);
        }
        let schema_url: Option<String> = resource.getattr(intern!(py, "schema_url"))?.extract()?;
        let mut attributes = resource_attributes(&resource.getattr(intern!(py, "attributes"))?)?;
        // A `service_name` in the config wins over the SDK's, as in a Rust host.
        if let Some(name) = &config.service_name {
            attributes.retain(|kv| kv.key.as_str() != "service.name");
            attributes.push(KeyValue::new("service.name", name.clone()));
        }
        let mut builder = Resource::builder_empty().with_attributes(attributes);
        if let Some(url) = schema_url.filter(|url| !url.is_empty()) {
            builder = builder.with_schema_url(Vec::<KeyValue>::new(), url);
        }
        let resource = builder.build();
        // Factories may wait (their timeout); other Python threads go on meanwhile.
        let current = py.detach(|| load(&config, &resource))?;
        Ok(Some(Pipeline {
            current: AtomicPtr::new(current),
            config,
            resource,
        }))
    }

    /// Whether any plugin wants `on_start` (else the Python side skips the call).
    #[getter]
    fn needs_on_start(&self) -> bool {
        self.pipeline().needs_on_start()
    }

    /// `module:function -> processor name` for every processor, in order.
    #[getter]
    fn processors(&self) -> Vec<String> {
        self.pipeline()
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
        let data = span_data(span, false)?;
        let request = request
            .into_iter()
            .fold(RequestContext::new(), |context, (key, value)| {
                context.with(key, value)
            });
        let added = self.pipeline().on_start_attributes(&data, &request);
        let py = span.py();
        added
            .into_iter()
            .map(|kv| Ok((kv.key.as_str().to_string(), python_value(py, &kv.value)?)))
            .collect()
    }

    /// Runs the pipeline over an ended SDK span whose resource is `resource`.
    fn on_end(&self, span: &Bound<'_, PyAny>, resource: &SpanResource) -> PyResult<()> {
        let data = span_data(span, true)?;
        self.pipeline().on_end_with_resource(data, &resource.0);
        Ok(())
    }

    /// Flushes every plugin within `timeout_millis`, without the GIL. Returns the
    /// failures in the pipeline's words, or None.
    fn force_flush(&self, py: Python<'_>, timeout_millis: u64) -> Option<String> {
        let pipeline = self.pipeline();
        py.detach(|| pipeline.force_flush_within(Duration::from_millis(timeout_millis)))
            .err()
    }

    /// Flushes and stops every plugin within `timeout_millis`, without the GIL.
    fn shutdown(&self, py: Python<'_>, timeout_millis: u64) -> Option<String> {
        let pipeline = self.pipeline();
        py.detach(|| pipeline.shutdown_with_timeout(Duration::from_millis(timeout_millis)))
            .err()
            .map(|e| e.to_string())
    }

    /// In a child after `fork()`: the parent's plugin threads are gone, so the
    /// plugins are loaded again (each factory runs anew: its own files, its own
    /// queue). The parent's copy is abandoned, not dropped.
    fn after_fork_in_child(&self, py: Python<'_>) -> PyResult<()> {
        let current = py.detach(|| load(&self.config, &self.resource))?;
        self.current.store(current, Ordering::Release);
        Ok(())
    }
}

fn nanos_to_time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

/// A Python `SpanContext` (a tuple: trace_id, span_id, is_remote, trace_flags,
/// trace_state, is_valid).
fn span_context(context: &Bound<'_, PyAny>) -> PyResult<SpanContext> {
    let context = context.cast::<PyTuple>()?;
    let trace_state = context.get_item(4)?;
    // Through its inner dict: the SDK's `TraceState.__len__` is Python code.
    let entries = match trace_state.getattr_opt(intern!(context.py(), "_dict"))? {
        Some(dict) => dict.len()?,
        None => trace_state.len()?,
    };
    let trace_state = if entries == 0 {
        TraceState::NONE
    } else {
        let header: String = trace_state
            .call_method0(intern!(context.py(), "to_header"))?
            .extract()?;
        header.parse().unwrap_or(TraceState::NONE)
    };
    Ok(SpanContext::new(
        TraceId::from(context.get_item(0)?.extract::<u128>()?),
        SpanId::from(context.get_item(1)?.extract::<u64>()?),
        TraceFlags::new(context.get_item(3)?.extract::<u8>()?),
        context.get_item(2)?.extract()?,
        trace_state,
    ))
}

/// The attributes of a Python mapping (`BoundedAttributes`, a dict, or None) in its
/// order; values the interface cannot carry are counted and left out. The SDK's
/// `BoundedAttributes` is read through its inner dict: its own mapping methods are
/// Python code, several calls per attribute.
fn attributes(mapping: &Bound<'_, PyAny>) -> PyResult<Vec<KeyValue>> {
    if mapping.is_none() {
        return Ok(Vec::new());
    }
    let inner = mapping.getattr_opt(intern!(mapping.py(), "_dict"))?;
    let dict = match inner.as_ref().unwrap_or(mapping).cast::<PyDict>() {
        Ok(dict) => dict.clone(),
        Err(_) => return resource_attributes(mapping),
    };
    let mut out = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        if let Some(value) = otel_value(&value)? {
            let key = key.cast::<PyString>()?.to_cow()?;
            out.push(KeyValue::new(interned(&key), value));
        }
    }
    Ok(out)
}

/// The items of the SDK's `BoundedList` (through its deque: its own iterator is
/// Python code), or of any other sequence.
fn items<'py>(list: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyIterator>> {
    match list.getattr_opt(intern!(list.py(), "_dq"))? {
        Some(deque) => deque.try_iter(),
        None => list.try_iter(),
    }
}

/// The SDK's enum members whose index is the interface's code: `SpanKind` and
/// `StatusCode`, fetched once. Compared by identity, since an enum's `.value` is
/// Python code.
struct Members {
    kinds: Vec<Py<PyAny>>,
    codes: Vec<Py<PyAny>>,
}

static MEMBERS: PyOnceLock<Members> = PyOnceLock::new();

fn members(py: Python<'_>) -> PyResult<&'static Members> {
    MEMBERS.get_or_try_init(py, || {
        let trace = py.import("opentelemetry.trace")?;
        let fetch = |class: &str, names: &[&str]| -> PyResult<Vec<Py<PyAny>>> {
            let class = trace.getattr(class)?;
            names
                .iter()
                .map(|name| Ok(class.getattr(*name)?.unbind()))
                .collect()
        };
        Ok(Members {
            kinds: fetch(
                "SpanKind",
                &["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"],
            )?,
            codes: fetch("StatusCode", &["UNSET", "OK", "ERROR"])?,
        })
    })
}

/// The index of `value` among `members`, by identity; falls back to its `.value`.
fn member_index(members: &[Py<PyAny>], value: &Bound<'_, PyAny>) -> PyResult<usize> {
    match members.iter().position(|m| m.is(value)) {
        Some(index) => Ok(index),
        None => Ok(value
            .getattr(intern!(value.py(), "value"))?
            .extract::<usize>()?),
    }
}

/// How many items a bounded collection dropped (`BoundedAttributes`, `BoundedList`).
fn dropped(collection: &Bound<'_, PyAny>) -> PyResult<u32> {
    match collection.getattr_opt(intern!(collection.py(), "dropped"))? {
        Some(count) => Ok(count.extract::<u32>().unwrap_or(u32::MAX)),
        None => Ok(0),
    }
}

/// An SDK span (`ReadableSpan`) as `SpanData`, read from its private fields; `ended`
/// says whether it has ended (a starting span has no end, events or links yet).
fn span_data(span: &Bound<'_, PyAny>, ended: bool) -> PyResult<SpanData> {
    let py = span.py();
    let context = span_context(&span.getattr(intern!(py, "_context"))?)?;
    let parent = span.getattr(intern!(py, "_parent"))?;
    let (parent_span_id, parent_span_is_remote) = if parent.is_none() {
        (SpanId::INVALID, false)
    } else {
        let parent = parent.cast::<PyTuple>()?;
        (
            SpanId::from(parent.get_item(1)?.extract::<u64>()?),
            parent.get_item(2)?.extract()?,
        )
    };
    let known = members(py)?;
    let span_kind = match member_index(&known.kinds, &span.getattr(intern!(py, "_kind"))?)? {
        1 => SpanKind::Server,
        2 => SpanKind::Client,
        3 => SpanKind::Producer,
        4 => SpanKind::Consumer,
        _ => SpanKind::Internal,
    };
    let start: u64 = span
        .getattr(intern!(py, "_start_time"))?
        .extract()
        .unwrap_or(0);
    let end: u64 = if ended {
        span.getattr(intern!(py, "_end_time"))?
            .extract()
            .unwrap_or(start)
    } else {
        start
    };
    let span_attributes = span.getattr(intern!(py, "_attributes"))?;
    let mut events = SpanEvents::default();
    let mut links = SpanLinks::default();
    let mut status = Status::Unset;
    if ended {
        let python_events = span.getattr(intern!(py, "_events"))?;
        events.dropped_count = dropped(&python_events)?;
        for event in items(&python_events)? {
            let event = event?;
            let event_attributes = event.getattr(intern!(py, "_attributes"))?;
            events.events.push(Event::new(
                event.getattr(intern!(py, "_name"))?.extract::<String>()?,
                nanos_to_time(event.getattr(intern!(py, "_timestamp"))?.extract()?),
                attributes(&event_attributes)?,
                dropped(&event_attributes)?,
            ));
        }
        let python_links = span.getattr(intern!(py, "_links"))?;
        links.dropped_count = dropped(&python_links)?;
        for link in items(&python_links)? {
            let link = link?;
            let link_attributes = link.getattr(intern!(py, "_attributes"))?;
            links.links.push(Link::new(
                span_context(&link.getattr(intern!(py, "_context"))?)?,
                attributes(&link_attributes)?,
                dropped(&link_attributes)?,
            ));
        }
        let python_status = span.getattr(intern!(py, "_status"))?;
        let code = member_index(
            &known.codes,
            &python_status.getattr(intern!(py, "_status_code"))?,
        )?;
        status = match code {
            1 => Status::Ok,
            2 => Status::Error {
                description: python_status
                    .getattr(intern!(py, "_description"))?
                    .extract::<Option<String>>()?
                    .unwrap_or_default()
                    .into(),
            },
            _ => Status::Unset,
        };
    }
    Ok(SpanData {
        span_context: context,
        parent_span_id,
        parent_span_is_remote,
        span_kind,
        name: Cow::Owned(span.getattr(intern!(py, "_name"))?.extract()?),
        start_time: nanos_to_time(start),
        end_time: nanos_to_time(end),
        attributes: attributes(&span_attributes)?,
        dropped_attributes_count: dropped(&span_attributes)?,
        events,
        links,
        status,
        instrumentation_scope: scope(&span.getattr(intern!(py, "_instrumentation_scope"))?)?,
    })
}

/// How many instrumentation scopes a process keeps converted. Their strings are
/// made `'static` so that a span's copy costs no allocation; past this many, scopes
/// are converted span by span instead.
const MAX_CACHED_SCOPES: usize = 256;

static CACHED_SCOPES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Scopes this thread converted, with the Python objects they came from (kept
    /// alive, so an address is never reused for another scope).
    static SCOPES: RefCell<Vec<(Py<PyAny>, InstrumentationScope)>> = const { RefCell::new(Vec::new()) };
}

/// A span's instrumentation scope: a tracer's scope is one object for all its spans.
fn scope(scope: &Bound<'_, PyAny>) -> PyResult<InstrumentationScope> {
    if let Some(found) = SCOPES.with_borrow(|scopes| {
        scopes
            .iter()
            .find(|(object, _)| object.is(scope))
            .map(|(_, converted)| converted.clone())
    }) {
        return Ok(found);
    }
    let cache = CACHED_SCOPES.fetch_add(1, Ordering::Relaxed) < MAX_CACHED_SCOPES;
    let converted = convert_scope(scope, cache)?;
    if cache {
        SCOPES.with_borrow_mut(|scopes| scopes.push((scope.clone().unbind(), converted.clone())));
    }
    Ok(converted)
}

fn convert_scope(scope: &Bound<'_, PyAny>, cache: bool) -> PyResult<InstrumentationScope> {
    if scope.is_none() {
        return Ok(InstrumentationScope::builder("").build());
    }
    let text = |value: String| -> Cow<'static, str> {
        if cache {
            Cow::Borrowed(Box::leak(value.into_boxed_str()))
        } else {
            Cow::Owned(value)
        }
    };
    let py = scope.py();
    let name: String = scope.getattr(intern!(py, "_name"))?.extract()?;
    let mut builder = InstrumentationScope::builder(text(name));
    if let Some(version) = scope
        .getattr(intern!(py, "_version"))?
        .extract::<Option<String>>()?
    {
        builder = builder.with_version(text(version));
    }
    if let Some(url) = scope
        .getattr(intern!(py, "_schema_url"))?
        .extract::<Option<String>>()?
    {
        if !url.is_empty() {
            builder = builder.with_schema_url(text(url));
        }
    }
    if let Some(scope_attributes) = scope.getattr_opt(intern!(py, "_attributes"))? {
        builder = builder.with_attributes(attributes(&scope_attributes)?);
    }
    Ok(builder.build())
}

/// A Python attribute value as the SDK's exporters take it: bool, int (64-bit),
/// float, str, bytes (UTF-8), or a homogeneous sequence of those. Anything else
/// (an int beyond 64 bits, undecodable bytes, a mixed or nested sequence) is
/// counted as unrepresentable and left out.
fn otel_value(value: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
    let scalar = |value: &Bound<'_, PyAny>| -> Option<Value> {
        if let Ok(b) = value.cast::<PyBool>() {
            Some(Value::Bool(b.is_true()))
        } else if value.is_instance_of::<PyInt>() {
            value.extract::<i64>().ok().map(Value::I64)
        } else if let Ok(f) = value.cast::<PyFloat>() {
            Some(Value::F64(f.value()))
        } else if value.is_instance_of::<PyString>() {
            value
                .extract::<String>()
                .ok()
                .map(|s| Value::String(s.into()))
        } else if let Ok(b) = value.cast::<PyBytes>() {
            std::str::from_utf8(b.as_bytes())
                .ok()
                .map(|s| Value::String(s.to_string().into()))
        } else {
            None
        }
    };
    if let Some(value) = scalar(value) {
        return Ok(Some(value));
    }
    if value.is_instance_of::<PyTuple>() || value.is_instance_of::<PyList>() {
        let items: Vec<Option<Value>> = value
            .try_iter()?
            .map(|item| item.map(|i| scalar(&i)))
            .collect::<PyResult<_>>()?;
        let array = match items.first() {
            None => Some(Array::String(Vec::new())),
            Some(Some(Value::Bool(_))) => items
                .iter()
                .map(|v| match v {
                    Some(Value::Bool(b)) => Some(*b),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Array::Bool),
            Some(Some(Value::I64(_))) => items
                .iter()
                .map(|v| match v {
                    Some(Value::I64(i)) => Some(*i),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Array::I64),
            Some(Some(Value::F64(_))) => items
                .iter()
                .map(|v| match v {
                    Some(Value::F64(f)) => Some(*f),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Array::F64),
            Some(Some(Value::String(_))) => items
                .into_iter()
                .map(|v| match v {
                    Some(Value::String(s)) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<StringValue>>>()
                .map(Array::String),
            _ => None,
        };
        if let Some(array) = array {
            return Ok(Some(Value::Array(array)));
        }
    }
    count_unrepresentable();
    Ok(None)
}

/// An SDK value as a Python one (what `span.set_attribute` takes).
fn python_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    match value {
        Value::Bool(b) => b.into_bound_py_any(py),
        Value::I64(i) => i.into_bound_py_any(py),
        Value::F64(f) => f.into_bound_py_any(py),
        Value::String(s) => s.as_str().into_bound_py_any(py),
        Value::Array(Array::Bool(items)) => PyTuple::new(py, items)?.into_bound_py_any(py),
        Value::Array(Array::I64(items)) => PyTuple::new(py, items)?.into_bound_py_any(py),
        Value::Array(Array::F64(items)) => PyTuple::new(py, items)?.into_bound_py_any(py),
        Value::Array(Array::String(items)) => {
            PyTuple::new(py, items.iter().map(|s| s.as_str()))?.into_bound_py_any(py)
        }
        other => other.to_string().into_bound_py_any(py),
    }
}

#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Pipeline>()?;
    module.add_class::<SpanResource>()?;
    module.add("SpanplugError", module.py().get_type::<SpanplugError>())?;
    module.add("API_VERSION", spanplug_api::API_VERSION)?;
    Ok(())
}
