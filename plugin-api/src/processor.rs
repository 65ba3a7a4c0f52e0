//! The processor interface: a Rust trait for plugin authors and the FFI-safe
//! trait object the host calls through.

use std::fmt;
use std::mem::ManuallyDrop;
use std::time::Duration;

use abi_stable::{
    sabi_trait,
    sabi_types::RMut,
    std_types::{RArc, RBox, RDuration, RResult, RString},
    StableAbi,
};

use crate::edit::{EndingSpan, StartingSpan};
use crate::metrics::{DurationRecorder, DurationRecorderAbi_TO, MetricsReport, MetricsSink_TO};
use crate::panic::catch;
use crate::span::{RequestContextView, SpanView};

/// What a plugin author implements. Every method is called through [`Processor`],
/// which catches panics so none crosses into the host.
pub trait SpanProcessor: Send + Sync + 'static {
    /// A short name for the host's logs (e.g. `console_file(/var/log/spans/api_12.json)`).
    fn name(&self) -> String;

    /// Whether the host should build a [`StartingSpan`] and call `on_start`.
    /// Exporters that only look at ended spans return `false` to save that work.
    fn needs_on_start(&self) -> bool {
        true
    }

    /// Called as a span starts, when [`SpanProcessor::needs_on_start`] is true; may add
    /// attributes to `span`. `request` is the request context the host set.
    fn on_start(&self, _span: &mut StartingSpan<'_>, _request: &RequestContextView<'_>) {}

    /// Called for every span whose `on_start` this processor saw, record-only and
    /// dropped ones included, and for every exportable span. Exporters export only
    /// spans where [`SpanView::is_exportable`] holds. Must not block: hand the span to
    /// a bounded queue or a buffered writer.
    fn on_end(&self, span: &SpanView<'_>);

    /// Whether the host should call `on_end` for spans this processor did not see
    /// start. Transformers that only transform return `false` to save the call; a
    /// processor that saw a span's `on_start` always gets its `on_end`.
    fn needs_on_end(&self) -> bool {
        true
    }

    /// Whether the host should call [`SpanProcessor::transform`]: a transformer changes
    /// what the processors after it see.
    fn transforms(&self) -> bool {
        false
    }

    /// Runs on every ended span, in list order, before any processor's `on_end`;
    /// edits reach only the processors after this one. A panic here drops the span
    /// for them.
    fn transform(&self, _span: &mut EndingSpan<'_>) {}

    /// Writes or sends whatever is buffered, waiting at most `timeout`.
    fn force_flush(&self, _timeout: Duration) -> Result<(), String> {
        Ok(())
    }

    /// Flushes, releases resources and joins threads within `timeout`.
    fn shutdown(&self, _timeout: Duration) -> Result<(), String> {
        Ok(())
    }

    /// (since 0.3.1) Writes this processor's cumulative figures into `report` (see
    /// [`crate::metrics`]) and returns `true`; the default, `false`, means the host
    /// counts only what it sees itself (spans handed over). Called at collection time
    /// from a host thread: read atomics; a lock the application thread also takes may
    /// be held only for a few reads.
    fn report_metrics(&self, _report: &mut MetricsReport<'_>) -> bool {
        false
    }

    /// (since 0.3.1) Called once, only when self metrics are on, with the recorder of
    /// `otel.sdk.exporter.operation.duration`: an exporter keeps it and records each
    /// export call from its own thread. The default ignores it.
    fn attach_duration_recorder(&self, _recorder: DurationRecorder) {}
}

/// Declares the vtable; `$($later)*` is what the hidden next-minor probe appends.
macro_rules! processor_abi {
    ($($later:tt)*) => {
        /// The vtable the host sees. `shutdown` is its last prefix method: methods a
        /// later minor adds go after it, each with a default body meaning "not
        /// supported", which a newer host runs for a plugin built before the method.
        #[sabi_trait]
        pub trait ProcessorAbi: Send + Sync {
            fn name(&self) -> RString;

            fn needs_on_start(&self) -> bool;

            fn on_start(
                &self,
                span: &mut StartingSpan<'_>,
                request: &RequestContextView<'_>,
            ) -> RResult<(), RString>;

            fn on_end(&self, span: &SpanView<'_>) -> RResult<(), RString>;

            fn needs_on_end(&self) -> bool;

            fn transforms(&self) -> bool;

            fn transform(&self, span: &mut EndingSpan<'_>) -> RResult<(), RString>;

            fn force_flush(&self, timeout: RDuration) -> RResult<(), RString>;

            #[sabi(last_prefix_field)]
            fn shutdown(&self, timeout: RDuration) -> RResult<(), RString>;

            // Methods of later minors go here, with default bodies.

            /// Since 0.3.1; `false` from a plugin built before it.
            fn report_metrics<'s>(&self, _sink: MetricsSink_TO<'s, RMut<'s, ()>>) -> bool {
                false
            }

            /// Since 0.3.1; `false` (recorder dropped) from a plugin built before it.
            fn attach_duration_recorder(
                &self,
                _recorder: DurationRecorderAbi_TO<'static, RArc<()>>,
            ) -> bool {
                false
            }

            $($later)*
        }
    };
}

#[allow(non_local_definitions)]
#[allow(
    unreachable_pub,
    reason = "`Processor`'s derived StableAbi names the trait object in a public interface"
)]
mod abi {
    use super::*;

    #[cfg(not(feature = "next-minor-probe"))]
    processor_abi! {}

    #[cfg(feature = "next-minor-probe")]
    processor_abi! {
        fn next_minor_probe(&self) -> u32 {
            crate::PROBE_ABSENT
        }
    }
}

use abi::{ProcessorAbi, ProcessorAbi_TO};

/// Runs the author's processor with every panic caught and turned into an error,
/// its destructor included (abi_stable aborts on a panic while dropping).
struct Guarded<P: SpanProcessor>(ManuallyDrop<P>);

impl<P: SpanProcessor> Drop for Guarded<P> {
    fn drop(&mut self) {
        // SAFETY: the value is dropped exactly once, here, and never used after.
        let _ = catch(|| unsafe { ManuallyDrop::drop(&mut self.0) });
    }
}

impl<P: SpanProcessor> ProcessorAbi for Guarded<P> {
    fn name(&self) -> RString {
        catch(|| self.0.name())
            .unwrap_or_else(|panic| format!("<name panicked: {panic}>"))
            .into()
    }

    fn needs_on_start(&self) -> bool {
        catch(|| self.0.needs_on_start()).unwrap_or(true)
    }

    fn on_start(
        &self,
        span: &mut StartingSpan<'_>,
        request: &RequestContextView<'_>,
    ) -> RResult<(), RString> {
        catch(|| self.0.on_start(span, request))
            .map_err(RString::from)
            .into()
    }

    fn on_end(&self, span: &SpanView<'_>) -> RResult<(), RString> {
        catch(|| self.0.on_end(span)).map_err(RString::from).into()
    }

    fn needs_on_end(&self) -> bool {
        catch(|| self.0.needs_on_end()).unwrap_or(true)
    }

    fn transforms(&self) -> bool {
        catch(|| self.0.transforms()).unwrap_or(false)
    }

    fn transform(&self, span: &mut EndingSpan<'_>) -> RResult<(), RString> {
        catch(|| self.0.transform(span))
            .map_err(RString::from)
            .into()
    }

    fn force_flush(&self, timeout: RDuration) -> RResult<(), RString> {
        catch(|| self.0.force_flush(timeout.into()))
            .and_then(|result| result)
            .map_err(RString::from)
            .into()
    }

    fn shutdown(&self, timeout: RDuration) -> RResult<(), RString> {
        catch(|| self.0.shutdown(timeout.into()))
            .and_then(|result| result)
            .map_err(RString::from)
            .into()
    }

    fn report_metrics<'s>(&self, sink: MetricsSink_TO<'s, RMut<'s, ()>>) -> bool {
        let mut report = MetricsReport::from_abi(sink);
        catch(|| self.0.report_metrics(&mut report)).unwrap_or(false)
    }

    fn attach_duration_recorder(
        &self,
        recorder: DurationRecorderAbi_TO<'static, RArc<()>>,
    ) -> bool {
        let recorder = DurationRecorder::from_abi(recorder);
        catch(|| self.0.attach_duration_recorder(recorder)).is_ok()
    }

    #[cfg(feature = "next-minor-probe")]
    fn next_minor_probe(&self) -> u32 {
        crate::PROBE_PRESENT
    }
}

/// A plugin's span processor as an FFI-safe, owned trait object.
#[repr(transparent)]
#[derive(StableAbi)]
pub struct Processor(ProcessorAbi_TO<'static, RBox<()>>);

impl Processor {
    /// Wraps an author's processor so that every call into it catches panics.
    pub fn new<P: SpanProcessor>(processor: P) -> Self {
        Processor(ProcessorAbi_TO::from_value(
            Guarded(ManuallyDrop::new(processor)),
            abi_stable::sabi_trait::TD_Opaque,
        ))
    }

    /// The processor's name for logs (a placeholder if the plugin's method panics).
    pub fn name(&self) -> String {
        self.0.name().into()
    }

    /// Whether to call `on_start` (`true` if the plugin's method panics).
    pub fn needs_on_start(&self) -> bool {
        self.0.needs_on_start()
    }

    /// Errors are panics caught inside the plugin.
    pub fn on_start(
        &self,
        span: &mut StartingSpan<'_>,
        request: &RequestContextView<'_>,
    ) -> Result<(), String> {
        into_std(self.0.on_start(span, request))
    }

    /// Errors are panics caught inside the plugin.
    pub fn on_end(&self, span: &SpanView<'_>) -> Result<(), String> {
        into_std(self.0.on_end(span))
    }

    /// Whether to call `on_end` for spans it did not see start (`true` on a panic).
    pub fn needs_on_end(&self) -> bool {
        self.0.needs_on_end()
    }

    /// Whether to call `transform` (`false` if the plugin's method panics).
    pub fn transforms(&self) -> bool {
        self.0.transforms()
    }

    /// Errors are panics caught inside the plugin.
    pub fn transform(&self, span: &mut EndingSpan<'_>) -> Result<(), String> {
        into_std(self.0.transform(span))
    }

    /// Flushes within `timeout`; errors are the plugin's own or a caught panic.
    pub fn force_flush(&self, timeout: Duration) -> Result<(), String> {
        into_std(self.0.force_flush(timeout.into()))
    }

    /// Shuts down within `timeout`; errors are the plugin's own or a caught panic.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), String> {
        into_std(self.0.shutdown(timeout.into()))
    }

    /// Asks the plugin for its figures; `false` if it reports none (built before
    /// 0.3.1, or it chose not to, or it panicked).
    pub fn report_metrics(&self, report: MetricsReport<'_>) -> bool {
        self.0.report_metrics(report.into_abi())
    }

    /// Hands the plugin the export-duration recorder; `false` if it was built before
    /// 0.3.1 (it then never records).
    pub fn attach_duration_recorder(&self, recorder: DurationRecorder) -> bool {
        self.0.attach_duration_recorder(recorder.into_abi())
    }
}

/// Shows the name the plugin gives (asked through the vtable, panics caught).
impl fmt::Debug for Processor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Processor")
            .field("name", &self.name())
            .finish_non_exhaustive()
    }
}

impl Processor {
    /// The probe method: [`crate::PROBE_ABSENT`] for a plugin built without it.
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub fn next_minor_probe(&self) -> u32 {
        self.0.next_minor_probe()
    }
}

fn into_std(result: RResult<(), RString>) -> Result<(), String> {
    result.into_result().map_err(String::from)
}
