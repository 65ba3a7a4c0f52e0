//! spanplug for Rust services: takes a [`spanplug_config::TracingConfig`], has
//! [`spanplug_loader`] load the span-processor plugins it names, and installs them
//! into an `opentelemetry_sdk` tracer provider, with the W3C propagators. HTTP helpers
//! (axum, reqwest) are `spanplug-http`; the command-line tools are `spanplug-cli`.
//!
//! ```no_run
//! use opentelemetry::trace::{Tracer, TracerProvider as _};
//!
//! let config = spanplug_config::TracingConfig::from_yaml_file("service.yaml")?
//!     .with_service_name("api-gateway");
//! let guard = spanplug_sdk::init(config)?;
//! guard.tracer("my-app").in_span("handle", |_cx| { /* work */ });
//! guard.shutdown()?; // or drop the guard: every processor is flushed either way
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

mod error;
mod from_config;
mod from_file;
mod host_facts;
mod init;
mod processor;
pub mod propagation;
mod request_context;
pub mod span_view;
mod unix_time;

pub use error::{InitError, InitErrorKind};
pub use from_config::{resource, sampler};
pub use init::{init, ShutdownError, TracingGuard};
pub use processor::SpanplugProcessor;
pub use request_context::RequestContext;
// The loader's types (`LoadError`, `InstalledPlugin`, ...) are `loader::…`.
pub use spanplug_loader as loader;
