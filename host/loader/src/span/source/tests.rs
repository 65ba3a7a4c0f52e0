use std::sync::Arc;

use spanplug_api::{SpanId, SpanKind, StatusCode, TraceId, ValueRef};

use super::*;
use crate::span::test_support::{check_every_list, string_array};
use crate::span::{EventRecord, LinkRecord, ResourceRecord, ScopeRecord};

fn strings(items: &[&str]) -> OwnedValue {
    OwnedValue::StringArray(items.iter().map(|s| s.to_string()).collect())
}

fn context(span: u8, state: &str) -> ContextRecord {
    ContextRecord {
        trace_id: TraceId([7; 16]),
        span_id: SpanId([span; 8]),
        trace_flags: 1,
        is_remote: false,
        trace_state: state.into(),
    }
}

fn event(name: &str, attributes: Vec<Attribute>) -> EventRecord {
    EventRecord {
        name: name.into(),
        attributes,
        ..EventRecord::default()
    }
}

fn link(span: u8, state: &str, attributes: Vec<Attribute>) -> LinkRecord {
    LinkRecord {
        context: context(span, state),
        attributes,
        dropped_attributes_count: 0,
    }
}

fn span() -> SpanRecord {
    SpanRecord {
        context: context(1, "vendor=a"),
        parent_span_id: SpanId::INVALID,
        parent_is_remote: false,
        name: "GET /".into(),
        kind: SpanKind::SERVER,
        start_time_unix_nano: 5,
        end_time_unix_nano: 9,
        attributes: vec![
            Attribute::new("tags", strings(&["a", "b"])),
            Attribute::new("n", 3i64),
            Attribute::new("more", strings(&["c"])),
        ],
        dropped_attributes_count: 0,
        events: vec![
            event("first", vec![Attribute::new("e", strings(&["d", "e"]))]),
            event("second", vec![]),
            event("third", vec![Attribute::new("x", "y")]),
        ],
        dropped_events_count: 0,
        links: vec![
            link(2, "", vec![Attribute::new("l", strings(&["f"]))]),
            link(3, "k=v,k2=v2", vec![]),
        ],
        dropped_links_count: 0,
        status_code: StatusCode::ERROR,
        status_description: "bad".into(),
        scope: Arc::new(ScopeRecord {
            name: "lib".into(),
            attributes: vec![Attribute::new("s", strings(&["g"]))],
            ..ScopeRecord::default()
        }),
        resource: Arc::new(ResourceRecord::new(
            vec![Attribute::new("service.name", "api")],
            "",
        )),
    }
}

#[test]
fn every_list_of_a_record_lands_in_its_own_view() {
    let record = span();
    // Twice: the second span reuses the thread's buffers.
    for _ in 0..2 {
        with_view(&record, check_every_list);
    }
}

#[test]
fn a_resource_keeps_its_order_and_its_string_arrays() {
    let resource = ResourceRecord::new(
        vec![
            Attribute::new("a", strings(&["x", "y"])),
            Attribute::new("n", 1i64),
            Attribute::new("b", strings(&["z"])),
        ],
        "https://schema",
    );
    let view = resource.view();
    let attributes = view.attributes.as_slice();
    let keys: Vec<&str> = attributes.iter().map(|kv| kv.key.as_str()).collect();
    assert_eq!(keys, ["a", "n", "b"]);
    assert_eq!(string_array(&attributes[0].value), ["x", "y"]);
    assert!(matches!(attributes[1].value.get(), ValueRef::I64(1)));
    assert_eq!(string_array(&attributes[2].value), ["z"]);
    assert_eq!(view.schema_url.as_str(), "https://schema");
}

#[test]
fn a_view_built_inside_another_gets_buffers_of_its_own() {
    let outer = span();
    let mut inner = span();
    inner.attributes = vec![Attribute::new("inner", strings(&["z"]))];
    with_view(&outer, |view| {
        with_view(&inner, |nested| {
            assert_eq!(string_array(&nested.attributes.as_slice()[0].value), ["z"]);
        });
        assert_eq!(
            string_array(&view.attributes.as_slice()[0].value),
            ["a", "b"]
        );
    });
}

#[test]
fn a_starting_record_lends_its_attributes_as_views() {
    let record = span();
    let keys = with_attribute_views::<Attribute, _>(&record.attributes, |views| {
        assert_eq!(string_array(&views[2].value), ["c"]);
        views
            .iter()
            .map(|kv| kv.key.to_string())
            .collect::<Vec<_>>()
    });
    assert_eq!(keys, ["tags", "n", "more"]);
}

#[test]
fn attributes_set_at_start_keep_their_first_place_and_last_value() {
    let mut added = AddedAttributes::default();
    added.set_attribute("a".into(), Value::from(1i64));
    added.set_attribute("b".into(), Value::from("x"));
    added.set_attribute("a".into(), Value::from(2i64));
    added.set_attribute("u".into(), Value::UNSUPPORTED);
    assert_eq!(
        added.list,
        [Attribute::new("a", 2i64), Attribute::new("b", "x")]
    );
}
