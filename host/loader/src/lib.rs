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

pub mod chain;
mod elf;
pub mod entry;
pub mod env;
pub mod error;
pub mod factory;
pub mod import_path;
mod layout_report;
pub mod library;
pub mod pipeline;
mod plugin_log;
#[cfg(feature = "next-minor-probe")]
mod probe;
pub mod span;
pub mod stderr_log;
pub mod trust;
mod version;

pub use elf::check_shared_object;
pub use entry::{ConfigMap, ExporterEntry, OnError};
pub use error::{LoadError, LoadErrorKind};
pub use factory::{load_import_path, FactoryInput, LoadedProcessors, Pins};
pub use library::{Plugin, PluginSearchPath};
pub use pipeline::{InstalledPlugin, LoadPlan, Stages};
