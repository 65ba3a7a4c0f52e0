//! The processor behind both functions: fixed attributes, and optionally the request
//! context, set on every span as it starts.

use spanplug_api::{OwnedValue, RequestContextView, SpanProcessor, SpanView, StartingSpan};

/// Attributes every span gets, plus optionally the request context.
pub(crate) struct Enricher {
    pub name: &'static str,
    pub fixed: Vec<(String, OwnedValue)>,
    /// `Some(prefix)` copies the request context under that prefix.
    pub context_prefix: Option<String>,
}

impl SpanProcessor for Enricher {
    fn name(&self) -> String {
        self.name.to_string()
    }

    fn on_start(&self, span: &mut StartingSpan<'_>, request: &RequestContextView<'_>) {
        for (key, value) in &self.fixed {
            span.set_owned_attribute(key, value);
        }
        match self.context_prefix.as_deref() {
            None => {}
            Some("") => request
                .iter()
                .for_each(|(key, value)| span.set_attribute(key, value)),
            Some(prefix) => {
                let mut name = String::with_capacity(prefix.len() + 32);
                for (key, value) in request.iter() {
                    name.clear();
                    name.push_str(prefix);
                    name.push_str(key);
                    span.set_attribute(&name, value);
                }
            }
        }
    }

    fn on_end(&self, _span: &SpanView<'_>) {}
}
