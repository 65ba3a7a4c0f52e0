//! A resource converted once, with the borrowed view its factories and every span
//! share.

use abi_stable::std_types::RStr;
use spanplug_api::{KeyValue, Resource};

use super::attributes::{point_string_arrays, push_attribute_views};
use super::record::Attribute;

/// A resource's attributes, in the order the front end gives them, with their view
/// built once.
pub struct ResourceRecord {
    /// Views into `attributes`, `_elements` and `schema_url`, built once.
    view: Vec<KeyValue<'static>>,
    /// Owns the element views of string-array attributes that `view` points at.
    _elements: Box<[RStr<'static>]>,
    schema_url: Box<str>,
    /// Owns the attributes `view` points at; read only through `view` and `get`.
    attributes: Box<[Attribute]>,
}

impl std::fmt::Debug for ResourceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceRecord")
            .field("attributes", &self.attributes)
            .field("schema_url", &self.schema_url)
            .finish()
    }
}

impl ResourceRecord {
    /// A resource with `attributes` in the order given, and a schema URL (empty for
    /// none).
    pub fn new(attributes: Vec<Attribute>, schema_url: &str) -> Self {
        let attributes: Box<[Attribute]> = attributes.into();
        // SAFETY: the views point into heap memory this struct owns and never
        // mutates: the boxed attributes (and the strings inside them), which do not
        // move when the struct moves. They are lent out only through `view(&self)`.
        let stable: &'static [Attribute] = unsafe { &*std::ptr::from_ref(&*attributes) };
        let mut view = Vec::with_capacity(stable.len());
        let mut elements = Vec::new();
        let arrays = push_attribute_views::<Attribute>(stable, &mut view, &mut elements);
        let elements: Box<[RStr<'static>]> = elements.into();
        // SAFETY: as for `stable`: the boxed slice's heap allocation is owned by the
        // returned struct (`_elements`), never mutated, and does not move with the
        // box; its views point into `stable`. Lent out only through `view(&self)`.
        let element_views: &'static [RStr<'static>] = unsafe { &*std::ptr::from_ref(&*elements) };
        point_string_arrays(&mut view, &arrays, element_views);
        ResourceRecord {
            view,
            _elements: elements,
            schema_url: schema_url.into(),
            attributes,
        }
    }

    /// The string value of the attribute `key`, if it has one.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.view
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .and_then(|kv| kv.value.as_str())
    }

    /// The view factories and every span share, borrowed for as long as `self`.
    pub fn view(&self) -> Resource<'_> {
        Resource {
            attributes: self.view.as_slice().into(),
            schema_url: (*self.schema_url).into(),
        }
    }
}
