//! What a transformer asks for while it runs: [`Edit`]s, recorded by the host's
//! [`SpanEditor`] and applied by the overlay when the transformer returns.

use abi_stable::std_types::RStr;
use spanplug_api::{OwnedValue, SpanEditor, Value};

use super::count_unrepresentable;

/// An edit a transformer asked for, applied when it returns.
pub(super) enum Edit {
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
pub(super) struct EditRecorder {
    pub(super) edits: Vec<Edit>,
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
