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
//! abi_stable checks every type reachable from the root module when a plugin loads,
//! with the host's view as the interface, and refuses an interface with more fields
//! or vtable methods than the plugin's ("too many fields"; measured loading a 0.2.0
//! plugin into a host whose [`PluginContextFields`] had one more field, which
//! `tests/tests/compatibility.rs` caught). Since a host only loads plugins of its own
//! minor or older, no type reachable from the root module may gain a field or a
//! method in a minor, prefix types included. (0.2.0's notes said prefix types and
//! vtables could grow in a minor: not so with this checker.)
//!
//! What a **minor** version may do:
//! - tell plugins something new through host settings: reserved `config` entries
//!   under [`HOST_SETTING_PREFIX`], read by new [`PluginContext`] methods (0.2.1's
//!   [`PluginContext::is_dry_run`]); a config file cannot set them;
//! - add constants to the open enums ([`SpanKind`], [`StatusCode`], [`ValueKind`],
//!   [`LogLevel`]: `u8` newtypes, so code built earlier sees an unknown value, and a
//!   [`Value`] of an unknown kind reads as [`ValueRef::Unsupported`]; a new value
//!   kind carries its data in payload members that exist today, two of them reserved
//!   for this, because abi_stable compares a union's members exactly);
//! - define new bits of [`SpanView::flags`];
//! - add plugin-side types, functions and methods that do not cross the boundary.
//!
//! What needs a **major** version: adding, changing, removing or reordering a field of
//! any type that crosses the boundary (prefix types and view structs alike) or a
//! method of a vtable ([`SpanProcessor`], [`SpanEditor`], [`AttributeSink`]), or
//! changing what a method means. The prefix types and vtable defaults still matter
//! across majors for hosts that check layouts differently, and cost nothing.
//!
//! The host maps values it cannot represent to [`ValueKind::UNSUPPORTED`] and counts
//! them; plugins must treat unknown kinds, enum values and flags as "not mine".

#![warn(missing_docs)]

#[macro_use]
mod open_enum;

pub mod edit;
pub mod files;
pub mod module;
pub mod panic;
pub mod processor;
pub mod settings;
pub mod span;
pub mod text;

pub use abi_stable;
pub use edit::{AttributeSink, EndingSpan, SpanEditor, StartingSpan};
pub use module::{
    run_factory, Factory, FactoryRef, LogFn, LogLevel, Logger, PluginContext, PluginContextFields,
    PluginContextRef, PluginMod, PluginModRef, DRY_RUN_SETTING, HOST_SETTING_PREFIX,
};
pub use processor::{Processor, SpanProcessor};
pub use span::{
    find_value, Event, InstrumentationScope, KeyValue, Link, OwnedValue, RequestContextView,
    Resource, SpanContext, SpanId, SpanKind, SpanView, Status, StatusCode, StrPair, TraceId, Value,
    ValueKind, ValueRef,
};

/// The version of this interface crate, as recorded in every plugin's library header.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
