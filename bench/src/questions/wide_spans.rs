//! `spanplug-bench wide-spans [N...]`: `Span::end()` on the application thread for
//! one span of each width through the no-op plugin, span limits raised to let every
//! attribute in; half of them repeat a key, so the host's key de-duplication has
//! work to do. `median (min–max)` of 3.

use std::fmt;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span as _, Tracer as _, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::SdkTracerProvider;
use spanplug_sdk::SpanplugProcessor;

use super::setup::{plugin_config, resource};

/// Per width, the three times sorted.
#[derive(Debug)]
pub(crate) struct WideSpans {
    rows: Vec<(u32, [Duration; 3])>,
}

pub(crate) fn measure(widths: &[u32]) -> anyhow::Result<WideSpans> {
    let widest = widths.iter().copied().max().unwrap_or(0);
    let processor =
        SpanplugProcessor::load(&plugin_config(&["bench_noop:noop"], &[]), &resource())?;
    let provider = SdkTracerProvider::builder()
        .with_max_attributes_per_span(widest)
        .with_span_processor(processor)
        .build();
    let tracer = provider.tracer("bench");
    let end_one = |width: u32| {
        let mut span = tracer.start("wide");
        for i in 0..width {
            let key = format!("attribute.{}", i % width.div_ceil(2));
            span.set_attribute(KeyValue::new(key, i64::from(i)));
        }
        let started = Instant::now();
        span.end();
        started.elapsed()
    };
    let rows = widths
        .iter()
        .map(|&width| {
            let mut times = [end_one(width), end_one(width), end_one(width)];
            times.sort();
            (width, times)
        })
        .collect();
    Ok(WideSpans { rows })
}

impl fmt::Display for WideSpans {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| attributes | `Span::end()` |\n|---|---|")?;
        for (width, times) in &self.rows {
            writeln!(
                f,
                "| {width} | {:.2?} ({:.2?}–{:.2?}) |",
                times[1], times[0], times[2]
            )?;
        }
        Ok(())
    }
}
