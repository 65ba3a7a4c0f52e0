//! `valgrind --tool=callgrind spanplug-bench profile <case> [count]`: one path,
//! to see where the instructions of a span go.

use anyhow::bail;
use opentelemetry_sdk::trace::Sampler;
use spanplug_bench::{run_spans, NativeNoop};
use spanplug_sdk::RequestContext;
use spanplug_tests::otlp_receiver::Receiver;

use super::setup::{
    native_provider, otlp_sdk_provider, plugin_provider, tempfile_dir, NativeEnricher,
};

/// Ends `count` spans through the `case` path.
pub(crate) fn profile(case: &str, count: u64) -> anyhow::Result<()> {
    let receiver = Receiver::start();
    let endpoint = receiver.base_url();
    let dir = tempfile_dir("profile")?;
    let otlp = [
        ("endpoint", endpoint.as_str()),
        ("max_queue_size", "1000000"),
        ("log_dir", dir.to_str().unwrap_or("/tmp")),
    ];
    let self_metrics = case
        .ends_with("+self-metrics")
        .then(|| super::self_metrics::start(&receiver))
        .transpose()?;
    let provider = match case {
        "native-noop" => native_provider(NativeNoop, Sampler::AlwaysOn),
        "plugin-noop+self-metrics" => {
            super::self_metrics::provider("bench_noop:noop", self_metrics.as_ref())?
        }
        "plugin-reporting" => super::self_metrics::provider("bench_noop:reporting", None)?,
        "plugin-reporting+self-metrics" => {
            super::self_metrics::provider("bench_noop:reporting", self_metrics.as_ref())?
        }
        "plugin-noop" => plugin_provider(&["bench_noop:noop"], &[], Sampler::AlwaysOn)?,
        "console_file" => plugin_provider(
            &["console_file:default_tracing_exporter"],
            &otlp,
            Sampler::AlwaysOn,
        )?,
        "otlp_http" => plugin_provider(&["otlp_http:otlp"], &otlp, Sampler::AlwaysOn)?,
        "enricher+otlp_http" => plugin_provider(
            &["context_enricher:serve_context", "otlp_http:otlp"],
            &otlp,
            Sampler::AlwaysOn,
        )?,
        "chain+otlp_http" => plugin_provider(
            &["span_filter:drop", "redact:attributes", "otlp_http:otlp"],
            &[otlp[0], otlp[1], otlp[2], ("names", "GET /health*")],
            Sampler::AlwaysOn,
        )?,
        "native-enricher+otlp" => otlp_sdk_provider(
            &endpoint,
            1_000_000,
            Sampler::AlwaysOn,
            Some(Box::new(NativeEnricher)),
        )?,
        other => bail!("unknown case {other}"),
    };
    let _request = RequestContext::new()
        .with("request_id", "0af7651916cd43dd")
        .with("app", "default")
        .attach();
    run_spans(&provider, count, false);
    let _ = provider.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
