//! The overlay: what the transformers so far changed, kept over the borrowed base
//! view, and the view it makes of that base for the next stages.

use abi_stable::std_types::RStr;
use spanplug_api::{Event, KeyValue, OwnedValue, SpanView, Value};

use super::edits::Edit;
use crate::span::owned_view;

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
pub(super) struct Overlay<'b> {
    name: Option<String>,
    status_description: Option<String>,
    attributes: Option<Vec<Attribute<'b>>>,
    /// Events whose attributes changed, by index.
    events: Vec<(usize, Vec<Attribute<'b>>)>,
    pub(super) dropped: bool,
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
    pub(super) fn apply(&mut self, base: &SpanView<'b>, edits: Vec<Edit>) -> Result<(), String> {
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
pub(super) fn with_version<R>(
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
mod tests;
