//! The spanplug host: loads span-processor plugins named in a service's tracing
//! config and installs them into an `opentelemetry_sdk` tracer provider.
//!
//! ```no_run
//! use opentelemetry::trace::{Tracer, TracerProvider as _};
//!
//! let config = spanplug_host::TracingConfig::from_yaml_file("service.yaml")?
//!     .with_service_name("api-gateway");
//! let guard = spanplug_host::init(config)?;
//! guard.tracer("my-app").in_span("handle", |_cx| { /* work */ });
//! guard.shutdown()?; // or drop the guard: every processor is flushed either way
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chain;
pub mod config;
mod elf;
pub mod error;
mod guard;
mod host_facts;
#[cfg(feature = "reqwest")]
pub mod http_client;
#[cfg(feature = "axum")]
pub mod http_server;
pub mod import_path;
pub mod install;
pub mod loader;
pub mod pipeline;
mod plugin_log;
pub mod plugins;
pub mod propagation;
pub mod request_context;
pub mod spans_file;
pub mod stderr_log;
pub mod tree;
pub mod trust;
pub mod view;
pub mod waterfall;

pub use config::{OnError, Propagator, TracingConfig};
pub use error::{ConfigError, InitError, LoadError};
pub use guard::{init, ShutdownError, TracingGuard};
pub use pipeline::{InstalledPlugin, PluginPipeline};
pub use request_context::RequestContext;
