//! The services of the multi-service example, each run as its own process: a proxy
//! (HTTP ingress) and the deployments APIGateway, UserService, DatabaseService and
//! NotificationService, calling each other over loopback HTTP with the trace
//! context propagated. Span names follow Ray Serve's (`proxy_http_request`,
//! `proxy_route_to_replica`, `replica_handle_request`) plus one application span per
//! handler, so the trees match Ray's multi-service tracing example.
//!
//! What it shows, read top-down: [`serve`] sets tracing up from a service YAML with
//! `spanplug_sdk::init` and flushes it on SIGTERM (`serve.rs`); each service's
//! routes sit behind `TraceLayer`, which continues an incoming trace (`handlers.rs`);
//! a call to another service is a CLIENT span whose context travels in the request
//! (`calls.rs`); [`Deployment`] starts the five processes and collects what their
//! exporters report at shutdown (`deployment.rs`); [`check_factories`] calls every
//! factory in dry-run before any process starts and [`span_files_since`] finds the
//! span files wherever the entries sent them (`preflight.rs`); [`Role`] says who calls
//! whom (`role.rs`).

mod calls;
mod deployment;
mod handlers;
mod preflight;
mod role;
mod serve;

pub use deployment::Deployment;
pub use preflight::{check_factories, log_dirs, span_files_since};
pub use role::Role;
pub use serve::{serve, ServeArgs};
