//! Runs plugin processors over an ended span's view, in list order: first the
//! transformers (each sees what the ones before it left), then every `on_end` with the
//! span as the transformers before that processor left it. Works on `spanplug-api`
//! views only, so any front end that can build a [`SpanView`] can use it.
//!
//! A transformer's edits are recorded while it runs and applied when it returns, into
//! an overlay over the borrowed view: nothing is copied until a transformer changes
//! something, and exporters still read a borrowed view.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use spanplug_api::{EndingSpan, Processor, SpanView};

use crate::component::HandOver;

mod edits;
mod overlay;

use edits::{Edit, EditRecorder};
use overlay::{with_version, Overlay};

/// Attribute values seen that the interface cannot carry, since the process started.
static UNREPRESENTABLE: AtomicU64 = AtomicU64::new(0);

/// Counts one value the interface cannot carry (passed as `UNSUPPORTED` or ignored).
pub fn count_unrepresentable() {
    UNREPRESENTABLE.fetch_add(1, Ordering::Relaxed);
}

/// How many values [`count_unrepresentable`] has counted.
pub(crate) fn unrepresentable_values() -> u64 {
    UNREPRESENTABLE.load(Ordering::Relaxed)
}

/// A sampled `on_end` slower than this is reported: it runs on the application thread.
const SLOW_ON_END: Duration = Duration::from_millis(5);

/// One plugin processor and where it came from.
#[derive(Debug)]
pub(crate) struct Stage {
    pub(crate) import_path: String,
    pub(crate) name: String,
    pub(crate) processor: Processor,
    pub(crate) needs_on_start: bool,
    /// Whether `on_end` is called for spans the processor did not see start.
    needs_on_end: bool,
    pub(crate) transforms: bool,
    pub(crate) failures: AtomicU64,
    slow_calls: AtomicU64,
    /// `otel.component.name`, unique in the chain.
    pub(crate) component_name: String,
    pub(crate) hand_over: HandOver,
}

impl Stage {
    pub(crate) fn new(import_path: String, processor: Processor, component_name: String) -> Self {
        Stage {
            component_name,
            hand_over: HandOver::default(),
            import_path,
            name: processor.name(),
            needs_on_start: processor.needs_on_start(),
            needs_on_end: processor.needs_on_end(),
            transforms: processor.transforms(),
            processor,
            failures: AtomicU64::new(0),
            slow_calls: AtomicU64::new(0),
        }
    }

    /// A processor's `on_end` blocks the application thread that ends the span; say
    /// so (first, then every 100th slow sample).
    fn record_slow(&self, elapsed: Duration) {
        let count = self.slow_calls.fetch_add(1, Ordering::Relaxed) + 1;
        if count == 1 || count % 100 == 0 {
            log::warn!(
                "span processor {} ({}) is slow in on_end: {elapsed:?} on the application thread ({count} slow samples so far); processors must not block",
                self.name,
                self.import_path
            );
        }
    }

    /// Logs the first failure and then every 1000th, so a processor that panics on
    /// every span cannot flood the log.
    pub(crate) fn record_failure(&self, call: &str, error: &str) {
        let count = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if count == 1 || count % 1000 == 0 {
            log::error!(
                "span processor {} ({}) failed in {call} ({count} failures so far): {error}",
                self.name,
                self.import_path
            );
        }
    }

    /// Whether this stage gets `on_end` for a span; `hidden` spans (record-only or
    /// dropped) only reach the stages that saw them start.
    fn hears_end(&self, hidden: bool) -> bool {
        self.needs_on_start || (!hidden && self.needs_on_end)
    }

    fn on_end(&self, view: &SpanView<'_>, timed: bool) {
        let started = timed.then(Instant::now);
        let result = self.processor.on_end(view);
        self.hand_over.count(result.is_ok());
        if let Err(error) = result {
            self.record_failure("on_end", &error);
        }
        if let Some(elapsed) = started.map(|s| s.elapsed()).filter(|e| *e > SLOW_ON_END) {
            self.record_slow(elapsed);
        }
    }
}

/// Delivers an ended span to every stage. `timed` asks for `on_end` timings.
///
/// Record-only spans go through the transformers too (a processor after `redact`
/// must not see what it masks), but only the processors that saw `on_start` hear of
/// their end. A transformer that fails (panics) drops the span for the processors
/// after it: its edits may be half done, and a redactor must fail closed.
pub(crate) fn deliver(stages: &[Stage], any_transformer: bool, base: &SpanView<'_>, timed: bool) {
    let record_only = !base.is_sampled();
    if !any_transformer {
        for stage in stages.iter().filter(|s| s.hears_end(record_only)) {
            stage.on_end(base, timed);
        }
        return;
    }
    // Each overlay with the index of the first stage whose `on_end` sees it; the
    // stages before the first one see `base`. No allocation until a transformer edits.
    let mut overlays: Vec<(usize, Overlay<'_>)> = Vec::new();
    for (index, stage) in stages.iter().enumerate() {
        let latest = overlays.last().map(|(_, o)| o);
        if !stage.transforms || latest.is_some_and(|o| o.dropped) {
            continue;
        }
        let mut editor = EditRecorder::default();
        let failed = with_version(base, latest, |view| {
            let mut ending = EndingSpan::new(view, &mut editor);
            let result = stage.processor.transform(&mut ending);
            if let Err(error) = &result {
                stage.record_failure("transform (the span is dropped)", error);
            }
            result.is_err()
        });
        if failed {
            editor.edits = vec![Edit::Drop];
        }
        if !editor.edits.is_empty() {
            let mut next = latest.cloned().unwrap_or_default();
            if let Err(error) = next.apply(base, editor.edits) {
                stage.record_failure("transform", &error);
            }
            overlays.push((index + 1, next));
        }
    }
    let mut from = 0;
    for version in 0..=overlays.len() {
        let until = overlays
            .get(version)
            .map_or(stages.len(), |(start, _)| *start);
        let overlay = version.checked_sub(1).map(|v| &overlays[v].1);
        let hidden = record_only || overlay.is_some_and(|o| o.dropped);
        with_version(base, overlay, |view| {
            for stage in stages[from..until].iter().filter(|s| s.hears_end(hidden)) {
                stage.on_end(view, timed);
            }
        });
        from = until;
    }
}
