//! `spanplug-loader`: everything between an `exporter_import_path` entry and running
//! plugin processors, with no tracing SDK in sight.
//!
//! It resolves `module:function` on the plugin search path, refuses files others
//! could have written (as `ld.so` does in secure mode), checks SHA-256 pins and the
//! ELF header on one open descriptor, loads that descriptor, checks the interface
//! version, and calls the factory on its own thread with a timeout. Then it runs the
//! processors over `spanplug-api` span views in list order: `on_start`, the transform
//! chain, `on_end`, flush and shutdown with deadlines, and reports of failures and
//! slow calls.
//!
//! Why a crate of its own: every front end runs the same plugins the same way, over
//! views the loader builds ([`span`]): `spanplug-sdk` lends its `opentelemetry_sdk`
//! spans as they are ([`span::SpanSource`]); the Python bridge fills a
//! [`span::SpanRecord`] from the Python SDK's fields.

#![warn(missing_docs)]

// The loading path's types are at the root; `env`, `span`, `stderr_log` and
// `trust` are subsystems a front end uses by module.
mod chain;
mod component;
pub mod counters;
mod elf;
mod entry;
pub mod env;
mod error;
mod factory;
mod import_path;
mod layout_report;
mod library;
mod plugin_log;
#[cfg(feature = "next-minor-probe")]
mod probe;
pub mod span;
mod stages;
pub mod stderr_log;
pub mod trust;
mod version;

pub use component::{component_names, component_types, Component, PLUGIN_PANIC};
pub use elf::check_shared_object;
pub use entry::{ConfigMap, OnError, ProcessorEntry};
pub use error::{LoadError, LoadErrorKind};
pub use factory::{check_pin, load_import_path, FactoryInput, LoadedProcessors, Pins};
pub use import_path::{ImportPath, ModuleRef};
pub use library::{Plugin, PluginSearchPath, PLUGIN_PATH_VAR};
pub use stages::{InstalledPlugin, LoadPlan, Stages};
