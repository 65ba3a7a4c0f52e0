//! The adapter into `opentelemetry_sdk`: one SDK `SpanProcessor` that runs every
//! plugin processor in configured order, building each span's view once.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use abi_stable::std_types::{RSlice, RStr};
use opentelemetry::trace::{Span as _, TraceContextExt as _};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Span, SpanData, SpanProcessor};
use opentelemetry_sdk::Resource;
use spanplug_api::sync::lock;
use spanplug_api::{
    AttributeSink, RequestContextView, SpanId, StartingSpan, StartingSpanExt,
    StartingSpanExtStorage, StrPair, Value as ViewValue, ValueRef,
};
use spanplug_config::TracingConfig;
use spanplug_loader::span::count_unrepresentable;
use spanplug_loader::span::{intern, with_attribute_views, ResourceRecord};
use spanplug_loader::{Component, InstalledPlugin, LoadError, Stages};
use spanplug_self_metrics::{ParentOrigin, SpanCounts};

use crate::request_context::RequestContext;
use crate::span_view::{ordered_resource, span_context, span_kind, SdkAttributes, SdkSpan};
use crate::unix_time::unix_nanos;

/// How long `force_flush` (which the SDK calls without a deadline) waits per call.
const FORCE_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Every processor of every `exporter_import_path` entry, as one SDK processor: the
/// adapter from `opentelemetry_sdk` spans to the views [`Stages`] runs plugins over.
///
/// [`init`](crate::init) installs it; an application that builds its own
/// `SdkTracerProvider` (custom id generator, span limits) can add it directly.
pub struct SpanplugProcessor {
    stages: Stages,
    resource: Arc<ResourceRecord>,
    /// The last flush or shutdown failure, in the loader's words (the SDK wraps them).
    last_errors: Arc<Mutex<Option<String>>>,
    /// `otel.sdk.span.started` / `.live`, when self metrics are on.
    span_counts: Option<Arc<SpanCounts>>,
}

impl fmt::Debug for SpanplugProcessor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanplugProcessor")
            .field("stages", &self.stages.names().collect::<Vec<_>>())
            .finish()
    }
}

impl SpanplugProcessor {
    /// Loads every import path of `config` (as given: environment overrides are
    /// applied by [`init`](crate::init)) and calls its factory, as `config.on_error`
    /// says.
    pub fn load(config: &TracingConfig, resource: &Resource) -> Result<Self, LoadError> {
        let ordered = Arc::new(ordered_resource(resource));
        Ok(SpanplugProcessor {
            stages: config.load_stages(&ordered)?,
            resource: ordered,
            last_errors: Arc::default(),
            span_counts: None,
        })
    }

    /// Counts spans as they start and end into `counts` (self metrics).
    pub fn with_span_counts(mut self, counts: Arc<SpanCounts>) -> Self {
        self.span_counts = Some(counts);
        self
    }

    /// Every processor as an SDK component, in order (for self metrics).
    pub fn components(&self) -> Vec<Component> {
        self.stages.components()
    }

    /// The plugins loaded, in config order.
    pub fn plugins(&self) -> &[InstalledPlugin] {
        self.stages.plugins()
    }

    /// Where the processor leaves its last flush or shutdown error message.
    pub(crate) fn error_slot(&self) -> Arc<Mutex<Option<String>>> {
        Arc::clone(&self.last_errors)
    }

    /// An SDK error for `what`, keeping the loader's own words for the guard.
    fn sdk_result(&self, what: &str, result: Result<(), String>) -> OTelSdkResult {
        result.map_err(|message| {
            *lock(&self.last_errors) = Some(message.clone());
            OTelSdkError::InternalFailure(format!("{what}: {message}"))
        })
    }

    /// Runs every processor's `on_start` over `data` (a span as it starts) with the
    /// request context `request`; returns the attributes they set.
    fn on_start_attributes(&self, data: &SpanData, request: &RequestContext) -> Vec<KeyValue> {
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
        let trace_state = data.span_context.trace_state().header();
        let mut added = AddedAttributes::default();
        with_attribute_views::<SdkAttributes, _>(&data.attributes, |attributes| {
            let extension = StartingSpanExtStorage::new(StartingSpanExt::current());
            let mut starting = StartingSpan::new(
                span_context(&data.span_context, &trace_state),
                SpanId(data.parent_span_id.to_bytes()),
                data.parent_span_is_remote,
                data.name.as_ref().into(),
                span_kind(&data.span_kind),
                unix_nanos(data.start_time),
                attributes.into(),
                &mut added,
                &extension,
            );
            self.stages.on_start(&mut starting, &request_view);
        });
        added.list
    }
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
            None => self.list.push(KeyValue::new(intern(key.as_str()), value)),
        }
    }

    #[cfg(feature = "next-minor-probe")]
    fn next_minor_probe(&self) -> u32 {
        spanplug_api::PROBE_PRESENT
    }
}

fn otel_value(value: &ViewValue<'_>) -> Option<Value> {
    Some(match value.get() {
        ValueRef::Bool(b) => Value::Bool(b),
        ValueRef::I64(i) => Value::I64(i),
        ValueRef::F64(f) => Value::F64(f),
        ValueRef::String(s) => Value::String(StringValue::from(intern(s))),
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

impl SpanProcessor for SpanplugProcessor {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        if let Some(counts) = &self.span_counts {
            counts.started(span.span_context().is_sampled(), parent_origin(cx));
        }
        if !self.stages.any_on_start() {
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
        for kv in self.on_start_attributes(&data, &request) {
            span.set_attribute(kv);
        }
    }

    fn on_end(&self, mut span: SpanData) {
        if let Some(counts) = &self.span_counts {
            counts.ended(span.span_context.is_sampled());
        }
        self.stages.on_end_span(&mut SdkSpan {
            data: &mut span,
            resource: &self.resource,
        });
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.sdk_result("force_flush", self.stages.force_flush(FORCE_FLUSH_TIMEOUT))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.sdk_result("shutdown", self.stages.shutdown(timeout))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = Arc::new(ordered_resource(resource));
    }
}

/// `otel.span.parent.origin` of a span started in `cx`.
fn parent_origin(cx: &Context) -> ParentOrigin {
    let parent = cx.span();
    let parent = parent.span_context();
    if !parent.is_valid() {
        ParentOrigin::None
    } else if parent.is_remote() {
        ParentOrigin::Remote
    } else {
        ParentOrigin::Local
    }
}
