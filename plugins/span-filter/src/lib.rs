//! `span_filter:drop`: a transformer that drops spans matching any configured rule,
//! so the exporters after it never see them (health checks, noisy internal spans).
//!
//! Config keys, each a comma-separated list:
//! - `names`: globs on the span name (`GET /health*`);
//! - `attributes`: `key=glob` on string, number and boolean attribute values
//!   (`http.route=/health`, `http.response.status_code=404`);
//! - `status`: `unset`, `ok`, `error`;
//! - `kinds`: `server`, `client`, `internal`, `producer`, `consumer`.
//!
//! Dropped spans are counted and reported at shutdown. Processors before it in the
//! list, and those after it that saw the span start, still get `on_end`.

#![warn(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use spanplug_api::{
    EndingSpan, Logger, MetricsReport, PluginContext, Processor, SpanKind, SpanProcessor, SpanView,
    StatusCode, ValueRef,
};
use spanplug_glob::{list, Glob};

const KEYS: [&str; 4] = ["names", "attributes", "status", "kinds"];

/// The rules; a span matching any one is dropped.
#[derive(Debug, Default)]
pub struct Rules {
    names: Vec<Glob>,
    attributes: Vec<(String, Glob)>,
    statuses: Vec<StatusCode>,
    kinds: Vec<SpanKind>,
}

impl Rules {
    /// Parses the settings named in the crate docs.
    pub fn parse(setting: impl Fn(&str) -> Option<String>) -> Result<Rules, String> {
        let mut rules = Rules::default();
        let glob = |key: &str, text: &str| Glob::new(text).map_err(|e| format!("{key}: {e}"));
        for name in list(&setting("names").unwrap_or_default()) {
            rules.names.push(glob("names", name)?);
        }
        for rule in list(&setting("attributes").unwrap_or_default()) {
            let (key, pattern) = rule
                .split_once('=')
                .filter(|(key, _)| !key.trim().is_empty())
                .ok_or_else(|| format!("attributes: expected key=glob, got {rule:?}"))?;
            rules
                .attributes
                .push((key.trim().to_string(), glob("attributes", pattern.trim())?));
        }
        for status in list(&setting("status").unwrap_or_default()) {
            rules
                .statuses
                .push(match status.to_ascii_lowercase().as_str() {
                    "unset" => StatusCode::UNSET,
                    "ok" => StatusCode::OK,
                    "error" => StatusCode::ERROR,
                    _ => {
                        return Err(format!(
                            "status: unknown status {status:?}; valid: unset, ok, error"
                        ))
                    }
                });
        }
        for kind in list(&setting("kinds").unwrap_or_default()) {
            rules.kinds.push(match kind.to_ascii_lowercase().as_str() {
                "server" => SpanKind::SERVER,
                "client" => SpanKind::CLIENT,
                "internal" => SpanKind::INTERNAL,
                "producer" => SpanKind::PRODUCER,
                "consumer" => SpanKind::CONSUMER,
                _ => {
                    return Err(format!(
                        "kinds: unknown kind {kind:?}; valid: server, client, internal, producer, consumer"
                    ))
                }
            });
        }
        Ok(rules)
    }

    /// Whether no rule is set (the filter would drop nothing).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
            && self.attributes.is_empty()
            && self.statuses.is_empty()
            && self.kinds.is_empty()
    }

    /// Whether `span` matches any rule.
    pub fn matches(&self, span: &SpanView<'_>) -> bool {
        self.names.iter().any(|g| g.matches(span.name.as_str()))
            || self.statuses.contains(&span.status.code)
            || self.kinds.contains(&span.kind)
            || self.attributes.iter().any(|(key, glob)| {
                span.attribute(key).is_some_and(|value| match value.get() {
                    ValueRef::String(s) => glob.matches(s),
                    ValueRef::I64(i) => glob.matches(&i.to_string()),
                    ValueRef::Bool(b) => glob.matches(if b { "true" } else { "false" }),
                    ValueRef::F64(f) => glob.matches(&f.to_string()),
                    _ => false,
                })
            })
    }
}

/// The processor: drops what the rules match, counts it.
#[derive(Debug)]
pub struct SpanFilter {
    rules: Rules,
    dropped: AtomicU64,
    logger: Logger,
}

impl SpanFilter {
    /// A filter with these rules.
    pub fn new(rules: Rules, logger: Logger) -> Self {
        SpanFilter {
            rules,
            dropped: AtomicU64::new(0),
            logger,
        }
    }
}

impl SpanProcessor for SpanFilter {
    fn name(&self) -> String {
        "span_filter:drop".into()
    }

    fn needs_on_start(&self) -> bool {
        false
    }

    fn on_end(&self, _span: &SpanView<'_>) {}

    fn needs_on_end(&self) -> bool {
        false
    }

    fn transforms(&self) -> bool {
        true
    }

    fn transform(&self, span: &mut EndingSpan<'_>) {
        if self.rules.matches(span.view()) {
            span.drop_span();
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Self metrics: the spans its rules dropped (`error.type` `dropped_by_filter`); the
    /// spans it let through are not counted (that would cost every span an atomic add).
    fn report_metrics(&self, report: &mut MetricsReport<'_>) -> bool {
        report.component_types("span_filter", "");
        let dropped = self.dropped.load(Ordering::Relaxed);
        report.processed(Some("dropped_by_filter"), dropped);
        true
    }

    fn shutdown(&self, _timeout: Duration) -> Result<(), String> {
        let dropped = self.dropped.load(Ordering::Relaxed);
        self.logger
            .info(&format!("dropped {dropped} spans matching its rules"));
        Ok(())
    }
}

/// Factory `drop`: the filtering transformer; an error when no rule is configured.
pub fn drop(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&KEYS)?;
    let rules = Rules::parse(|key| ctx.config_value(key).map(String::from))?;
    if rules.is_empty() {
        return Err(format!(
            "no rules: set at least one of {} in the entry's config",
            KEYS.join(", ")
        ));
    }
    Ok(vec![Processor::new(SpanFilter::new(rules, ctx.logger()))])
}

#[cfg(test)]
mod tests;
