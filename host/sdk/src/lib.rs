//! spanplug for Rust services: reads the `tracing_config` of a service, has
//! [`spanplug_loader`] load the span-processor plugins it names, and installs them
//! into an `opentelemetry_sdk` tracer provider, with W3C propagation and helpers for
//! axum servers and reqwest clients. The command-line tools are `spanplug-cli`.
//!
//! ```no_run
//! use opentelemetry::trace::{Tracer, TracerProvider as _};
//!
//! let config = spanplug_sdk::TracingConfig::from_yaml_file("service.yaml")?
//!     .with_service_name("api-gateway");
//! let guard = spanplug_sdk::init(config)?;
//! guard.tracer("my-app").in_span("handle", |_cx| { /* work */ });
//! guard.shutdown()?; // or drop the guard: every processor is flushed either way
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod config;
pub mod error;
mod host_facts;
#[cfg(feature = "reqwest")]
pub mod http_client;
#[cfg(feature = "axum")]
pub mod http_server;
mod init;
pub mod pipeline;
pub mod propagation;
pub mod request_context;
pub mod span_view;
pub mod stderr_log;
mod unix_time;

pub use config::{OnError, Propagator, TracingConfig};
pub use error::{ConfigError, ConfigErrorKind, InitError, InitErrorKind, LoadError, LoadErrorKind};
pub use init::{init, ShutdownError, TracingGuard};
pub use pipeline::PluginPipeline;
pub use request_context::RequestContext;
pub use spanplug_loader::{self as loader, InstalledPlugin};
