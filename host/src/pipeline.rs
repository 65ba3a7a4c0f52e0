//! The adapter into `opentelemetry_sdk`: one SDK `SpanProcessor` that runs every
//! plugin processor in configured order, building each span's view once.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use abi_stable::std_types::{RSlice, RVec};
use opentelemetry::trace::Span as _;
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;
use spanplug_api::{
    OwnedKeyValue, OwnedValue, Processor, RequestContextView, SpanId, StartingSpan, StrPair,
};

use crate::config::TracingConfig;
use crate::error::LoadError;
use crate::loader::PluginSearchPath;
use crate::plugins::{load_import_path, FactoryInput};
use crate::request_context::RequestContext;
use crate::view::{
    key_values, ordered_resource, span_context, span_kind, string_arrays, unix_nanos,
    with_span_view, OrderedResource,
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

/// One plugin processor and where it came from.
struct Stage {
    import_path: String,
    name: String,
    processor: Processor,
    needs_on_start: bool,
    failures: AtomicU64,
    slow_calls: AtomicU64,
}

thread_local! {
    static ON_END_CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// One `on_end` call in this many is timed (timing every call would cost more than
/// the plugin boundary itself).
const SLOW_SAMPLE_EVERY: u64 = 32;
/// A sampled `on_end` slower than this is reported: it runs on the application thread.
const SLOW_ON_END: Duration = Duration::from_millis(5);

impl Stage {
    fn new(import_path: String, processor: Processor) -> Self {
        Stage {
            import_path,
            name: processor.name(),
            needs_on_start: processor.needs_on_start(),
            processor,
            failures: AtomicU64::new(0),
            slow_calls: AtomicU64::new(0),
        }
    }

    /// A processor's `on_end` blocks the application thread that ends the span; say
    /// so (first, then every 100th slow sample).
    fn record_slow(&self, elapsed: Duration) {
        let count = self.slow_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if count == 1 || count % 100 == 0 {
            log::warn!(
                "span processor {} ({}) is slow in on_end: {elapsed:?} on the application thread ({count} slow samples so far); processors must not block",
                self.name,
                self.import_path
            );
        }
    }

    /// Logs the first failure and then every 1000th, so a processor that panics on
    /// every span cannot flood the log.
    fn record_failure(&self, call: &str, error: &str) {
        let count = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if count == 1 || count % 1000 == 0 {
            log::error!(
                "span processor {} ({}) failed in {call} ({count} failures so far): {error}",
                self.name,
                self.import_path
            );
        }
    }
}

/// Every processor of every `exporter_import_path` entry, as one SDK processor.
///
/// [`init`](crate::init) installs it; an application that builds its own
/// `SdkTracerProvider` (custom id generator, span limits) can add it directly.
pub struct PluginPipeline {
    stages: Vec<Stage>,
    plugins: Vec<InstalledPlugin>,
    any_on_start: bool,
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
    /// applied by [`init`](crate::init)) and calls its factory. On failure, the
    /// processors already started are shut down again.
    pub fn load(config: &TracingConfig, resource: &Resource) -> Result<Self, LoadError> {
        let search = PluginSearchPath::new(&config.plugin_path);
        let input = FactoryInput {
            resource,
            exporter_config: &config.exporter_config,
            timeout: config.factory_timeout,
        };
        let mut stages: Vec<Stage> = Vec::new();
        let mut plugins = Vec::new();
        for import_path in config.import_paths() {
            let loaded =
                match load_import_path(&import_path, &search, &config.exporter_sha256, &input) {
                    Ok(loaded) => loaded,
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
        Ok(PluginPipeline {
            any_on_start: stages.iter().any(|s| s.needs_on_start),
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

    fn run_on_start(&self, data: &SpanData, request: &RequestContext) -> RVec<OwnedKeyValue> {
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
        // Room for a typical enricher, so pushes do not reallocate.
        let mut added = RVec::with_capacity(16);
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
        added
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

fn otel_value(value: &OwnedValue) -> Value {
    match value {
        OwnedValue::Bool(b) => Value::Bool(*b),
        OwnedValue::I64(i) => Value::I64(*i),
        OwnedValue::F64(f) => Value::F64(*f),
        OwnedValue::String(s) => Value::String(StringValue::from(interned(s.as_str()))),
        OwnedValue::BoolArray(items) => Value::Array(Array::Bool(items.to_vec())),
        OwnedValue::I64Array(items) => Value::Array(Array::I64(items.to_vec())),
        OwnedValue::F64Array(items) => Value::Array(Array::F64(items.to_vec())),
        OwnedValue::StringArray(items) => Value::Array(Array::String(
            items
                .iter()
                .map(|s| StringValue::from(s.as_str().to_string()))
                .collect(),
        )),
    }
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
        let added = self.run_on_start(&data, &request);
        for kv in added.iter() {
            span.set_attribute(KeyValue::new(
                interned(kv.key.as_str()),
                otel_value(&kv.value),
            ));
        }
    }

    fn on_end(&self, span: SpanData) {
        // Like the SDK's own exporting processors: record-only spans are not exported.
        if !span.span_context.is_sampled() {
            return;
        }
        // A thread-local count, not a shared atomic: sampling must cost next to nothing.
        let timed = ON_END_CALLS.with(|calls| {
            let n = calls.get().wrapping_add(1);
            calls.set(n);
            n % SLOW_SAMPLE_EVERY == 0
        });
        with_span_view(&span, &self.resource, |view| {
            for stage in &self.stages {
                let started = timed.then(Instant::now);
                if let Err(error) = stage.processor.on_end(view) {
                    stage.record_failure("on_end", &error);
                }
                if let Some(elapsed) = started.map(|s| s.elapsed()).filter(|e| *e > SLOW_ON_END) {
                    stage.record_slow(elapsed);
                }
            }
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
