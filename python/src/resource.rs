//! Python resources as the loader's [`ResourceRecord`]: in the Python SDK's own order
//! (a dict's: insertion order), for factories and spans alike.

use std::sync::Arc;

use pyo3::intern;
use pyo3::prelude::*;
use spanplug_loader::span::{Attribute, ResourceRecord};

use crate::values::mapping_items;

/// A Python resource converted once, for the spans that carry it.
#[pyclass(frozen, module = "spanplug._native")]
pub(crate) struct SpanResource(pub(crate) Arc<ResourceRecord>);

#[pymethods]
impl SpanResource {
    #[new]
    fn new(attributes: &Bound<'_, PyAny>, schema_url: Option<String>) -> PyResult<Self> {
        Ok(SpanResource(Arc::new(ResourceRecord::new(
            mapping_items(attributes)?,
            schema_url.as_deref().unwrap_or(""),
        ))))
    }
}

/// What factories are told of the SDK `resource`: its attributes in its order, with
/// the config's `service_name` (which wins over the SDK's, as in a Rust host) in
/// `service.name`'s place.
pub(crate) fn factory_resource(
    resource: &Bound<'_, PyAny>,
    service_name: Option<&str>,
) -> PyResult<ResourceRecord> {
    let py = resource.py();
    let schema_url: Option<String> = resource.getattr(intern!(py, "schema_url"))?.extract()?;
    let mut attributes = mapping_items(&resource.getattr(intern!(py, "attributes"))?)?;
    if let Some(name) = service_name {
        let configured = Attribute::new("service.name", name);
        match attributes.iter_mut().find(|kv| &*kv.key == "service.name") {
            Some(slot) => *slot = configured,
            None => attributes.push(configured),
        }
    }
    Ok(ResourceRecord::new(
        attributes,
        schema_url.as_deref().unwrap_or(""),
    ))
}
