//! Grouping by resource and scope, read back by decoding the request.

use super::*;
use spanplug_api::abi_stable::std_types::{RNone, RSlice};

fn view_of<R>(resource: &[api::KeyValue<'_>], f: impl FnOnce(&api::SpanView<'_>) -> R) -> R {
    let resource = api::Resource {
        attributes: RSlice::from_slice(resource),
        schema_url: "https://opentelemetry.io/schemas/1.21.0".into(),
    };
    let scope = api::InstrumentationScope {
        name: "checkout".into(),
        version: RNone,
        schema_url: RNone,
        attributes: RSlice::default(),
    };
    f(&api::SpanView {
        context: api::SpanContext {
            trace_id: api::TraceId([1; 16]),
            span_id: api::SpanId([2; 8]),
            trace_flags: 1,
            is_remote: false,
            trace_state: "".into(),
        },
        parent_span_id: api::SpanId::default(),
        parent_is_remote: false,
        name: "GET /cart".into(),
        kind: api::SpanKind::SERVER,
        start_time_unix_nano: 1,
        end_time_unix_nano: 2,
        attributes: RSlice::default(),
        dropped_attributes_count: 0,
        events: RSlice::default(),
        dropped_events_count: 0,
        links: RSlice::default(),
        dropped_links_count: 0,
        status: api::Status {
            code: api::StatusCode::UNSET,
            description: "".into(),
        },
        resource: &resource,
        scope: &scope,
        flags: 0,
        extension: api::SpanViewExtRef::empty(),
    })
}

/// Spans of a resource that is not the factory's (a Python provider's).
fn queued(view: &api::SpanView<'_>) -> Queued {
    Queued::new(view, &FactoryResource::new(&[]))
}

fn service(name: &str) -> [api::KeyValue<'_>; 2] {
    [
        api::KeyValue {
            key: "service.name".into(),
            value: name.into(),
        },
        api::KeyValue {
            key: "ports".into(),
            value: (&[80i64, 443][..]).into(),
        },
    ]
}

fn decoded(spans: &[Queued], overrides: &[(String, String)]) -> Vec<(String, String, usize)> {
    let request = ExportTraceServiceRequest::decode(request_bytes(spans, overrides).as_slice())
        .expect("a request that decodes");
    assert_eq!(
        request,
        request_message(spans, overrides),
        "protobuf and JSON agree"
    );
    request
        .resource_spans
        .iter()
        .map(|rs| {
            let service = rs
                .resource
                .as_ref()
                .unwrap()
                .attributes
                .iter()
                .find(|kv| kv.key == "service.name");
            let name = match service.and_then(|kv| kv.value.as_ref()?.value.as_ref()) {
                Some(any_value::Value::StringValue(s)) => s.clone(),
                other => panic!("service.name: {other:?}"),
            };
            (
                name,
                rs.schema_url.clone(),
                rs.scope_spans.iter().map(|s| s.spans.len()).sum(),
            )
        })
        .collect()
}

#[test]
fn spans_are_grouped_by_the_resource_each_came_with() {
    let (checkout, payments) = (service("checkout"), service("payments"));
    let spans: Vec<Queued> = [&checkout, &payments, &checkout, &checkout]
        .iter()
        .map(|resource| view_of(&resource[..], queued))
        .collect();
    let url = "https://opentelemetry.io/schemas/1.21.0".to_string();
    assert_eq!(
        decoded(&spans, &[]),
        [
            ("checkout".into(), url.clone(), 3),
            ("payments".into(), url.clone(), 1)
        ]
    );
    // A preset's attribute is put over every resource.
    let overrides = [("service.name".to_string(), "dd".to_string())];
    assert_eq!(
        decoded(&spans, &overrides),
        [("dd".into(), url.clone(), 3), ("dd".into(), url, 1)]
    );
}

#[test]
fn a_resource_is_converted_again_only_when_it_differs() {
    let checkout = service("checkout");
    let first = view_of(&checkout, queued);
    let again = view_of(&service("checkout"), queued);
    assert!(
        Arc::ptr_eq(&first.resource, &again.resource),
        "equal content: shared"
    );
    let other = view_of(&service("payments"), queued);
    assert!(!Arc::ptr_eq(&first.resource, &other.resource));
    let shorter = view_of(&checkout[..1], queued);
    assert_ne!(*shorter.resource, *first.resource);
}

#[test]
fn the_factorys_resource_is_recognised_by_address_and_others_by_content() {
    let own = service("checkout");
    let factory = FactoryResource::new(&own);
    let first = view_of(&own, |view| Queued::new(view, &factory));
    let again = view_of(&own, |view| Queued::new(view, &factory));
    assert!(Arc::ptr_eq(&first.resource, &again.resource));
    // Another resource, at another address: converted, not taken for the factory's.
    let other = view_of(&service("payments"), |view| Queued::new(view, &factory));
    let names: Vec<String> = decoded(&[first, other], &[])
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    assert_eq!(names, ["checkout", "payments"]);
}
