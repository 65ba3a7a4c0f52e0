//! Attribute values between Python and the loader's owned values: one table each way.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::{intern, IntoPyObjectExt};
use spanplug_api::OwnedValue;
use spanplug_loader::span::count_unrepresentable;
use spanplug_loader::span::{intern as shared_key, Attribute};

/// The attributes of a Python mapping (`BoundedAttributes`, a dict, or None) in its
/// order; values the interface cannot carry are counted and left out. The SDK's
/// `BoundedAttributes` is read through its inner dict: its own mapping methods are
/// Python code, several calls per attribute.
pub(crate) fn attributes(mapping: &Bound<'_, PyAny>) -> PyResult<Vec<Attribute>> {
    if mapping.is_none() {
        return Ok(Vec::new());
    }
    let inner = mapping.getattr_opt(intern!(mapping.py(), "_dict"))?;
    let dict = match inner.as_ref().unwrap_or(mapping).cast::<PyDict>() {
        Ok(dict) => dict.clone(),
        Err(_) => return mapping_items(mapping),
    };
    let mut out = Vec::with_capacity(dict.len());
    for (key, value) in dict.iter() {
        if let Some(value) = owned_value(&value)? {
            let key = key.cast::<PyString>()?.to_cow()?;
            out.push(Attribute {
                key: shared_key(&key),
                value,
            });
        }
    }
    Ok(out)
}

/// The attributes of any other mapping (a `Resource`'s `attributes`), through its
/// `items()`, in its order.
pub(crate) fn mapping_items(mapping: &Bound<'_, PyAny>) -> PyResult<Vec<Attribute>> {
    let mut out = Vec::new();
    for item in mapping
        .call_method0(intern!(mapping.py(), "items"))?
        .try_iter()?
    {
        let (key, value): (String, Bound<'_, PyAny>) = item?.extract()?;
        if let Some(value) = owned_value(&value)? {
            out.push(Attribute::new(&key, value));
        }
    }
    Ok(out)
}

/// A Python scalar attribute value: bool, int (64-bit), float, str, bytes (UTF-8).
fn scalar(value: &Bound<'_, PyAny>) -> Option<OwnedValue> {
    if let Ok(b) = value.cast::<PyBool>() {
        Some(OwnedValue::Bool(b.is_true()))
    } else if value.is_instance_of::<PyInt>() {
        value.extract::<i64>().ok().map(OwnedValue::I64)
    } else if let Ok(f) = value.cast::<PyFloat>() {
        Some(OwnedValue::F64(f.value()))
    } else if value.is_instance_of::<PyString>() {
        value.extract::<String>().ok().map(OwnedValue::String)
    } else if let Ok(b) = value.cast::<PyBytes>() {
        std::str::from_utf8(b.as_bytes())
            .ok()
            .map(|s| OwnedValue::String(s.to_string()))
    } else {
        None
    }
}

/// The items of a homogeneous list of scalars, as `pick` takes each; `None` if any
/// item is of another kind.
fn homogeneous<T>(
    items: Vec<OwnedValue>,
    pick: impl Fn(OwnedValue) -> Option<T>,
) -> Option<Vec<T>> {
    items.into_iter().map(pick).collect()
}

/// A Python attribute value as the SDK's exporters take it: a scalar (see
/// [`scalar`]) or a homogeneous sequence of them. Anything else (an int beyond 64
/// bits, undecodable bytes, a mixed or nested sequence) is counted as unrepresentable
/// and left out.
pub(crate) fn owned_value(value: &Bound<'_, PyAny>) -> PyResult<Option<OwnedValue>> {
    if let Some(value) = scalar(value) {
        return Ok(Some(value));
    }
    if value.is_instance_of::<PyTuple>() || value.is_instance_of::<PyList>() {
        let items: Option<Vec<OwnedValue>> = value
            .try_iter()?
            .map(|item| item.map(|i| scalar(&i)))
            .collect::<PyResult<_>>()?;
        let array = match items {
            Some(items) => match items.first() {
                None => Some(OwnedValue::StringArray(Vec::new())),
                Some(OwnedValue::Bool(_)) => homogeneous(items, |v| match v {
                    OwnedValue::Bool(b) => Some(b),
                    _ => None,
                })
                .map(OwnedValue::BoolArray),
                Some(OwnedValue::I64(_)) => homogeneous(items, |v| match v {
                    OwnedValue::I64(i) => Some(i),
                    _ => None,
                })
                .map(OwnedValue::I64Array),
                Some(OwnedValue::F64(_)) => homogeneous(items, |v| match v {
                    OwnedValue::F64(f) => Some(f),
                    _ => None,
                })
                .map(OwnedValue::F64Array),
                Some(OwnedValue::String(_)) => homogeneous(items, |v| match v {
                    OwnedValue::String(s) => Some(s),
                    _ => None,
                })
                .map(OwnedValue::StringArray),
                Some(_) => None,
            },
            None => None,
        };
        if let Some(array) = array {
            return Ok(Some(array));
        }
    }
    count_unrepresentable();
    Ok(None)
}

/// An owned value as a Python one (what `span.set_attribute` takes).
pub(crate) fn python_value<'py>(
    py: Python<'py>,
    value: &OwnedValue,
) -> PyResult<Bound<'py, PyAny>> {
    match value {
        OwnedValue::Bool(b) => b.into_bound_py_any(py),
        OwnedValue::I64(i) => i.into_bound_py_any(py),
        OwnedValue::F64(f) => f.into_bound_py_any(py),
        OwnedValue::String(s) => s.as_str().into_bound_py_any(py),
        OwnedValue::BoolArray(items) => PyTuple::new(py, items)?.into_bound_py_any(py),
        OwnedValue::I64Array(items) => PyTuple::new(py, items)?.into_bound_py_any(py),
        OwnedValue::F64Array(items) => PyTuple::new(py, items)?.into_bound_py_any(py),
        OwnedValue::StringArray(items) => PyTuple::new(py, items)?.into_bound_py_any(py),
    }
}
