//! A batch's request: spans grouped by the resource they came with, then by their
//! instrumentation scope, framed around the bytes `on_end` encoded.
//!
//! The resource is each span's own (`SpanView::resource`), never one fixed when the
//! plugin was loaded: a front end whose spans carry their resource (Python's
//! providers, several in one process) gets one `ResourceSpans` per resource.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use flate2::{write::GzEncoder, Compression as GzLevel};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, WireType};
use prost::Message;
use spanplug_api as api;

use crate::encode::{self, put_bytes, put_len_delimited};
use crate::settings::{Compression, Protocol};

/// A span waiting in the queue: its encoded bytes, with the resource and scope it
/// came with (shared by consecutive spans that have the same ones).
pub struct Queued {
    resource: Arc<SpanResource>,
    scope: Arc<Scope>,
    span: Vec<u8>,
}

impl Queued {
    /// Copies what the request needs of `view`.
    pub fn new(view: &api::SpanView<'_>, factory: &FactoryResource) -> Queued {
        let resource = factory.recognise(view.resource).unwrap_or_else(|| {
            cached(
                &LAST_RESOURCE,
                view.resource,
                SpanResource::is,
                SpanResource::new,
            )
        });
        Queued {
            resource,
            scope: cached(&LAST_SCOPE, view.scope, Scope::is, Scope::new),
            span: encode::span(view),
        }
    }
}

/// The encoded span's size, not its bytes.
impl fmt::Debug for Queued {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queued")
            .field("resource", &self.resource)
            .field("scope", &self.scope)
            .field("span_bytes", &self.span.len())
            .finish()
    }
}

/// The resource the factory was given, recognised by the address of its attributes:
/// spanplug's hosts keep it for as long as the plugin lives and lend every span of a
/// Rust service that very view, so those spans skip comparing their resource with
/// the thread's last one, attribute by attribute. Other resources (Python
/// providers' own) are compared by content, since their memory may be freed and
/// reused.
#[derive(Debug)]
pub struct FactoryResource {
    attributes: (usize, usize),
    converted: OnceLock<Arc<SpanResource>>,
}

impl FactoryResource {
    /// The factory's resource attributes (`PluginContext::resource_attributes`).
    pub fn new(attributes: &[api::KeyValue<'_>]) -> FactoryResource {
        FactoryResource {
            attributes: (attributes.as_ptr() as usize, attributes.len()),
            converted: OnceLock::new(),
        }
    }

    fn recognise(&self, view: &api::Resource<'_>) -> Option<Arc<SpanResource>> {
        let attributes = view.attributes.as_slice();
        // An empty slice has no address of its own.
        let same = !attributes.is_empty()
            && (attributes.as_ptr() as usize, attributes.len()) == self.attributes;
        same.then(|| {
            Arc::clone(
                self.converted
                    .get_or_init(|| Arc::new(SpanResource::new(view))),
            )
        })
    }
}

/// The resource a span came with, as OTLP.
#[derive(Debug, PartialEq)]
pub struct SpanResource {
    resource: Resource,
    schema_url: String,
}

impl SpanResource {
    fn new(view: &api::Resource<'_>) -> SpanResource {
        SpanResource {
            resource: Resource {
                attributes: encode::key_values(view.attributes.as_slice()),
                ..Default::default()
            },
            schema_url: view.schema_url.to_string(),
        }
    }

    /// Whether `view` holds this resource (compared without allocating, but for
    /// array values).
    fn is(&self, view: &api::Resource<'_>) -> bool {
        let attributes = &self.resource.attributes;
        self.schema_url == view.schema_url.as_str()
            && attributes.len() == view.attributes.len()
            && attributes
                .iter()
                .zip(view.attributes.iter())
                .all(|(kv, view)| kv.key == view.key.as_str() && same_value(kv, &view.value))
    }

    /// The resource with the preset's attributes (`DD_SERVICE`, ...) put over its own.
    fn with_overrides(&self, overrides: &[(String, String)]) -> Cow<'_, Resource> {
        if overrides.is_empty() {
            return Cow::Borrowed(&self.resource);
        }
        let mut resource = self.resource.clone();
        for (key, value) in overrides {
            resource.attributes.retain(|kv| kv.key != *key);
            resource
                .attributes
                .push(encode::string_key_value(key, value));
        }
        Cow::Owned(resource)
    }
}

fn same_value(kv: &KeyValue, value: &api::Value<'_>) -> bool {
    use any_value::Value as Any;
    let converted = kv.value.as_ref().and_then(|v| v.value.as_ref());
    match (converted, value.get()) {
        (Some(Any::StringValue(s)), api::ValueRef::String(v)) => s == v,
        (Some(Any::BoolValue(b)), api::ValueRef::Bool(v)) => *b == v,
        (Some(Any::IntValue(i)), api::ValueRef::I64(v)) => *i == v,
        (Some(Any::DoubleValue(f)), api::ValueRef::F64(v)) => f.to_bits() == v.to_bits(),
        (Some(Any::ArrayValue(array)), _) => {
            matches!(encode::any_value(value).value, Some(Any::ArrayValue(other)) if other == *array)
        }
        _ => false,
    }
}

/// The instrumentation scope a span came from, shared by the spans that have it.
#[derive(Debug, PartialEq)]
pub struct Scope {
    scope: InstrumentationScope,
    schema_url: String,
}

impl Scope {
    fn new(view: &api::InstrumentationScope<'_>) -> Scope {
        Scope {
            scope: InstrumentationScope {
                name: view.name.to_string(),
                version: view.version.map(|v| v.to_string()).unwrap_or_default(),
                attributes: encode::key_values(view.attributes.as_slice()),
                dropped_attributes_count: 0,
            },
            schema_url: view.schema_url.map(|v| v.to_string()).unwrap_or_default(),
        }
    }

    /// Whether a scope without attributes matches this one (the common case, checked
    /// without allocating).
    fn is(&self, view: &api::InstrumentationScope<'_>) -> bool {
        view.attributes.is_empty()
            && self.scope.attributes.is_empty()
            && self.scope.name == view.name.as_str()
            && self.scope.version == view.version.map(|v| v.as_str()).unwrap_or_default()
            && self.schema_url == view.schema_url.map(|v| v.as_str()).unwrap_or_default()
    }
}

type Last<T> = RefCell<Option<Arc<T>>>;

thread_local! {
    /// The last resource and scope this thread saw: most threads end spans of one
    /// tracer of one provider.
    static LAST_RESOURCE: Last<SpanResource> = const { RefCell::new(None) };
    static LAST_SCOPE: Last<Scope> = const { RefCell::new(None) };
}

/// `view` converted, shared: the thread's last conversion when it matches.
fn cached<T, V: ?Sized>(
    last: &'static std::thread::LocalKey<Last<T>>,
    view: &V,
    is: impl Fn(&T, &V) -> bool,
    convert: impl Fn(&V) -> T,
) -> Arc<T> {
    last.with_borrow_mut(|last| match last.as_ref() {
        Some(known) if is(known, view) => Arc::clone(known),
        _ => Arc::clone(last.insert(Arc::new(convert(view)))),
    })
}

/// Whether two shared values are the same one, or equal.
fn same<T: PartialEq>(a: &T, b: &T) -> bool {
    std::ptr::eq(a, b) || a == b
}

/// The values grouped under their keys, in the order the keys first appear.
fn group<'a, K: PartialEq, V>(items: impl Iterator<Item = (&'a K, V)>) -> Vec<(&'a K, Vec<V>)> {
    let mut groups: Vec<(&K, Vec<V>)> = Vec::new();
    for (key, value) in items {
        match groups.iter_mut().find(|(k, _)| same(*k, key)) {
            Some((_, values)) => values.push(value),
            None => groups.push((key, vec![value])),
        }
    }
    groups
}

/// Spans by resource, then by scope, in the order each first appears.
type Groups<'a> = Vec<(&'a SpanResource, Vec<(&'a Scope, Vec<&'a [u8]>)>)>;

fn by_resource(spans: &[Queued]) -> Groups<'_> {
    group(spans.iter().map(|q| (&*q.resource, q)))
        .into_iter()
        .map(|(resource, spans)| {
            let by_scope = group(spans.into_iter().map(|q| (&*q.scope, q.span.as_slice())));
            (resource, by_scope)
        })
        .collect()
}

fn len_delimited_size(tag: u32, len: usize) -> usize {
    prost::encoding::key_len(tag) + encoded_len_varint(len as u64) + len
}

fn string_field_size(tag: u32, text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        len_delimited_size(tag, text.len())
    }
}

fn scope_spans_len(scope: &Scope, spans: &[&[u8]]) -> usize {
    len_delimited_size(1, scope.scope.encoded_len())
        + spans
            .iter()
            .map(|span| len_delimited_size(2, span.len()))
            .sum::<usize>()
        + string_field_size(3, &scope.schema_url)
}

fn put_scope_spans(out: &mut Vec<u8>, scope: &Scope, spans: &[&[u8]]) {
    encode_key(2, WireType::LengthDelimited, out);
    encode_varint(scope_spans_len(scope, spans) as u64, out);
    encode_key(1, WireType::LengthDelimited, out);
    encode_varint(scope.scope.encoded_len() as u64, out);
    scope.scope.encode_raw(out);
    for span in spans {
        put_len_delimited(out, 2, span);
    }
    put_bytes(out, 3, scope.schema_url.as_bytes());
}

/// The protobuf `ExportTraceServiceRequest` holding `spans`, framed around their bytes.
fn request_bytes(spans: &[Queued], overrides: &[(String, String)]) -> Vec<u8> {
    let groups = by_resource(spans);
    let mut out = Vec::with_capacity(spans.iter().map(|q| q.span.len() + 8).sum::<usize>() + 256);
    for (resource, scopes) in &groups {
        let message = resource.with_overrides(overrides);
        let resource_len = message.encoded_len();
        let resource_spans_len = len_delimited_size(1, resource_len)
            + scopes
                .iter()
                .map(|(scope, spans)| len_delimited_size(2, scope_spans_len(scope, spans)))
                .sum::<usize>()
            + string_field_size(3, &resource.schema_url);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(resource_spans_len as u64, &mut out);
        encode_key(1, WireType::LengthDelimited, &mut out);
        encode_varint(resource_len as u64, &mut out);
        message.encode_raw(&mut out);
        for (scope, spans) in scopes {
            put_scope_spans(&mut out, scope, spans);
        }
        put_bytes(&mut out, 3, resource.schema_url.as_bytes());
    }
    out
}

/// The same request as messages, for the JSON encoding.
fn request_message(spans: &[Queued], overrides: &[(String, String)]) -> ExportTraceServiceRequest {
    let resource_spans = by_resource(spans)
        .into_iter()
        .map(|(resource, scopes)| ResourceSpans {
            resource: Some(resource.with_overrides(overrides).into_owned()),
            scope_spans: scopes
                .into_iter()
                .map(|(scope, spans)| ScopeSpans {
                    scope: Some(scope.scope.clone()),
                    spans: spans
                        .into_iter()
                        .map(|bytes| Span::decode(bytes).expect("our own encoding decodes"))
                        .collect(),
                    schema_url: scope.schema_url.clone(),
                })
                .collect(),
            schema_url: resource.schema_url.clone(),
        })
        .collect();
    ExportTraceServiceRequest { resource_spans }
}

/// The HTTP body for a batch: protobuf or JSON, optionally gzipped; `overrides` are
/// resource attributes a preset sets over every span's resource.
pub fn body(
    spans: &[Queued],
    overrides: &[(String, String)],
    protocol: Protocol,
    compression: Compression,
) -> Vec<u8> {
    let plain = match protocol {
        Protocol::Protobuf => request_bytes(spans, overrides),
        Protocol::Json => serde_json::to_vec(&request_message(spans, overrides))
            .expect("OTLP messages always serialize"),
    };
    match compression {
        Compression::None => plain,
        Compression::Gzip => {
            let mut encoder = GzEncoder::new(Vec::with_capacity(plain.len() / 4), GzLevel::fast());
            encoder
                .write_all(&plain)
                .and_then(|()| encoder.finish())
                .expect("gzip into memory cannot fail")
        }
    }
}

#[cfg(test)]
mod tests;
