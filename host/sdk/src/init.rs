//! `init`: config in, a running tracer provider out, and the guard that flushes it.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::global;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};
use thiserror::Error;

use spanplug_config::{Propagator, SpanLimitsSpec, TracingConfig};
use spanplug_loader::InstalledPlugin;
use spanplug_self_metrics::SelfMetrics;

use crate::error::InitError;
use crate::from_file::{self, FileSampler};

use spanplug_api::sync::lock;

use crate::processor::SpanplugProcessor;
use crate::propagation;

/// Some processor could not flush or shut down in time, or lost spans; the message
/// names each.
#[derive(Debug, Error)]
#[error("tracing flush/shutdown incomplete: {0}")]
pub struct ShutdownError(String);

/// Owns the tracer provider. Dropping it (or calling [`TracingGuard::shutdown`])
/// flushes and shuts down every processor within the configured deadline.
#[derive(Debug)]
pub struct TracingGuard {
    provider: SdkTracerProvider,
    enabled: bool,
    plugins: Vec<InstalledPlugin>,
    shutdown_timeout: Duration,
    shut_down: bool,
    processor_errors: Arc<Mutex<Option<String>>>,
    /// Shut down after the tracer provider, so its last export has the final figures.
    self_metrics: Option<SelfMetrics>,
}

/// Sets up tracing from `config` (after applying environment overrides): loads every
/// plugin in `exporter_import_path`, installs their processors in order into a new
/// tracer provider, makes it the global provider, and installs the W3C trace-context
/// and baggage propagators.
pub fn init(config: TracingConfig) -> Result<TracingGuard, InitError> {
    let config = config.with_env_overrides()?;
    let resource = crate::resource(&config);
    if !config.enabled {
        log::info!("tracing is disabled (tracing_config.enabled / SPANPLUG_TRACING_ENABLED, or the config file's disabled / no tracer_provider)");
        let provider = SdkTracerProvider::builder()
            .with_sampler(Sampler::AlwaysOff)
            .with_resource(resource)
            .build();
        return Ok(TracingGuard {
            provider,
            enabled: false,
            plugins: Vec::new(),
            shutdown_timeout: config.shutdown_timeout,
            shut_down: false,
            processor_errors: Arc::default(),
            self_metrics: None,
        });
    }

    let self_metrics = SelfMetrics::start(config.self_metrics.as_ref(), resource.clone())?;
    let mut processor = SpanplugProcessor::load(&config, &resource)?;
    if let Some(metrics) = &self_metrics {
        metrics.watch(processor.components());
        processor = processor.with_span_counts(metrics.span_counts());
    }
    let plugins = processor.plugins().to_vec();
    let processor_errors = processor.error_slot();
    let mut builder = SdkTracerProvider::builder();
    builder = match &config.sampler {
        Some(spec) => builder.with_sampler(FileSampler::new(spec)),
        None => builder.with_sampler(crate::sampler(&config)),
    };
    if config.span_limits != SpanLimitsSpec::default() {
        builder = builder.with_span_limits(from_file::span_limits(&config.span_limits));
    }
    let provider = builder
        .with_resource(resource)
        .with_span_processor(processor)
        .build();
    global::set_tracer_provider(provider.clone());
    install_propagator(config.propagators.as_deref());
    Ok(TracingGuard {
        provider,
        enabled: true,
        plugins,
        shutdown_timeout: config.shutdown_timeout,
        shut_down: false,
        processor_errors,
        self_metrics,
    })
}

/// `OTEL_PROPAGATORS` when set; otherwise W3C trace context and baggage, unless the
/// application installed a propagator of its own, which is kept. The default global
/// propagator injects no fields; one whose fields differ from what an earlier `init`
/// installed is the application's.
fn install_propagator(configured: Option<&[Propagator]>) {
    static INSTALLED_FIELDS: Mutex<Option<Vec<String>>> = Mutex::new(None);
    let fields =
        || global::get_text_map_propagator(|p| p.fields().map(str::to_string).collect::<Vec<_>>());
    let mut ours = lock(&INSTALLED_FIELDS);
    let propagator = match configured {
        Some(names) => propagation::propagator_of(names),
        None => {
            let current = fields();
            if !current.is_empty() && ours.as_ref() != Some(&current) {
                log::info!("keeping the application's text-map propagator (set OTEL_PROPAGATORS to replace it)");
                return;
            }
            propagation::propagator()
        }
    };
    global::set_text_map_propagator(propagator);
    *ours = Some(fields());
}

impl TracingGuard {
    /// The processor's own message for an SDK error, when it left one.
    fn explain(&self, error: impl std::fmt::Display) -> ShutdownError {
        ShutdownError(
            lock(&self.processor_errors)
                .take()
                .unwrap_or_else(|| error.to_string()),
        )
    }

    /// The tracer provider `init` installed globally.
    pub fn provider(&self) -> &SdkTracerProvider {
        &self.provider
    }

    /// A tracer from this guard's provider (the same one installed globally).
    pub fn tracer(&self, name: impl Into<Cow<'static, str>>) -> SdkTracer {
        self.provider.tracer(name)
    }

    /// Whether tracing is on (`false` when the config or `OTEL_SDK_DISABLED` turned it off).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The plugins loaded, in config order, with what each factory returned.
    pub fn plugins(&self) -> &[InstalledPlugin] {
        &self.plugins
    }

    /// Flushes every processor; the error names those that failed.
    pub fn force_flush(&self) -> Result<(), ShutdownError> {
        self.provider.force_flush().map_err(|e| self.explain(e))
    }

    /// Flushes and shuts down every processor, waiting at most the configured
    /// shutdown timeout; the error says which processors lost spans or timed out.
    pub fn shutdown(mut self) -> Result<(), ShutdownError> {
        self.shut_down_once()
    }

    fn shut_down_once(&mut self) -> Result<(), ShutdownError> {
        if std::mem::replace(&mut self.shut_down, true) {
            return Ok(());
        }
        let traces = self
            .provider
            .shutdown_with_timeout(self.shutdown_timeout)
            .map_err(|e| self.explain(e));
        if let Some(metrics) = &self.self_metrics {
            if let Err(error) = metrics.shutdown() {
                log::warn!("self metrics: the last export failed: {error}");
            }
        }
        traces
    }

    /// A `tracing` layer that turns `tracing` spans into spans of this provider.
    #[cfg(feature = "tracing-layer")]
    pub fn tracing_layer<S>(&self) -> tracing_opentelemetry::OpenTelemetryLayer<S, SdkTracer>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.tracer("spanplug"))
    }
}

impl Drop for TracingGuard {
    fn drop(&mut self) {
        if let Err(error) = self.shut_down_once() {
            log::error!("{error}");
        }
    }
}
