//! spanplug over HTTP: the current trace context as `http::HeaderMap` headers
//! (through the global propagator `spanplug_sdk::init` installs), a tower layer and a
//! hardened server for axum (feature `axum`), and trace-context headers on reqwest
//! requests (feature `reqwest`).
//!
//! ```no_run
//! # #[cfg(feature = "axum")]
//! # async fn run() -> std::io::Result<()> {
//! use axum::{routing::get, Router};
//! use spanplug_http::server::{serve, ServeLimits, TraceLayer};
//!
//! let app = Router::new()
//!     .route("/items", get(|| async { "ok" }))
//!     .route_layer(TraceLayer::new().with_context("app", "shop"));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
//! serve(listener, app, std::future::pending(), ServeLimits::default()).await;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

#[cfg(feature = "reqwest")]
pub mod client;
mod headers;
#[cfg(feature = "axum")]
pub mod server;

pub use headers::{extract, get_trace_context, inject};
