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
    with_span(&attrs, |base| {
        let mut overlay = Overlay::default();
        overlay
            .apply(
                base,
                vec![
                    Edit::Set("a".into(), Some(OwnedValue::from("replaced"))),
                    Edit::Set("c".into(), Some(OwnedValue::from(vec!["p".to_string()]))),
                    Edit::Remove("b".into()),
                    Edit::Name("renamed".into()),
                ],
            )
            .unwrap();
        with_version(base, Some(&overlay), |view| {
            let keys: Vec<&str> = view.attributes.iter().map(|kv| kv.key.as_str()).collect();
            assert_eq!(keys, ["a", "c"]);
            assert_eq!(view.attributes[0].value.get(), ValueRef::String("replaced"));
            assert!(
                matches!(view.attributes[1].value.get(), ValueRef::StringArray(items) if items[0].as_str() == "p")
            );
            assert_eq!(view.name.as_str(), "renamed");
            assert!(!view.is_dropped());
        });
        let error = overlay.apply(base, vec![Edit::RemoveEvent(3, "k".into()), Edit::Drop]);
        assert_eq!(error.unwrap_err(), "edits ignored: no event 3");
        with_version(base, Some(&overlay), |view| {
            assert!(view.is_dropped() && !view.is_exportable())
        });
    });
}

/// Calls `f` with a sampled server span named `n` that has `attributes` and nothing else.
fn with_span(attributes: &[KeyValue<'_>], f: impl FnOnce(&SpanView<'_>)) {
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
        attributes: attributes.into(),
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
    f(&base);
}
