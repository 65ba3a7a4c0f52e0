//! The one trait every front end's span implements to be run through the loader, and
//! its implementation for the loader's own [`SpanRecord`].

use abi_stable::std_types::{RSlice, RStr};
use spanplug_api::{
    AttributeSink, OwnedValue, RequestContextView, SpanContext, StartingSpan, StartingSpanExt,
    StartingSpanExtStorage, Status, StrPair, Value,
};

use super::attributes::{owned_view, AttributeType, AttributeViews};
use super::builder::{with_attribute_views, with_view, ViewBuilder, ViewHead};
use super::record::{intern, Attribute, ContextRecord, SpanRecord};
use super::unique_keys::dedupe_attributes;
use crate::chain::count_unrepresentable;
use crate::stages::Stages;

/// An ended span a front end holds, that lends the loader a view of itself: an
/// `opentelemetry_sdk` span borrowed as it is, or a [`SpanRecord`] a front end filled.
pub trait SpanSource {
    /// The span's attribute type.
    type Attributes: AttributeType;

    /// Whether the span is sampled (else it is record-only).
    fn is_sampled(&self) -> bool;

    /// The span's attributes, to make their keys unique before the view is built.
    fn attributes_mut(&mut self) -> &mut Vec<<Self::Attributes as AttributeType>::Attribute>;

    /// Pushes the span's lists into `builder`, in its order, and returns the rest.
    fn build<'s>(&'s self, builder: &mut ViewBuilder<'s, Self::Attributes>) -> ViewHead<'s>;
}

impl Stages {
    /// Runs the processors over an ended span: its attribute keys made unique, then
    /// its view built once in this thread's buffers.
    #[inline]
    pub fn on_end_span<S: SpanSource>(&self, span: &mut S) {
        // Record-only spans go only to the processors that saw them start.
        if !span.is_sampled() && !self.any_on_start() {
            return;
        }
        dedupe_attributes::<S::Attributes>(span.attributes_mut());
        with_view(&*span, |view| self.on_end(view));
    }

    /// Runs every `on_start` over a starting span with the request context `request`
    /// (`(key, value)` pairs); returns the attributes they set, for the front end to
    /// set on its span. A key set twice keeps its first place and its last value.
    pub fn on_start_record<'r>(
        &self,
        span: &SpanRecord,
        request: impl Iterator<Item = (&'r str, &'r str)>,
    ) -> Vec<Attribute> {
        let entries: Vec<StrPair<'_>> = request
            .map(|(key, value)| StrPair {
                key: key.into(),
                value: value.into(),
            })
            .collect();
        let request = RequestContextView {
            entries: RSlice::from_slice(&entries),
        };
        let mut added = AddedAttributes::default();
        with_attribute_views::<Attribute, _>(&span.attributes, |attributes| {
            let extension = StartingSpanExtStorage::new(StartingSpanExt::current());
            let mut starting = StartingSpan::new(
                span_context(&span.context),
                span.parent_span_id,
                span.parent_is_remote,
                span.name.as_str().into(),
                span.kind,
                span.start_time_unix_nano,
                attributes.into(),
                &mut added,
                &extension,
            );
            self.on_start(&mut starting, &request);
        });
        added.list
    }
}

/// A context's view; its `tracestate` borrowed from the record.
fn span_context(context: &ContextRecord) -> SpanContext<'_> {
    SpanContext {
        trace_id: context.trace_id,
        span_id: context.span_id,
        trace_flags: context.trace_flags,
        is_remote: context.is_remote,
        trace_state: context.trace_state.as_str().into(),
    }
}

/// Attributes `on_start` processors set, as owned values.
#[derive(Default)]
struct AddedAttributes {
    list: Vec<Attribute>,
}

impl AttributeSink for AddedAttributes {
    fn set_attribute(&mut self, key: RStr<'_>, value: Value<'_>) {
        let Some(value) = OwnedValue::from_value(&value) else {
            count_unrepresentable();
            return;
        };
        match self.list.iter_mut().find(|kv| &*kv.key == key.as_str()) {
            Some(slot) => slot.value = value,
            None => self.list.push(Attribute {
                key: intern(key.as_str()),
                value,
            }),
        }
    }

    #[cfg(feature = "next-minor-probe")]
    fn next_minor_probe(&self) -> u32 {
        spanplug_api::PROBE_PRESENT
    }
}

impl AttributeType for Attribute {
    type Attribute = Attribute;

    #[inline(always)]
    fn key(attribute: &Attribute) -> &str {
        &attribute.key
    }

    fn swap_value(one: &mut Attribute, other: &mut Attribute) {
        std::mem::swap(&mut one.value, &mut other.value);
    }

    #[inline(always)]
    fn push_view<'s>(attribute: &'s Attribute, views: &mut AttributeViews<'_, 's>) {
        let value = match (&attribute.value, owned_view(&attribute.value)) {
            (_, Some(value)) => value,
            (OwnedValue::StringArray(items), None) => {
                return views.push_string_array(&attribute.key, items.iter().map(String::as_str))
            }
            (_, None) => Value::UNSUPPORTED,
        };
        views.push(&attribute.key, value);
    }
}

impl SpanSource for SpanRecord {
    type Attributes = Attribute;

    fn is_sampled(&self) -> bool {
        self.context.trace_flags & 1 == 1
    }

    fn attributes_mut(&mut self) -> &mut Vec<Attribute> {
        &mut self.attributes
    }

    fn build<'s>(&'s self, builder: &mut ViewBuilder<'s, Attribute>) -> ViewHead<'s> {
        builder.trace_state(|out| out.push_str(&self.context.trace_state));
        builder.span_attributes(self.attributes.iter());
        builder.scope_attributes(self.scope.attributes.iter());
        for event in &self.events {
            builder.event(
                &event.name,
                event.time_unix_nano,
                event.attributes.iter(),
                event.dropped_attributes_count,
            );
        }
        for link in &self.links {
            builder.trace_state(|out| out.push_str(&link.context.trace_state));
            builder.link(
                span_context(&link.context),
                link.attributes.iter(),
                link.dropped_attributes_count,
            );
        }
        ViewHead {
            context: span_context(&self.context),
            parent_span_id: self.parent_span_id,
            parent_is_remote: self.parent_is_remote,
            name: &self.name,
            kind: self.kind,
            start_time_unix_nano: self.start_time_unix_nano,
            end_time_unix_nano: self.end_time_unix_nano,
            dropped: [
                self.dropped_attributes_count,
                self.dropped_events_count,
                self.dropped_links_count,
            ],
            status: Status {
                code: self.status_code,
                description: self.status_description.as_str().into(),
            },
            scope: (
                &self.scope.name,
                self.scope.version.as_deref(),
                self.scope.schema_url.as_deref(),
            ),
            resource: self.resource.view(),
        }
    }
}

#[cfg(test)]
mod tests;
