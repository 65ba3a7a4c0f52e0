//! `context_enricher`: attributes stamped on spans as they start.
//!
//! - `serve_context` copies the host's request context (request_id, app, deployment,
//!   replica_id and any other keys the host set) onto every span, under
//!   `exporter_config.context_prefix` (default: none). It is the spanplug form of the
//!   `RayServeSpanProcessor` recipe. Facts about the process (`host.name`,
//!   `process.pid`, `container.id`, `k8s.*`) are on the resource, which the host
//!   builds once.
//! - `static_attributes` adds fixed `k=v,k2=v2` attributes from
//!   `exporter_config.static_attributes` and `SPANPLUG_ENRICH_ATTRIBUTES` (which wins
//!   per key; a value that is not UTF-8 is an error naming it).
//!
//! Each factory refuses keys of its entry's own `config` it does not read.

#![warn(missing_docs)]

mod enricher;

use spanplug_api::{OwnedValue, PluginContext, Processor};

use crate::enricher::Enricher;

/// Factory `serve_context`: copies the request context onto each span as it starts.
pub fn serve_context(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&["context_prefix"])?;
    let prefix = ctx.config_value("context_prefix").unwrap_or("").to_string();
    Ok(vec![Processor::new(Enricher {
        name: "context_enricher:serve_context",
        fixed: Vec::new(),
        context_prefix: Some(prefix),
    })])
}

/// Factory `static_attributes`: adds fixed attributes to each span as it starts.
pub fn static_attributes(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&["static_attributes"])?;
    let mut fixed: Vec<(String, OwnedValue)> = Vec::new();
    let sources = [
        (
            "exporter_config.static_attributes",
            ctx.config_value("static_attributes").map(String::from),
        ),
        (
            "SPANPLUG_ENRICH_ATTRIBUTES",
            spanplug_api::settings::env_var("SPANPLUG_ENRICH_ATTRIBUTES")?,
        ),
    ];
    for (source, text) in sources {
        for (key, value) in parse_pairs(source, text.as_deref().unwrap_or(""))? {
            fixed.retain(|(k, _)| *k != key);
            fixed.push((key, OwnedValue::from(value)));
        }
    }
    if fixed.is_empty() {
        return Err("no attributes: set exporter_config.static_attributes or SPANPLUG_ENRICH_ATTRIBUTES to k=v,k2=v2".into());
    }
    Ok(vec![Processor::new(Enricher {
        name: "context_enricher:static_attributes",
        fixed,
        context_prefix: None,
    })])
}

fn parse_pairs(source: &str, text: &str) -> Result<Vec<(String, String)>, String> {
    Ok(spanplug_api::settings::key_value_pairs(source, text)?
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect())
}

#[cfg(test)]
mod tests;
