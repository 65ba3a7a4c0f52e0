//! The stable ABI between a spanplug host and its span-processor plugins.
//!
//! A plugin is a `cdylib` that depends only on this crate. It implements
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
//! # Versioning and evolution
//!
//! In `0.y.z`, `y` is the major and `z` the minor version (cargo's semver reading).
//! The host loads a plugin built against `0.y.z` when the host is `0.y.z'` with
//! `z' >= z`; a plugin built against a newer minor than the host, or another major, is
//! refused with both versions in the error. abi_stable additionally checks every
//! type's layout.
//!
//! What a **minor** version may do:
//! - add fields at the end of a prefix type ([`PluginMod`] after `factories`,
//!   [`Factory`] after `transforms`, [`PluginContextFields`] after `dry_run`); readers
//!   built against an older version see them as `None` (never a panic). A host that
//!   builds such a struct with a literal adds the field when it upgrades
//!   (cargo-semver-checks reports this as a warning, not a failure);
//! - add methods at the end of a vtable ([`SpanProcessor`]'s ABI after `shutdown`,
//!   [`SpanEditor`] after `drop_span`, [`AttributeSink`] after `set_attribute`), each
//!   with a default body that runs when the other side predates it;
//! - add constants to the open enums ([`SpanKind`], [`StatusCode`], [`ValueKind`],
//!   [`LogLevel`]: `u8` newtypes, so code built earlier sees an unknown value, and a
//!   [`Value`] of an unknown kind reads as [`ValueRef::Unsupported`]; a new value
//!   kind carries its data in payload members that exist today, two of them reserved
//!   for this, because abi_stable compares a union's members exactly);
//! - define new bits of [`SpanView::flags`];
//! - add new types and functions.
//!
//! What needs a **major** version: changing or removing anything above, adding a
//! field to a view struct ([`SpanView`], [`Event`], [`Link`], [`KeyValue`],
//! [`StartingSpan`], ...; they are fixed `#[repr(C)]` layouts so that building them
//! costs nothing), reordering fields or methods, or changing what a method means.
//!
//! The host maps values it cannot represent to [`ValueKind::UNSUPPORTED`] and counts
//! them; plugins must treat unknown kinds, enum values and flags as "not mine".

#[macro_use]
mod open_enum;

pub mod edit;
pub mod module;
pub mod panic;
pub mod processor;
pub mod span;

pub use abi_stable;
pub use edit::{AttributeSink, EndingSpan, SpanEditor, StartingSpan};
pub use module::{
    run_factory, Factory, FactoryRef, LogFn, LogLevel, Logger, PluginContext, PluginContextFields,
    PluginContextRef, PluginMod, PluginModRef,
};
pub use processor::{Processor, SpanProcessor};
pub use span::{
    find_value, Event, InstrumentationScope, KeyValue, Link, OwnedValue, RequestContextView,
    Resource, SpanContext, SpanId, SpanKind, SpanView, Status, StatusCode, StrPair, TraceId, Value,
    ValueKind, ValueRef,
};

/// The version of this interface crate, as recorded in every plugin's library header.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
