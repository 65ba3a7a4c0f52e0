//! `otel.sdk.span.started` and `otel.sdk.span.live`, counted where spans start and
//! end: an add into the application thread's own shard (no locked instruction), summed
//! at collection time.

use spanplug_loader::counters::Counters;

/// `otel.span.parent.origin`: where a starting span's parent is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParentOrigin {
    /// A root span.
    None,
    /// The parent is in this process.
    Local,
    /// The parent came from another process (a propagated context).
    Remote,
}

impl ParentOrigin {
    pub(crate) const ALL: [ParentOrigin; 3] = [
        ParentOrigin::None,
        ParentOrigin::Local,
        ParentOrigin::Remote,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ParentOrigin::None => "none",
            ParentOrigin::Local => "local",
            ParentOrigin::Remote => "remote",
        }
    }
}

/// `otel.span.sampling_result` values a span processor can see (the SDK calls no
/// processor for a `DROP`ped span, so none is counted).
pub(crate) const SAMPLING_RESULTS: [&str; 2] = ["RECORD_AND_SAMPLE", "RECORD_ONLY"];

/// Spans started (by sampling result and parent origin: slots 0–5) and ended (by
/// sampling result: slots 6–7) since the pipeline started.
#[derive(Debug, Default)]
pub struct SpanCounts {
    counts: Counters,
}

/// The slot of spans ended with sampling result `result`.
const ENDED: usize = 6;

impl SpanCounts {
    /// One span started; `sampled` is `RECORD_AND_SAMPLE` (else `RECORD_ONLY`).
    #[inline]
    pub fn started(&self, sampled: bool, origin: ParentOrigin) {
        self.counts.add(usize::from(!sampled) * 3 + origin as usize);
    }

    /// One span ended.
    #[inline]
    pub fn ended(&self, sampled: bool) {
        self.counts.add(ENDED + usize::from(!sampled));
    }

    /// Spans started with sampling result `result` (index into [`SAMPLING_RESULTS`])
    /// and parent `origin`.
    pub(crate) fn started_count(&self, result: usize, origin: ParentOrigin) -> u64 {
        self.counts.sum(result * 3 + origin as usize)
    }

    /// Spans started and not yet ended, for sampling result `result`.
    pub(crate) fn live(&self, result: usize) -> i64 {
        let started: u64 = ParentOrigin::ALL
            .iter()
            .map(|origin| self.started_count(result, *origin))
            .sum();
        let ended = self.counts.sum(ENDED + result);
        // Read apart, so an end may be seen before its start: never report below zero.
        i64::try_from(started.saturating_sub(ended)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn started_counts_by_result_and_origin_and_live_is_started_minus_ended() {
        let counts = SpanCounts::default();
        counts.started(true, ParentOrigin::None);
        counts.started(true, ParentOrigin::Remote);
        counts.started(false, ParentOrigin::Local);
        counts.ended(true);
        assert_eq!(counts.started_count(0, ParentOrigin::None), 1);
        assert_eq!(counts.started_count(0, ParentOrigin::Remote), 1);
        assert_eq!(counts.started_count(0, ParentOrigin::Local), 0);
        assert_eq!(counts.started_count(1, ParentOrigin::Local), 1);
        assert_eq!((counts.live(0), counts.live(1)), (1, 1));
        // An end seen before its start never reads as a negative count.
        counts.ended(false);
        counts.ended(false);
        assert_eq!(counts.live(1), 0);
    }
}
