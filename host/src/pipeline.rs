//! The adapter into `opentelemetry_sdk`: one SDK `SpanProcessor` that runs every
//! plugin processor in configured order, building each span's view once.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RSlice, RStr};
use opentelemetry::trace::Span as _;
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;
use spanplug_api::{
    AttributeSink, Processor, RequestContextView, SpanId, StartingSpan, StrPair,
    Value as ViewValue, ValueRef,
};

use crate::chain::{deliver, Stage};
use crate::config::{OnError, TracingConfig};
use crate::error::LoadError;
use crate::loader::PluginSearchPath;
use crate::plugins::{load_import_path, FactoryInput};
use crate::request_context::RequestContext;
use crate::view::{
    count_unrepresentable, key_values, ordered_resource, span_context, span_kind, string_arrays,
    unix_nanos, unrepresentable_values, with_span_view, OrderedResource,
};

/// How long `force_flush` (which the SDK calls without a deadline) waits per call.
const FORCE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A plugin function installed into a pipeline.
#[derive(Clone, Debug)]
pub struct InstalledPlugin {
    pub import_path: String,
    pub library: PathBuf,
    pub api_version: String,
    pub processors: Vec<String>,
}

thread_local! {
    static ON_END_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// One `on_end` call in this many is timed (timing every call would cost more than
/// the plugin boundary itself).
const SLOW_SAMPLE_EVERY: u64 = 32;

/// Every processor of every `exporter_import_path` entry, as one SDK processor.
///
/// [`init`](crate::init) installs it; an application that builds its own
/// `SdkTracerProvider` (custom id generator, span limits) can add it directly.
pub struct PluginPipeline {
    stages: Vec<Stage>,
    plugins: Vec<InstalledPlugin>,
    any_on_start: bool,
    any_transformer: bool,
    resource: OrderedResource,
    /// The last flush or shutdown failure, in the pipeline's words (the SDK wraps them).
    last_errors: Arc<Mutex<Option<String>>>,
}

impl fmt::Debug for PluginPipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginPipeline")
            .field(
                "stages",
                &self.stages.iter().map(|s| &s.name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl PluginPipeline {
    /// Loads every import path of `config` (as given: environment overrides are
    /// applied by [`init`](crate::init)) and calls its factory. On failure, with
    /// `on_error: fail` the processors already started are shut down again and the
    /// error returned; with `warn` the error is logged once and the entry skipped.
    pub fn load(config: &TracingConfig, resource: &Resource) -> Result<Self, LoadError> {
        let search = PluginSearchPath::new(&config.plugin_path);
        let input = FactoryInput {
            resource,
            exporter_config: &config.exporter_config,
            timeout: config.factory_timeout,
            dry_run: false,
        };
        let mut stages: Vec<Stage> = Vec::new();
        let mut plugins = Vec::new();
        let entries = config.entries();
        let mut skipped = 0;
        for entry in &entries {
            let loaded = match load_import_path(entry, &search, config.pins(), &input) {
                Ok(loaded) => loaded,
                Err(error) if config.on_error == OnError::Warn => {
                    skipped += 1;
                    log::error!(
                        "exporter {} skipped (on_error: warn): {error}",
                        entry.import_path
                    );
                    continue;
                }
                Err(error) => {
                    for stage in &stages {
                        if let Err(e) = stage.processor.shutdown(config.shutdown_timeout) {
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
            });
            stages.extend(
                loaded
                    .processors
                    .into_iter()
                    .map(|p| Stage::new(loaded.import_path.clone(), p)),
            );
        }
        if skipped > 0 && skipped == entries.len() {
            log::error!(
                "none of the {skipped} exporter import paths could be loaded; the service runs with no span processors (on_error: warn)"
            );
        }
        Ok(PluginPipeline {
            any_on_start: stages.iter().any(|s| s.needs_on_start),
            any_transformer: stages.iter().any(|s| s.transforms),
            stages,
            plugins,
            resource: ordered_resource(resource),
            last_errors: Arc::default(),
        })
    }

    pub fn plugins(&self) -> &[InstalledPlugin] {
        &self.plugins
    }

    /// Where the pipeline leaves its last flush or shutdown error message.
    pub(crate) fn error_slot(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.last_errors)
    }

    /// Calls `call` on every stage with the time left before `deadline`, collecting errors.
    fn for_each_until(
        &self,
        what: &str,
        deadline: Instant,
        call: impl Fn(&Processor, Duration) -> Result<(), String>,
    ) -> OTelSdkResult {
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
            let message = errors.join("; ");
            *lock(&self.last_errors) = Some(message.clone());
            Err(OTelSdkError::InternalFailure(format!("{what}: {message}")))
        }
    }

    fn run_on_start(&self, data: &SpanData, request: &RequestContext) -> Vec<KeyValue> {
        let entries: Vec<StrPair<'_>> = request
            .iter()
            .map(|(key, value)| StrPair {
                key: key.into(),
                value: value.into(),
            })
            .collect();
        let request_view = RequestContextView {
            entries: RSlice::from_slice(&entries),
        };
        let arrays = string_arrays(data.attributes.iter().map(|kv| &kv.value));
        let attributes = key_values(
            data.attributes
                .iter()
                .map(|kv| (kv.key.as_str(), &kv.value)),
            &arrays,
        );
        let trace_state = data.span_context.trace_state().header();
        let mut added = AddedAttributes::default();
        let mut starting = StartingSpan::new(
            span_context(&data.span_context, &trace_state),
            SpanId(data.parent_span_id.to_bytes()),
            data.parent_span_is_remote,
            data.name.as_ref().into(),
            span_kind(&data.span_kind),
            unix_nanos(data.start_time),
            attributes.as_slice().into(),
            &mut added,
        );
        for stage in self.stages.iter().filter(|s| s.needs_on_start) {
            if let Err(error) = stage.processor.on_start(&mut starting, &request_view) {
                stage.record_failure("on_start", &error);
            }
        }
        drop(starting);
        added.list
    }
}

/// `now + timeout`, saturating instead of overflowing on huge timeouts.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How many recent strings each thread keeps for reuse.
const INTERNED_STRINGS: usize = 32;

thread_local! {
    /// Attribute keys and values that `on_start` processors set tend to repeat
    /// (`request_id`, `app`, `host.name`, ...): sharing them saves an allocation and a
    /// copy per attribute per span.
    static RECENT_STRINGS: RefCell<(Vec<Arc<str>>, usize)> = const { RefCell::new((Vec::new(), 0)) };
}

fn interned(text: &str) -> Arc<str> {
    RECENT_STRINGS.with(|recent| {
        let (strings, next) = &mut *recent.borrow_mut();
        if let Some(found) = strings
            .iter()
            .find(|s| s.len() == text.len() && &***s == text)
        {
            return Arc::clone(found);
        }
        let string: Arc<str> = text.into();
        if strings.len() < INTERNED_STRINGS {
            strings.push(Arc::clone(&string));
        } else {
            strings[*next] = Arc::clone(&string);
            *next = (*next + 1) % INTERNED_STRINGS;
        }
        string
    })
}

/// Attributes `on_start` processors set, as SDK values; a key set twice keeps its
/// first place and its last value.
#[derive(Default)]
struct AddedAttributes {
    list: Vec<KeyValue>,
}

impl AttributeSink for AddedAttributes {
    fn set_attribute(&mut self, key: RStr<'_>, value: ViewValue<'_>) {
        let Some(value) = otel_value(&value) else {
            count_unrepresentable();
            return;
        };
        match self
            .list
            .iter_mut()
            .find(|kv| kv.key.as_str() == key.as_str())
        {
            Some(slot) => slot.value = value,
            None => self.list.push(KeyValue::new(interned(key.as_str()), value)),
        }
    }
}

fn otel_value(value: &ViewValue<'_>) -> Option<Value> {
    Some(match value.get() {
        ValueRef::Bool(b) => Value::Bool(b),
        ValueRef::I64(i) => Value::I64(i),
        ValueRef::F64(f) => Value::F64(f),
        ValueRef::String(s) => Value::String(StringValue::from(interned(s))),
        ValueRef::BoolArray(items) => Value::Array(Array::Bool(items.to_vec())),
        ValueRef::I64Array(items) => Value::Array(Array::I64(items.to_vec())),
        ValueRef::F64Array(items) => Value::Array(Array::F64(items.to_vec())),
        ValueRef::StringArray(items) => Value::Array(Array::String(
            items
                .iter()
                .map(|s| StringValue::from(s.as_str().to_string()))
                .collect(),
        )),
        _ => return None,
    })
}

/// Keys are unique (OTLP requires it; the SDK appends): a key set again keeps its first
/// place and takes the last value. Checks a 64-bit filter of key hashes first, so the
/// common case of no duplicates costs one pass.
fn dedupe_attributes(attributes: &mut Vec<KeyValue>) {
    let mut seen = 0u64;
    let mut suspect = false;
    for kv in attributes.iter() {
        let key = kv.key.as_str().as_bytes();
        let bit = 1u64
            << ((key.len() as u64)
                .wrapping_mul(31)
                .wrapping_add(u64::from(key.first().copied().unwrap_or(0)))
                .wrapping_add(u64::from(key.last().copied().unwrap_or(0)) << 3)
                % 64);
        suspect |= seen & bit != 0;
        seen |= bit;
    }
    if !suspect {
        return;
    }
    let mut kept: Vec<KeyValue> = Vec::with_capacity(attributes.len());
    for kv in attributes.drain(..) {
        match kept.iter_mut().find(|k| k.key == kv.key) {
            Some(slot) => slot.value = kv.value,
            None => kept.push(kv),
        }
    }
    *attributes = kept;
}

impl SpanProcessor for PluginPipeline {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if !self.any_on_start {
            return;
        }
        let Some(data) = span.exported_data() else {
            return;
        };
        // The parent context carries the request context; a span started from an
        // explicit remote context falls back to the thread's current one.
        let request = cx
            .get::<RequestContext>()
            .cloned()
            .or_else(RequestContext::current)
            .unwrap_or_default();
        for kv in self.run_on_start(&data, &request) {
            span.set_attribute(kv);
        }
    }

    fn on_end(&self, mut span: SpanData) {
        // Record-only spans go only to the processors that saw them start.
        if !span.span_context.is_sampled() && !self.any_on_start {
            return;
        }
        dedupe_attributes(&mut span.attributes);
        // A thread-local count, not a shared atomic: sampling must cost next to nothing.
        let timed = ON_END_CALLS.with(|calls| {
            let n = calls.get().wrapping_add(1);
            calls.set(n);
            n % SLOW_SAMPLE_EVERY == 0
        });
        with_span_view(&span, &self.resource, |view| {
            deliver(&self.stages, self.any_transformer, view, timed)
        });
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.for_each_until(
            "force_flush",
            deadline_after(FORCE_FLUSH_TIMEOUT),
            Processor::force_flush,
        )
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let result = self.for_each_until("shutdown", deadline_after(timeout), Processor::shutdown);
        let unrepresentable = unrepresentable_values();
        if unrepresentable > 0 {
            log::warn!(
                "{unrepresentable} attribute values so far were of kinds spanplug-api {} cannot carry (passed as UNSUPPORTED or ignored)",
                spanplug_api::API_VERSION
            );
        }
        for stage in &self.stages {
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

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = ordered_resource(resource);
    }
}
