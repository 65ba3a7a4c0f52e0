//! The stable ABI between a spanplug host and its span-processor plugins.
//!
//! A plugin is a `cdylib` that depends only on this crate. It implements
//! [`SpanProcessor`], wraps instances in [`Processor`], and exports named factories
//! with [`export_plugin!`]. The host loads it with abi_stable, which checks at load
//! time that both sides agree on every type's layout and on this crate's version.
//!
//! # Versioning
//!
//! This crate follows semver as cargo reads it: in `0.y.z`, `y` is the major and `z`
//! the minor version.
//! - A plugin built against `0.1.z` loads in any host built against `0.1.z'` with
//!   `z' >= z` (checked by abi_stable from the version strings in the library header).
//! - Compatible additions only grow prefix types at their end: fields after
//!   `factories` in [`PluginMod`], methods after `shutdown` in the processor vtable.
//! - The span views are plain `#[repr(C)]` structs and enums; changing them, or any
//!   other layout, is a new `y`, and the host then rejects older plugins with both
//!   versions in the error.

pub mod module;
pub mod panic;
pub mod processor;
pub mod span;

pub use abi_stable;
pub use module::{
    run_factory, Factory, FactoryFn, LogFn, LogLevel, Logger, PluginContext, PluginMod,
    PluginModRef,
};
pub use processor::{Processor, SpanProcessor};
pub use span::{
    find_value, Event, InstrumentationScope, KeyValue, Link, OwnedKeyValue, OwnedValue,
    RequestContextView, Resource, SpanContext, SpanId, SpanKind, SpanView, StartingSpan, Status,
    StatusCode, StrPair, TraceId, Value,
};

/// The version of this interface crate, as recorded in every plugin's library header.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");
