//! The stable ABI between a spanplug host and its span-processor plugins.
//!
//! A plugin is a `cdylib` that needs no other spanplug crate. It implements
//! [`SpanProcessor`], wraps instances in [`Processor`], and exports named factories
//! with [`export_plugin!`]. The host loads it with abi_stable, which checks at load
//! time that both sides agree on every type's layout; the host then checks this
//! crate's version as described below.
//!
//! # The span lifecycle a processor sees
//!
//! - `on_start` runs, in list order, for every span the sampler records (sampled or
//!   record-only), in processors whose `needs_on_start` is true. Attributes set there
//!   replace existing ones with the same key.
//! - When the span ends, the host first runs the *transformers* (processors whose
//!   `transforms` is true) in list order: each sees the span as the transformers
//!   before it left it, and may drop it, set or remove attributes (event attributes
//!   too), rename it and change its status description (kept for error spans only). A
//!   transformer that panics drops the span for the processors after it (its edits
//!   may be half done: a redactor fails closed). Then every
//!   processor's `on_end` runs, in list order, with the span as the transformers
//!   *before it in the list* left it: exporters read a borrowed view, never a copy.
//! - Symmetry: a processor that saw `on_start` for a span also gets `on_end` for it,
//!   record-only or dropped ones included; exporters export only spans for which
//!   [`SpanView::is_exportable`] holds (sampled and not dropped). A processor with
//!   `needs_on_start == false` sees only exportable spans.
//!
//! # Self metrics (since 0.3.1)
//!
//! A processor may report its own health for the host's `otel.sdk.*` metrics: it
//! implements [`SpanProcessor::report_metrics`] (cumulative counters and gauges the host
//! polls at collection time, written into a [`MetricsReport`]) and, if it exports,
//! keeps the [`DurationRecorder`] the host hands it through
//! [`SpanProcessor::attach_duration_recorder`]. See [`metrics`] for why the figures are
//! polled and only durations pushed. A plugin that reports nothing (any 0.3.0 plugin)
//! is still a component: the host counts the spans it hands over.
//!
//! # Versioning and growth
//!
//! In `0.y.z`, `y` is the major and `z` the minor version (cargo's semver reading).
//! A host loads a plugin of its own major built against any minor, older or newer:
//!
//! - **Older plugin, newer host**: the host checks layouts with the plugin's (older)
//!   view as the interface, so the host's extra fields and methods are allowed. What
//!   the plugin lacks runs the "not supported" default: a processor method added
//!   later runs its default body.
//! - **Newer plugin, older host**: the host's (older) view is the interface. The
//!   plugin sees what the host lacks as absent: context fields and services read
//!   `None`, host vtable methods run their default body, and
//!   [`PluginContext::host_api_version`] names the host. A plugin that cannot work
//!   without something newer says `requires_host = "0.y.z";` in
//!   [`export_plugin!`], and an older host refuses it, naming both versions and
//!   what it requires. Loading by default (rather than refusing every newer plugin)
//!   lets a plugin use a new capability where it exists and fall back elsewhere.
//! - **Another major**: refused, naming both versions (rebuild against this major).
//!
//! abi_stable still checks every type reachable from the root module, and its
//! version check stays on; only which side is the interface changes.
//!
//! What a **minor** version may add, each at one place, the end:
//! - fields of the prefix types after their `#[sabi(last_prefix_field)]`: the root
//!   module [`PluginMod`], [`Factory`], the factory context [`PluginContextFields`],
//!   the host services [`HostServices`] (new `extern "C"` functions), and the per-span
//!   extension tables [`SpanViewExt`] and [`StartingSpanExt`]; readers get `Option`;
//! - methods at the end of the vtables ([`SpanProcessor`]'s ABI, [`AttributeSink`],
//!   [`SpanEditor`]), each with a default body meaning "not supported";
//! - constants of the open enums ([`SpanKind`], [`StatusCode`], [`ValueKind`],
//!   [`LogLevel`]: `u8` newtypes, so older code sees an unknown value; a new
//!   [`Value`] kind reuses existing payload members), and bits of [`SpanView::flags`];
//! - plugin-side types, functions and methods that do not cross the boundary.
//!
//! What needs a **major** version: any change to a plain struct that crosses the
//! boundary ([`SpanView`], [`StartingSpan`], [`EndingSpan`], [`KeyValue`], ...: their
//! size and fields are compared exactly, hence the extension tables), to a union (the
//! [`Value`] payload), or to an exhaustive enum; adding a field or method *before* or
//! *at* a `last_prefix_field` (the prefix is compared exactly); a vtable method
//! without a default body (an older side that lacks it would have nothing to run);
//! removing, reordering, renaming or retyping a field or method; moving a
//! `last_prefix_field`; changing what a method or field means.
//!
//! The host maps values it cannot represent to [`ValueKind::UNSUPPORTED`] and counts
//! them; plugins must treat unknown kinds, enum values and flags as "not mine".
//!
//! The hidden `next-minor-probe` feature appends one member to every growable type
//! and reports the next minor's version: the compatibility tests build hosts and
//! plugins with and without it to prove both directions. The hidden
//! `_plain-struct-growth-probe` feature adds a field to [`SpanView`], which a minor may
//! not do: the tests check that a host refuses a plugin built with it. Never enable
//! either otherwise.

#![warn(missing_docs)]

#[macro_use]
mod open_enum;

pub mod context;
pub mod edit;
pub mod extension;
pub mod files;
pub mod metrics;
pub mod module;
pub mod panic;
pub mod processor;
pub mod settings;
pub mod span;
pub mod sync;
pub mod text;
pub mod tree;

pub use abi_stable;
pub use context::{
    with_context, ContextParts, HostServices, HostServicesRef, LogFn, LogLevel, Logger,
    PluginContext, PluginContextFields, PluginContextRef, HOST_SETTING_PREFIX,
};
pub use edit::{AttributeSink, EndingSpan, SpanEditor, StartingSpan};
pub use extension::{
    SpanViewExt, SpanViewExtRef, SpanViewExtStorage, StartingSpanExt, StartingSpanExtRef,
    StartingSpanExtStorage,
};
pub use metrics::{DurationRecorder, MetricsReport};
pub use module::{
    run_factory, CreateFn, Factory, FactoryRef, PluginMod, PluginModRef, MIN_HOST_OF_MAJOR,
};
pub use processor::{Processor, SpanProcessor};
pub use span::{
    find_value, Event, InstrumentationScope, KeyValue, Link, OwnedValue, RequestContextView,
    Resource, SpanContext, SpanId, SpanKind, SpanView, Status, StatusCode, StrPair, TraceId, Value,
    ValueKind, ValueRef,
};
pub use tree::{Setting, SettingKind, SettingNode, SettingTree, SettingValue};

/// The version of this interface crate, as recorded in every plugin's library header.
#[cfg(not(feature = "next-minor-probe"))]
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The probe build claims the next minor (a unit test keeps it one above the crate's).
#[cfg(feature = "next-minor-probe")]
pub const API_VERSION: &str = NEXT_MINOR_VERSION;

/// The version the next-minor probe claims: this crate's version, minor plus one.
#[doc(hidden)]
pub const NEXT_MINOR_VERSION: &str = "0.3.2";

/// What a probe member reads when the other side has it.
#[doc(hidden)]
pub const PROBE_PRESENT: u32 = 1;
/// What a probe method's default body (the other side lacks it) returns.
#[doc(hidden)]
pub const PROBE_ABSENT: u32 = 0;

#[cfg(test)]
mod tests {
    #[test]
    fn the_probe_claims_the_next_minor() {
        let patch: u32 = env!("CARGO_PKG_VERSION_PATCH").parse().unwrap();
        let expected = format!(
            "{}.{}.{}",
            env!("CARGO_PKG_VERSION_MAJOR"),
            env!("CARGO_PKG_VERSION_MINOR"),
            patch + 1
        );
        assert_eq!(super::NEXT_MINOR_VERSION, expected);
    }
}
