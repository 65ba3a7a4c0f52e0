//! A test kit for spanplug plugin authors, as OpenTelemetry SDKs ship in-memory
//! exporters and test providers: build spans and a factory's context in a test, run
//! the factory and its processors natively through the host's own processor chain,
//! read what an exporter listed after them received and what they logged, and load
//! the built `.so` through the real loader in one call.
//!
//! ```no_run
//! use spanplug_plugin_test::{TestContext, TestSpan};
//! # fn span_log(_: &spanplug_api::PluginContext<'_>) -> Result<Vec<spanplug_api::Processor>, String> { Ok(vec![]) }
//!
//! // Natively: the factory function itself, from a unit test of the plugin crate.
//! let ctx = TestContext::new("audit:span_log").config("file", "/tmp/spans.jsonl");
//! let pipeline = ctx.run(span_log).unwrap();
//! pipeline.end(&TestSpan::new("GET /orders").duration_ms(250));
//! pipeline.shutdown().unwrap();
//! assert!(pipeline.logs().iter().all(|line| !line.starts_with("ERROR")));
//!
//! // The built library, through the loader a service uses (search, trust, ELF and
//! // version checks, the factory on its own thread), from an integration test.
//! let loaded = ctx.load_built().unwrap();
//! assert_eq!(loaded.processor_names(), ["span_log(/tmp/spans.jsonl)"]);
//! ```
//!
//! A plugin crate that wants both builds as `crate-type = ["cdylib", "rlib"]` and
//! takes this crate as a dev-dependency (`spanplug new-plugin` writes both).

#![warn(missing_docs)]

mod context;
mod exported;
mod host_log;
mod pipeline;
mod span;

pub use context::{built_library, TestContext};
pub use exported::ExportedSpan;
pub use host_log::host_log_lines;
pub use pipeline::Pipeline;
pub use span::TestSpan;

#[cfg(test)]
mod tests;
