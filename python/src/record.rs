//! A Python SDK span (`ReadableSpan`) copied into the loader's [`SpanRecord`], read
//! from its private fields: cheaper than its public properties, several of which
//! are Python code.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyIterator, PyTuple};
use spanplug_api::{SpanId, SpanKind, StatusCode, TraceId};
use spanplug_loader::span::{
    ContextRecord, EventRecord, LinkRecord, ResourceRecord, ScopeRecord, SpanRecord,
};

use crate::values::attributes;

/// A Python `SpanContext` (a tuple: trace_id, span_id, is_remote, trace_flags,
/// trace_state, is_valid); `tracestate` as its header.
fn context(context: &Bound<'_, PyAny>) -> PyResult<ContextRecord> {
    let context = context.cast::<PyTuple>()?;
    let trace_state = context.get_item(4)?;
    // Through its inner dict: the SDK's `TraceState.__len__` is Python code.
    let entries = match trace_state.getattr_opt(intern!(context.py(), "_dict"))? {
        Some(dict) => dict.len()?,
        None => trace_state.len()?,
    };
    let trace_state = if entries == 0 {
        String::new()
    } else {
        trace_state
            .call_method0(intern!(context.py(), "to_header"))?
            .extract()?
    };
    Ok(ContextRecord {
        trace_id: TraceId(context.get_item(0)?.extract::<u128>()?.to_be_bytes()),
        span_id: SpanId(context.get_item(1)?.extract::<u64>()?.to_be_bytes()),
        trace_flags: context.get_item(3)?.extract::<u8>()?,
        is_remote: context.get_item(2)?.extract()?,
        trace_state,
    })
}

/// The items of the SDK's `BoundedList` (through its deque: its own iterator is
/// Python code), or of any other sequence.
fn items<'py>(list: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyIterator>> {
    match list.getattr_opt(intern!(list.py(), "_dq"))? {
        Some(deque) => deque.try_iter(),
        None => list.try_iter(),
    }
}

/// The SDK's enum members whose index is the interface's code: `SpanKind` and
/// `StatusCode`, fetched once. Compared by identity, since an enum's `.value` is
/// Python code.
struct Members {
    kinds: Vec<Py<PyAny>>,
    codes: Vec<Py<PyAny>>,
}

static MEMBERS: PyOnceLock<Members> = PyOnceLock::new();

fn members(py: Python<'_>) -> PyResult<&'static Members> {
    MEMBERS.get_or_try_init(py, || {
        let trace = py.import("opentelemetry.trace")?;
        let fetch = |class: &str, names: &[&str]| -> PyResult<Vec<Py<PyAny>>> {
            let class = trace.getattr(class)?;
            names
                .iter()
                .map(|name| Ok(class.getattr(*name)?.unbind()))
                .collect()
        };
        Ok(Members {
            kinds: fetch(
                "SpanKind",
                &["INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"],
            )?,
            codes: fetch("StatusCode", &["UNSET", "OK", "ERROR"])?,
        })
    })
}

/// The index of `value` among `members`, by identity; falls back to its `.value`.
/// Both enums' values are the interface's codes.
fn member_index(members: &[Py<PyAny>], value: &Bound<'_, PyAny>) -> PyResult<u8> {
    match members.iter().position(|m| m.is(value)) {
        Some(index) => Ok(index as u8),
        None => value.getattr(intern!(value.py(), "value"))?.extract::<u8>(),
    }
}

/// How many items a bounded collection dropped (`BoundedAttributes`, `BoundedList`).
fn dropped(collection: &Bound<'_, PyAny>) -> PyResult<u32> {
    match collection.getattr_opt(intern!(collection.py(), "dropped"))? {
        Some(count) => Ok(count.extract::<u32>().unwrap_or(u32::MAX)),
        None => Ok(0),
    }
}

/// An SDK span as a record with the resource `resource`; `ended` says whether it
/// has ended (a starting span has no end, events, links or status yet).
pub(crate) fn span_record(
    span: &Bound<'_, PyAny>,
    ended: bool,
    resource: &Arc<ResourceRecord>,
) -> PyResult<SpanRecord> {
    let py = span.py();
    let parent = span.getattr(intern!(py, "_parent"))?;
    let (parent_span_id, parent_is_remote) = if parent.is_none() {
        (SpanId::INVALID, false)
    } else {
        let parent = parent.cast::<PyTuple>()?;
        (
            SpanId(parent.get_item(1)?.extract::<u64>()?.to_be_bytes()),
            parent.get_item(2)?.extract()?,
        )
    };
    let known = members(py)?;
    let start: u64 = span
        .getattr(intern!(py, "_start_time"))?
        .extract()
        .unwrap_or(0);
    let span_attributes = span.getattr(intern!(py, "_attributes"))?;
    let mut record = SpanRecord {
        context: context(&span.getattr(intern!(py, "_context"))?)?,
        parent_span_id,
        parent_is_remote,
        name: span.getattr(intern!(py, "_name"))?.extract()?,
        kind: SpanKind(member_index(
            &known.kinds,
            &span.getattr(intern!(py, "_kind"))?,
        )?),
        start_time_unix_nano: start,
        end_time_unix_nano: start,
        attributes: attributes(&span_attributes)?,
        dropped_attributes_count: dropped(&span_attributes)?,
        events: Vec::new(),
        dropped_events_count: 0,
        links: Vec::new(),
        dropped_links_count: 0,
        status_code: StatusCode::UNSET,
        status_description: String::new(),
        scope: scope(&span.getattr(intern!(py, "_instrumentation_scope"))?)?,
        resource: Arc::clone(resource),
    };
    if ended {
        record.end_time_unix_nano = span
            .getattr(intern!(py, "_end_time"))?
            .extract()
            .unwrap_or(start);
        ended_lists(span, &mut record, known)?;
    }
    Ok(record)
}

/// What only an ended span has: events, links, status.
fn ended_lists(span: &Bound<'_, PyAny>, record: &mut SpanRecord, known: &Members) -> PyResult<()> {
    let py = span.py();
    let python_events = span.getattr(intern!(py, "_events"))?;
    record.dropped_events_count = dropped(&python_events)?;
    for event in items(&python_events)? {
        let event = event?;
        let event_attributes = event.getattr(intern!(py, "_attributes"))?;
        record.events.push(EventRecord {
            name: event.getattr(intern!(py, "_name"))?.extract()?,
            time_unix_nano: event.getattr(intern!(py, "_timestamp"))?.extract()?,
            attributes: attributes(&event_attributes)?,
            dropped_attributes_count: dropped(&event_attributes)?,
        });
    }
    let python_links = span.getattr(intern!(py, "_links"))?;
    record.dropped_links_count = dropped(&python_links)?;
    for link in items(&python_links)? {
        let link = link?;
        let link_attributes = link.getattr(intern!(py, "_attributes"))?;
        record.links.push(LinkRecord {
            context: context(&link.getattr(intern!(py, "_context"))?)?,
            attributes: attributes(&link_attributes)?,
            dropped_attributes_count: dropped(&link_attributes)?,
        });
    }
    let status = span.getattr(intern!(py, "_status"))?;
    record.status_code = StatusCode(member_index(
        &known.codes,
        &status.getattr(intern!(py, "_status_code"))?,
    )?);
    if record.status_code == StatusCode::ERROR {
        record.status_description = status
            .getattr(intern!(py, "_description"))?
            .extract::<Option<String>>()?
            .unwrap_or_default();
    }
    Ok(())
}

/// How many instrumentation scopes each thread keeps converted; past this many (in
/// the process), scopes are converted span by span instead.
const MAX_CACHED_SCOPES: usize = 256;

static CACHED_SCOPES: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Scopes this thread converted, with the Python objects they came from (kept
    /// alive, so an address is never reused for another scope).
    static SCOPES: RefCell<Vec<(Py<PyAny>, Arc<ScopeRecord>)>> = const { RefCell::new(Vec::new()) };
}

/// A span's instrumentation scope: a tracer's scope is one object for all its spans,
/// converted once and shared.
fn scope(scope: &Bound<'_, PyAny>) -> PyResult<Arc<ScopeRecord>> {
    if let Some(found) = SCOPES.with_borrow(|scopes| {
        scopes
            .iter()
            .find(|(object, _)| object.is(scope))
            .map(|(_, converted)| Arc::clone(converted))
    }) {
        return Ok(found);
    }
    let converted = Arc::new(convert_scope(scope)?);
    if CACHED_SCOPES.fetch_add(1, Ordering::Relaxed) < MAX_CACHED_SCOPES {
        SCOPES.with_borrow_mut(|scopes| {
            scopes.push((scope.clone().unbind(), Arc::clone(&converted)));
        });
    }
    Ok(converted)
}

fn convert_scope(scope: &Bound<'_, PyAny>) -> PyResult<ScopeRecord> {
    if scope.is_none() {
        return Ok(ScopeRecord::default());
    }
    let py = scope.py();
    Ok(ScopeRecord {
        name: scope.getattr(intern!(py, "_name"))?.extract()?,
        version: scope.getattr(intern!(py, "_version"))?.extract()?,
        schema_url: scope
            .getattr(intern!(py, "_schema_url"))?
            .extract::<Option<String>>()?
            .filter(|url| !url.is_empty()),
        attributes: match scope.getattr_opt(intern!(py, "_attributes"))? {
            Some(scope_attributes) => attributes(&scope_attributes)?,
            None => Vec::new(),
        },
    })
}
