//! Per-request key-value context (request_id, app, deployment, replica_id, ...)
//! that `on_start` processors read: the analogue of Ray Serve's runtime context
//! used by the `RayServeSpanProcessor` recipe.
//!
//! It travels inside the OpenTelemetry [`Context`], so it follows the current span:
//! `attach` makes it current on this thread, `scope` carries it with a future across
//! threads and `.await` points (a task-local).

use std::future::Future;
use std::sync::Arc;

use opentelemetry::context::{Context, ContextGuard, FutureExt, WithContext};

/// Facts about the request being served (`request_id`, `app`, `deployment`, ...),
/// carried in the OpenTelemetry context, that `on_start` plugins such as
/// `context_enricher:serve_context` copy onto spans. Cheap to clone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestContext {
    entries: Arc<Vec<(String, String)>>,
}

impl RequestContext {
    /// An empty request context.
    pub fn new() -> Self {
        RequestContext::default()
    }

    /// Sets `key`, replacing an earlier value.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        let (key, value) = (key.into(), value.into());
        let entries = Arc::make_mut(&mut self.entries);
        match entries.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => entries.push((key, value)),
        }
        self
    }

    /// `key`'s value, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every key and value, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Whether no key is set.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The request context of the current OpenTelemetry context, if one is set.
    pub fn current() -> Option<RequestContext> {
        Context::map_current(|cx| cx.get::<RequestContext>().cloned())
    }

    /// Adds this request context to an OpenTelemetry context (keeping its span).
    pub fn to_context(&self, cx: &Context) -> Context {
        cx.with_value(self.clone())
    }

    /// Makes this the current request context on this thread until the guard drops.
    #[must_use = "the request context is detached when the guard drops"]
    pub fn attach(self) -> ContextGuard {
        Context::current().with_value(self).attach()
    }

    /// Runs `future` with this request context current whenever it is polled.
    pub fn scope<F: Future>(self, future: F) -> WithContext<F> {
        future.with_context(Context::current().with_value(self))
    }
}
