//! `otlp_http`: OTLP/HTTP export of spans, with presets for Datadog, Honeycomb and
//! Jaeger. `on_end` only copies the span into a bounded queue; a thread owned by the
//! plugin batches, encodes (protobuf or JSON, optionally gzip), sends with retries,
//! and accounts for every span: delivered, dropped (queue full), failed or rejected.
//!
//! Settings follow the OpenTelemetry spec's names and defaults
//! (`OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`); the same settings can come from
//! `exporter_config` under lower-case names (`endpoint`, `headers`, `timeout`,
//! `protocol`, `compression`, `certificate`, `client_certificate`, `client_key`,
//! `schedule_delay`, `max_queue_size`, `max_export_batch_size`, `export_timeout`),
//! and the environment wins.

#![warn(missing_docs)]

pub mod encode;
pub mod settings;
pub mod transport;
pub mod worker;

use opentelemetry_proto::tonic::resource::v1::Resource;
use spanplug_api::{PluginContext, Processor};

use crate::settings::{Preset, Secret, Settings, OTLP};
use crate::worker::Exporter;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn start(settings: Settings, ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    let mut attributes = encode::key_values(ctx.resource_attributes());
    for (key, value) in &settings.resource_overrides {
        attributes.retain(|kv| kv.key != *key);
        attributes.push(encode::string_key_value(key, value));
    }
    let resource = Resource {
        attributes,
        ..Default::default()
    };
    let logger = ctx.logger();
    let exporter = Exporter::start(settings, resource, logger.clone())?;
    logger.info(&format!(
        "exporting to {}",
        spanplug_api::SpanProcessor::name(&exporter)
    ));
    Ok(vec![Processor::new(exporter)])
}

/// Factory `otlp`: plain OTLP/HTTP, configured as the OpenTelemetry spec says.
pub fn otlp(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    start(Settings::resolve(&OTLP, ctx)?, ctx)
}

/// Factory `datadog`: to a Datadog Agent; `DD_SERVICE`, `DD_ENV` and `DD_VERSION`
/// override resource attributes.
pub fn datadog(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    const DATADOG: Preset = Preset {
        default_endpoint: "http://localhost:4318",
        endpoint_env: None,
    };
    let mut settings = Settings::resolve(&DATADOG, ctx)?;
    for (var, attribute) in [
        ("DD_SERVICE", "service.name"),
        ("DD_ENV", "deployment.environment"),
        ("DD_VERSION", "service.version"),
    ] {
        if let Some(value) = env(var) {
            settings.resource_overrides.push((attribute.into(), value));
        }
    }
    start(settings, ctx)
}

/// Factory `honeycomb`: to Honeycomb, with the key from `HONEYCOMB_WRITE_KEY` (or
/// `HONEYCOMB_API_KEY`).
pub fn honeycomb(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    const HONEYCOMB: Preset = Preset {
        default_endpoint: "https://api.honeycomb.io",
        endpoint_env: Some("HONEYCOMB_API_ENDPOINT"),
    };
    let mut settings = Settings::resolve(&HONEYCOMB, ctx)?;
    match env("HONEYCOMB_WRITE_KEY").or_else(|| env("HONEYCOMB_API_KEY")) {
        Some(key) => {
            settings.headers.retain(|(name, _)| name != "x-honeycomb-team");
            settings.headers.push(("x-honeycomb-team".into(), Secret::new(key)));
        }
        None if settings.headers.iter().any(|(name, _)| name == "x-honeycomb-team") => {}
        None => {
            return Err("no Honeycomb API key: set HONEYCOMB_WRITE_KEY (or HONEYCOMB_API_KEY), or an x-honeycomb-team header in OTEL_EXPORTER_OTLP_HEADERS".into())
        }
    }
    if let Some(dataset) = env("HONEYCOMB_DATASET_NAME") {
        settings.default_header("x-honeycomb-dataset", Secret::new(dataset));
    }
    if let Some(service) = env("HONEYCOMB_SERVICE_NAME") {
        settings
            .resource_overrides
            .push(("service.name".into(), service));
    }
    start(settings, ctx)
}

/// Factory `jaeger`: to a Jaeger collector (`http://localhost:4318` by default).
pub fn jaeger(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    const JAEGER: Preset = Preset {
        default_endpoint: "http://localhost:4318",
        endpoint_env: None,
    };
    start(Settings::resolve(&JAEGER, ctx)?, ctx)
}
