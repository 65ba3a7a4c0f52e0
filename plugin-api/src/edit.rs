//! Spans a plugin may change: a starting span (attributes added in `on_start`) and an
//! ending span (the transform chain). Both lend the plugin a host-implemented vtable,
//! so the host keeps the storage and a later interface can add edits as new methods.

use std::fmt;

use abi_stable::{
    sabi_trait,
    sabi_types::RMut,
    std_types::{RSlice, RStr},
    StableAbi,
};

use crate::extension::{StartingSpanExtRef, StartingSpanExtStorage};
use crate::span::{KeyValue, OwnedValue, SpanContext, SpanId, SpanKind, SpanView, Value};

/// Declares the host vtables; `$($sink)*` and `$($editor)*` are what the hidden
/// next-minor probe appends to each.
macro_rules! host_vtables {
    (sink { $($sink:tt)* } editor { $($editor:tt)* }) => {
        /// Where attributes set in `on_start` go. Implemented by hosts; methods a later
        /// minor adds go after the last prefix method, with default bodies meaning
        /// "not supported", which run when an older host lacks the method.
        #[sabi_trait]
        pub trait AttributeSink {
            /// Sets an attribute; a key that exists is replaced.
            #[sabi(last_prefix_field)]
            fn set_attribute(&mut self, key: RStr<'_>, value: Value<'_>);

            $($sink)*
        }

        /// The edits a transformer may make. Implemented by hosts; methods a later
        /// minor adds go after the last prefix method, with default bodies meaning
        /// "not supported".
        #[sabi_trait]
        pub trait SpanEditor {
            /// Sets a span attribute; a key that exists is replaced.
            fn set_attribute(&mut self, key: RStr<'_>, value: Value<'_>);

            /// Removes the span attribute with this key, if there is one.
            fn remove_attribute(&mut self, key: RStr<'_>);

            /// Sets an attribute of the event at index `event`; a key that exists is replaced.
            fn set_event_attribute(&mut self, event: usize, key: RStr<'_>, value: Value<'_>);

            /// Removes an attribute of the event at index `event`.
            fn remove_event_attribute(&mut self, event: usize, key: RStr<'_>);

            /// Renames the span.
            fn set_name(&mut self, name: RStr<'_>);

            /// Replaces the status description (kept for error spans only).
            fn set_status_description(&mut self, description: RStr<'_>);

            /// Drops the span for the processors after this transformer.
            #[sabi(last_prefix_field)]
            fn drop_span(&mut self);

            $($editor)*
        }
    };
}

#[allow(non_local_definitions)]
mod abi {
    use super::*;

    #[cfg(not(feature = "next-minor-probe"))]
    host_vtables! { sink {} editor {} }

    #[cfg(feature = "next-minor-probe")]
    host_vtables! {
        sink {
            /// The probe: [`crate::PROBE_ABSENT`] from a host built without it.
            fn next_minor_probe(&self) -> u32 {
                crate::PROBE_ABSENT
            }
        }
        editor {
            /// The probe: [`crate::PROBE_ABSENT`] from a host built without it.
            fn next_minor_probe(&self) -> u32 {
                crate::PROBE_ABSENT
            }
        }
    }
}

pub use abi::{AttributeSink, AttributeSink_TO, SpanEditor, SpanEditor_TO};

/// A span as it starts: readable, and open to new attributes.
///
/// Attributes set here are applied to the span once every processor's `on_start` has
/// run; setting a key that exists replaces its value.
#[repr(C)]
#[derive(StableAbi)]
pub struct StartingSpan<'a> {
    /// The span's trace id, span id, trace flags and trace state.
    pub context: SpanContext<'a>,
    /// The parent span's id; `SpanId::INVALID` for a root span.
    pub parent_span_id: SpanId,
    /// Whether the parent span came from another process (a propagated context).
    pub parent_is_remote: bool,
    /// The span's name.
    pub name: RStr<'a>,
    /// The span kind (server, client, ...).
    pub kind: SpanKind,
    /// Unix nanoseconds when the span started.
    pub start_time_unix_nano: u64,
    /// Attributes the span was created with.
    pub attributes: RSlice<'a, KeyValue<'a>>,
    sink: AttributeSink_TO<'a, RMut<'a, ()>>,
    /// Per-span data later minors add (see [`crate::extension`]); the last field.
    pub extension: StartingSpanExtRef<'a>,
}

impl<'a> StartingSpan<'a> {
    /// Builds the view; for hosts. `sink` receives the attributes processors set;
    /// `extension` is the span's extension table, kept on the host's stack.
    #[allow(clippy::too_many_arguments)]
    pub fn new<S: AttributeSink + 'a>(
        context: SpanContext<'a>,
        parent_span_id: SpanId,
        parent_is_remote: bool,
        name: RStr<'a>,
        kind: SpanKind,
        start_time_unix_nano: u64,
        attributes: RSlice<'a, KeyValue<'a>>,
        sink: &'a mut S,
        extension: &'a StartingSpanExtStorage<'a>,
    ) -> Self {
        StartingSpan {
            context,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            start_time_unix_nano,
            attributes,
            sink: AttributeSink_TO::from_ptr(sink, abi_stable::sabi_trait::TD_Opaque),
            extension: extension.table(),
        }
    }

    /// The sink's probe method: [`crate::PROBE_ABSENT`] from a host built without it.
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub fn sink_probe(&self) -> u32 {
        self.sink.next_minor_probe()
    }

    /// Sets an attribute (replacing one with the same key) for this span.
    pub fn set_attribute<'v>(&mut self, key: &str, value: impl Into<Value<'v>>) {
        self.sink.set_attribute(key.into(), value.into());
    }

    /// [`StartingSpan::set_attribute`] with a value the plugin owns.
    pub fn set_owned_attribute(&mut self, key: &str, value: &OwnedValue) {
        value.with_value(|value| self.sink.set_attribute(key.into(), value));
    }
}

/// The view's fields; the host's sink is a vtable with nothing to show.
impl fmt::Debug for StartingSpan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartingSpan")
            .field("context", &self.context)
            .field("parent_span_id", &self.parent_span_id)
            .field("parent_is_remote", &self.parent_is_remote)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("start_time_unix_nano", &self.start_time_unix_nano)
            .field("attributes", &self.attributes)
            .field("extension", &self.extension)
            .finish_non_exhaustive()
    }
}

/// An ended span in the transform chain: the span as earlier transformers left it,
/// and the edits this transformer makes for the processors after it.
///
/// Edits are applied when `transform` returns: reading the view after an edit still
/// shows the value before it.
#[repr(C)]
#[derive(StableAbi)]
pub struct EndingSpan<'a> {
    view: &'a SpanView<'a>,
    editor: SpanEditor_TO<'a, RMut<'a, ()>>,
}

impl<'a> EndingSpan<'a> {
    /// For hosts: `editor` receives the edits.
    pub fn new<E: SpanEditor + 'a>(view: &'a SpanView<'a>, editor: &'a mut E) -> Self {
        EndingSpan {
            view,
            editor: SpanEditor_TO::from_ptr(editor, abi_stable::sabi_trait::TD_Opaque),
        }
    }

    /// The span as the transformers before this one left it.
    pub fn view(&self) -> &SpanView<'a> {
        self.view
    }

    /// Sets an attribute, replacing one with the same key.
    pub fn set_attribute<'v>(&mut self, key: &str, value: impl Into<Value<'v>>) {
        self.editor.set_attribute(key.into(), value.into());
    }

    /// [`EndingSpan::set_attribute`] with a value the plugin owns.
    pub fn set_owned_attribute(&mut self, key: &str, value: &OwnedValue) {
        value.with_value(|value| self.editor.set_attribute(key.into(), value));
    }

    /// Removes the attribute with this key, if there is one.
    pub fn remove_attribute(&mut self, key: &str) {
        self.editor.remove_attribute(key.into());
    }

    /// Sets an attribute of the event at `event` (an index into the view's events).
    pub fn set_event_attribute<'v>(
        &mut self,
        event: usize,
        key: &str,
        value: impl Into<Value<'v>>,
    ) {
        self.editor
            .set_event_attribute(event, key.into(), value.into());
    }

    /// Removes an attribute of the event at `event` (an index into the view's events).
    pub fn remove_event_attribute(&mut self, event: usize, key: &str) {
        self.editor.remove_event_attribute(event, key.into());
    }

    /// Renames the span.
    pub fn set_name(&mut self, name: &str) {
        self.editor.set_name(name.into());
    }

    /// Replaces the status description (kept only for `StatusCode::ERROR`).
    pub fn set_status_description(&mut self, description: &str) {
        self.editor.set_status_description(description.into());
    }

    /// The editor's probe method: [`crate::PROBE_ABSENT`] from a host built without it.
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub fn editor_probe(&self) -> u32 {
        self.editor.next_minor_probe()
    }

    /// No processor after this one exports the span.
    pub fn drop_span(&mut self) {
        self.editor.drop_span();
    }
}

/// The span as read; the host's editor is a vtable with nothing to show.
impl fmt::Debug for EndingSpan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndingSpan")
            .field("view", self.view)
            .finish_non_exhaustive()
    }
}
