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

use abi_stable::std_types::RStr;
use spanplug_api::{
    EndingSpan, Event, KeyValue, OwnedValue, Processor, SpanEditor, SpanView, Value,
};

use crate::span::owned_view;

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
}

impl Stage {
    pub(crate) fn new(import_path: String, processor: Processor) -> Self {
        Stage {
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
        if let Err(error) = self.processor.on_end(view) {
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

/// An edit a transformer asked for, applied when it returns.
enum Edit {
    Set(String, Option<OwnedValue>),
    Remove(String),
    SetEvent(usize, String, Option<OwnedValue>),
    RemoveEvent(usize, String),
    Name(String),
    StatusDescription(String),
    Drop,
}

/// The host's [`SpanEditor`]: copies what the plugin lends, since its borrows end with
/// the call.
#[derive(Default)]
struct EditRecorder {
    edits: Vec<Edit>,
}

fn owned(value: Value<'_>) -> Option<OwnedValue> {
    let owned = OwnedValue::from_value(&value);
    if owned.is_none() {
        count_unrepresentable();
    }
    owned
}

impl SpanEditor for EditRecorder {
    fn set_attribute(&mut self, key: RStr<'_>, value: Value<'_>) {
        self.edits.push(Edit::Set(key.to_string(), owned(value)));
    }

    fn remove_attribute(&mut self, key: RStr<'_>) {
        self.edits.push(Edit::Remove(key.to_string()));
    }

    fn set_event_attribute(&mut self, event: usize, key: RStr<'_>, value: Value<'_>) {
        self.edits
            .push(Edit::SetEvent(event, key.to_string(), owned(value)));
    }

    fn remove_event_attribute(&mut self, event: usize, key: RStr<'_>) {
        self.edits.push(Edit::RemoveEvent(event, key.to_string()));
    }

    fn set_name(&mut self, name: RStr<'_>) {
        self.edits.push(Edit::Name(name.to_string()));
    }

    fn set_status_description(&mut self, description: RStr<'_>) {
        self.edits
            .push(Edit::StatusDescription(description.to_string()));
    }

    fn drop_span(&mut self) {
        self.edits.push(Edit::Drop);
    }

    #[cfg(feature = "next-minor-probe")]
    fn next_minor_probe(&self) -> u32 {
        spanplug_api::PROBE_PRESENT
    }
}

/// An attribute in an overlay: still the host's, or set by a transformer.
#[derive(Clone)]
enum Attribute<'b> {
    Base(KeyValue<'b>),
    Owned(String, OwnedValue),
}

impl Attribute<'_> {
    fn key(&self) -> &str {
        match self {
            Attribute::Base(kv) => kv.key.as_str(),
            Attribute::Owned(key, _) => key,
        }
    }
}

/// What the transformers so far changed, over the borrowed base view.
#[derive(Clone, Default)]
struct Overlay<'b> {
    name: Option<String>,
    status_description: Option<String>,
    attributes: Option<Vec<Attribute<'b>>>,
    /// Events whose attributes changed, by index.
    events: Vec<(usize, Vec<Attribute<'b>>)>,
    dropped: bool,
}

fn base_attributes<'b>(attributes: &[KeyValue<'b>]) -> Vec<Attribute<'b>> {
    attributes.iter().copied().map(Attribute::Base).collect()
}

/// Sets `key` in the first place it has (unique keys: later copies, which the SDK
/// keeps in events, go), or appends it.
fn set(list: &mut Vec<Attribute<'_>>, key: String, value: OwnedValue) {
    match list.iter().position(|a| a.key() == key) {
        Some(first) => {
            let mut index = 0;
            list.retain(|a| {
                index += 1;
                index - 1 <= first || a.key() != key
            });
            list[first] = Attribute::Owned(key, value);
        }
        None => list.push(Attribute::Owned(key, value)),
    }
}

impl<'b> Overlay<'b> {
    fn apply(&mut self, base: &SpanView<'b>, edits: Vec<Edit>) -> Result<(), String> {
        let mut problems = Vec::new();
        for edit in edits {
            match edit {
                Edit::Set(key, Some(value)) => set(self.attributes(base), key, value),
                Edit::Remove(key) => self.attributes(base).retain(|a| a.key() != key),
                Edit::SetEvent(index, key, Some(value)) => match self.event(base, index) {
                    Some(list) => set(list, key, value),
                    None => problems.push(format!("no event {index}")),
                },
                Edit::RemoveEvent(index, key) => match self.event(base, index) {
                    Some(list) => list.retain(|a| a.key() != key),
                    None => problems.push(format!("no event {index}")),
                },
                Edit::Set(key, None) | Edit::SetEvent(_, key, None) => problems.push(format!(
                    "a value for {key:?} of a kind the host cannot hold"
                )),
                Edit::Name(name) => self.name = Some(name),
                Edit::StatusDescription(text) => self.status_description = Some(text),
                Edit::Drop => self.dropped = true,
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("edits ignored: {}", problems.join("; ")))
        }
    }

    fn attributes(&mut self, base: &SpanView<'b>) -> &mut Vec<Attribute<'b>> {
        self.attributes
            .get_or_insert_with(|| base_attributes(base.attributes.as_slice()))
    }

    fn event(&mut self, base: &SpanView<'b>, index: usize) -> Option<&mut Vec<Attribute<'b>>> {
        let event = base.events.as_slice().get(index)?;
        let at = match self.events.iter().position(|(i, _)| *i == index) {
            Some(at) => at,
            None => {
                self.events
                    .push((index, base_attributes(event.attributes.as_slice())));
                self.events.len() - 1
            }
        };
        Some(&mut self.events[at].1)
    }
}

/// Element views of the owned string arrays in `list`, in order.
fn string_arrays<'s>(list: &'s [Attribute<'_>]) -> Vec<Vec<RStr<'s>>> {
    list.iter()
        .filter_map(|a| match a {
            Attribute::Owned(_, OwnedValue::StringArray(items)) => {
                Some(items.iter().map(|s| RStr::from(s.as_str())).collect())
            }
            _ => None,
        })
        .collect()
}

fn key_values<'s>(list: &'s [Attribute<'s>], arrays: &'s [Vec<RStr<'s>>]) -> Vec<KeyValue<'s>> {
    let mut next_array = arrays.iter();
    list.iter()
        .map(|a| match a {
            Attribute::Base(kv) => *kv,
            Attribute::Owned(key, value) => KeyValue {
                key: key.as_str().into(),
                // A string array's elements are in `arrays`, in order.
                value: owned_view(value).unwrap_or_else(|| {
                    Value::string_array(next_array.next().map(Vec::as_slice).unwrap_or_default())
                }),
            },
        })
        .collect()
}

/// Calls `f` with the base view, or with the view an overlay makes of it.
fn with_version<R>(
    base: &SpanView<'_>,
    overlay: Option<&Overlay<'_>>,
    f: impl FnOnce(&SpanView<'_>) -> R,
) -> R {
    let Some(overlay) = overlay else {
        return f(base);
    };
    let attribute_arrays = overlay.attributes.as_deref().map(string_arrays);
    let attributes = overlay
        .attributes
        .as_deref()
        .zip(attribute_arrays.as_deref())
        .map(|(list, arrays)| key_values(list, arrays));
    let event_arrays: Vec<_> = overlay
        .events
        .iter()
        .map(|(_, l)| string_arrays(l))
        .collect();
    let event_attributes: Vec<(usize, Vec<KeyValue<'_>>)> = overlay
        .events
        .iter()
        .zip(&event_arrays)
        .map(|((index, list), arrays)| (*index, key_values(list, arrays)))
        .collect();
    let events: Option<Vec<Event<'_>>> = (!event_attributes.is_empty()).then(|| {
        base.events
            .iter()
            .enumerate()
            .map(
                |(i, event)| match event_attributes.iter().find(|(at, _)| *at == i) {
                    Some((_, list)) => Event {
                        attributes: list.as_slice().into(),
                        ..*event
                    },
                    None => *event,
                },
            )
            .collect()
    });
    let mut view = *base;
    if let Some(name) = &overlay.name {
        view.name = name.as_str().into();
    }
    // OpenTelemetry keeps a description only with an error status.
    if let Some(description) = overlay
        .status_description
        .as_ref()
        .filter(|_| view.status.code == spanplug_api::StatusCode::ERROR)
    {
        view.status.description = description.as_str().into();
    }
    if let Some(list) = &attributes {
        view.attributes = list.as_slice().into();
    }
    if let Some(list) = &events {
        view.events = list.as_slice().into();
    }
    if overlay.dropped {
        view.flags |= SpanView::DROPPED;
    }
    f(&view)
}

#[cfg(test)]
mod tests {
    use super::*;
    use spanplug_api::ValueRef;

    #[test]
    fn overlays_replace_keys_in_place_and_keep_the_rest_borrowed() {
        let attrs = [
            KeyValue {
                key: "a".into(),
                value: Value::from(1i64),
            },
            KeyValue {
                key: "b".into(),
                value: Value::from("x"),
            },
            // A second copy, as the SDK keeps them in events: setting `a` removes it.
            KeyValue {
                key: "a".into(),
                value: Value::from(2i64),
            },
        ];
        let resource = spanplug_api::Resource {
            attributes: Default::default(),
            schema_url: "".into(),
        };
        let scope = spanplug_api::InstrumentationScope {
            name: "s".into(),
            version: abi_stable::std_types::RNone,
            schema_url: abi_stable::std_types::RNone,
            attributes: Default::default(),
        };
        let base = SpanView {
            context: spanplug_api::SpanContext {
                trace_id: Default::default(),
                span_id: Default::default(),
                trace_flags: 1,
                is_remote: false,
                trace_state: "".into(),
            },
            parent_span_id: Default::default(),
            parent_is_remote: false,
            name: "n".into(),
            kind: spanplug_api::SpanKind::SERVER,
            start_time_unix_nano: 0,
            end_time_unix_nano: 0,
            attributes: attrs.as_slice().into(),
            dropped_attributes_count: 0,
            events: Default::default(),
            dropped_events_count: 0,
            links: Default::default(),
            dropped_links_count: 0,
            status: spanplug_api::Status {
                code: spanplug_api::StatusCode::UNSET,
                description: "".into(),
            },
            resource: &resource,
            scope: &scope,
            flags: 0,
            extension: spanplug_api::SpanViewExtRef::empty(),
        };
        let mut overlay = Overlay::default();
        overlay
            .apply(
                &base,
                vec![
                    Edit::Set("a".into(), Some(OwnedValue::from("replaced"))),
                    Edit::Set("c".into(), Some(OwnedValue::from(vec!["p".to_string()]))),
                    Edit::Remove("b".into()),
                    Edit::Name("renamed".into()),
                ],
            )
            .unwrap();
        with_version(&base, Some(&overlay), |view| {
            let keys: Vec<&str> = view.attributes.iter().map(|kv| kv.key.as_str()).collect();
            assert_eq!(keys, ["a", "c"]);
            assert_eq!(view.attributes[0].value.get(), ValueRef::String("replaced"));
            assert!(
                matches!(view.attributes[1].value.get(), ValueRef::StringArray(items) if items[0].as_str() == "p")
            );
            assert_eq!(view.name.as_str(), "renamed");
            assert!(!view.is_dropped());
        });
        let error = overlay.apply(&base, vec![Edit::RemoveEvent(3, "k".into()), Edit::Drop]);
        assert_eq!(error.unwrap_err(), "edits ignored: no event 3");
        with_version(&base, Some(&overlay), |view| {
            assert!(view.is_dropped() && !view.is_exportable())
        });
    }
}
