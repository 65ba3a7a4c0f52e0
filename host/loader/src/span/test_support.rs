//! What every [`SpanSource`](super::SpanSource)'s list test checks of its view, so the
//! loader's [`SpanRecord`](super::SpanRecord) source and `spanplug-sdk`'s
//! `opentelemetry_sdk` source are held to one set of assertions. Test builds only
//! (feature `test-support`).

use spanplug_api::{SpanId, SpanKind, SpanView, StatusCode, Value, ValueRef};

/// The items of a string-array value; panics on any other kind.
pub fn string_array(value: &Value<'_>) -> Vec<String> {
    match value.get() {
        ValueRef::StringArray(items) => items.iter().map(|s| s.to_string()).collect(),
        other => panic!("not a string array: {other:?}"),
    }
}

/// Asserts the view of the fixture span both sources' tests build: trace state
/// `vendor=a`; attributes `tags=["a","b"]`, `n=3`, `more=["c"]`; scope attribute
/// `s=["g"]`; events `first` (`e=["d","e"]`), `second` (none), `third` (`x="y"`);
/// links to span `[2; 8]` (no state, `l=["f"]`) and span `[3; 8]` (`k=v,k2=v2`, none);
/// a `SERVER` span from 5 to 9 ns with status `ERROR` "bad"; resource `service.name=api`.
pub fn check_every_list(view: &SpanView<'_>) {
    assert_eq!(view.context.trace_state.as_str(), "vendor=a");
    let attributes = view.attributes.as_slice();
    assert_eq!(attributes.len(), 3);
    assert_eq!(string_array(&attributes[0].value), ["a", "b"]);
    assert!(matches!(attributes[1].value.get(), ValueRef::I64(3)));
    assert_eq!(string_array(&attributes[2].value), ["c"]);
    let scope = view.scope.attributes.as_slice();
    assert_eq!(scope[0].key.as_str(), "s");
    assert_eq!(string_array(&scope[0].value), ["g"]);
    let events = view.events.as_slice();
    assert_eq!(events.len(), 3);
    assert_eq!(
        string_array(&events[0].attributes.as_slice()[0].value),
        ["d", "e"]
    );
    assert!(events[1].attributes.is_empty());
    assert_eq!(events[2].name.as_str(), "third");
    assert_eq!(events[2].attributes.as_slice()[0].value.as_str(), Some("y"));
    let links = view.links.as_slice();
    assert_eq!(links[0].context.trace_state.as_str(), "");
    assert_eq!(links[0].context.span_id, SpanId([2; 8]));
    assert_eq!(
        string_array(&links[0].attributes.as_slice()[0].value),
        ["f"]
    );
    assert_eq!(links[1].context.trace_state.as_str(), "k=v,k2=v2");
    assert!(links[1].attributes.is_empty());
    assert_eq!(view.status.code, StatusCode::ERROR);
    assert_eq!(view.status.description.as_str(), "bad");
    assert_eq!(view.kind, SpanKind::SERVER);
    assert_eq!(view.end_time_unix_nano - view.start_time_unix_nano, 4);
    let resource = view.resource.attributes.as_slice();
    assert_eq!(resource[0].value.as_str(), Some("api"));
}
