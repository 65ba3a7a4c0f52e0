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
//! shared or in an entry's own `config`. An entry's own `config` wins over the
//! environment, which wins over `exporter_config` (the full order is in
//! [`settings`]); an entry's unknown keys are refused. A relative file setting from the
//! configuration (`certificate`, `client_certificate`, `client_key`) is taken against
//! the config file's folder (`PluginContext::config_dir`); one from a variable, against
//! the working folder.

#![warn(missing_docs)]

pub mod batch;
pub mod encode;
pub mod response;
pub mod settings;
pub mod transport;
pub mod worker;

use spanplug_api::{PluginContext, Processor};

use crate::batch::FactoryResource;
use crate::settings::{Preset, Settings, OTLP};
use crate::worker::Exporter;

fn start(settings: Settings, ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    let logger = ctx.logger();
    let resource = FactoryResource::new(ctx.resource_attributes());
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
        resource_envs: &[
            ("DD_SERVICE", "service.name"),
            ("DD_ENV", "deployment.environment"),
            ("DD_VERSION", "service.version"),
        ],
        ..OTLP
    };
    start(Settings::resolve(&DATADOG, ctx)?, ctx)
}

/// Factory `honeycomb`: to Honeycomb, with the key from `HONEYCOMB_WRITE_KEY` (or
/// `HONEYCOMB_API_KEY`).
pub fn honeycomb(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    const HONEYCOMB: Preset = Preset {
        default_endpoint: "https://api.honeycomb.io",
        endpoint_env: Some("HONEYCOMB_API_ENDPOINT"),
        header_envs: &[
            (
                "x-honeycomb-team",
                &["HONEYCOMB_WRITE_KEY", "HONEYCOMB_API_KEY"],
            ),
            ("x-honeycomb-dataset", &["HONEYCOMB_DATASET_NAME"]),
        ],
        resource_envs: &[("HONEYCOMB_SERVICE_NAME", "service.name")],
    };
    let settings = Settings::resolve(&HONEYCOMB, ctx)?;
    if !settings
        .headers
        .iter()
        .any(|(name, _)| name == "x-honeycomb-team")
    {
        return Err(match &settings.withheld {
            Some(withheld) => format!("no Honeycomb API key, it was withheld: {withheld}"),
            None => "no Honeycomb API key: set HONEYCOMB_WRITE_KEY (or HONEYCOMB_API_KEY), or an x-honeycomb-team header in the entry's headers or OTEL_EXPORTER_OTLP_HEADERS".into(),
        });
    }
    start(settings, ctx)
}

/// Factory `jaeger`: to a Jaeger collector (`http://localhost:4318` by default, as
/// the spec's).
pub fn jaeger(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    start(Settings::resolve(&OTLP, ctx)?, ctx)
}
