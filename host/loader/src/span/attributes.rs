//! Attribute views: the type of attribute a front end's span carries, and the views
//! pushed for it.

use abi_stable::std_types::RStr;
use spanplug_api::{KeyValue, OwnedValue, Value};

/// A type of attribute views can be built over, and whose keys can be made unique:
/// the loader's [`Attribute`](super::Attribute) or a front end's own (an SDK's
/// key-value type, borrowed as it is). Implemented by a type of the front end's
/// (the attribute type may be another crate's).
pub trait AttributeType {
    /// The attribute.
    type Attribute;
    /// Its key.
    fn key(attribute: &Self::Attribute) -> &str;
    /// Exchanges the values (not the keys) of two attributes.
    fn swap_value(one: &mut Self::Attribute, other: &mut Self::Attribute);
    /// Pushes its view.
    fn push_view<'s>(attribute: &'s Self::Attribute, views: &mut AttributeViews<'_, 's>);
}

/// Attribute views being pushed. A string array's element views need a buffer that
/// is complete before any view can borrow it, so its view is a placeholder until
/// every attribute is pushed; most spans have none.
#[derive(Debug)]
pub struct AttributeViews<'b, 's> {
    pub(super) views: &'b mut Vec<KeyValue<'s>>,
    /// Each string array's view index and length, in the order of `elements`.
    pub(super) arrays: &'b mut Vec<(usize, usize)>,
    pub(super) elements: &'b mut Vec<RStr<'s>>,
}

impl<'b, 's> AttributeViews<'b, 's> {
    /// Pushes a view of a value that is not a string array.
    #[inline(always)]
    pub fn push(&mut self, key: &'s str, value: Value<'s>) {
        self.views.push(KeyValue {
            key: key.into(),
            value,
        });
    }

    /// Pushes a string array's view.
    #[inline]
    pub fn push_string_array(&mut self, key: &'s str, items: impl Iterator<Item = &'s str>) {
        let before = self.elements.len();
        self.elements.extend(items.map(RStr::from));
        self.arrays
            .push((self.views.len(), self.elements.len() - before));
        self.push(key, Value::UNSUPPORTED);
    }

    /// Pushes every attribute of `attributes`.
    #[inline(always)]
    pub(crate) fn extend<T: AttributeType>(
        &mut self,
        attributes: impl Iterator<Item = &'s T::Attribute>,
    ) where
        T::Attribute: 's,
    {
        for attribute in attributes {
            T::push_view(attribute, self);
        }
    }
}

/// Points each string array among `views` at its run of `elements`.
pub(crate) fn point_string_arrays<'s>(
    views: &mut [KeyValue<'s>],
    arrays: &[(usize, usize)],
    elements: &'s [RStr<'s>],
) {
    let mut start = 0;
    for &(index, len) in arrays {
        views[index].value = Value::string_array(&elements[start..start + len]);
        start += len;
    }
}

/// Pushes views of `attributes` into vectors the caller keeps (a resource's, built
/// once); returns where the string arrays are, for [`point_string_arrays`] once
/// `elements` will not move again.
pub(crate) fn push_attribute_views<'s, T: AttributeType>(
    attributes: &'s [T::Attribute],
    views: &mut Vec<KeyValue<'s>>,
    elements: &mut Vec<RStr<'s>>,
) -> Vec<(usize, usize)> {
    let mut arrays = Vec::new();
    AttributeViews {
        views,
        arrays: &mut arrays,
        elements,
    }
    .extend::<T>(attributes.iter());
    arrays
}

/// The view of an owned value, but for a string array (whose elements need views of
/// their own first).
#[inline(always)]
pub(crate) fn owned_view(value: &OwnedValue) -> Option<Value<'_>> {
    Some(match value {
        OwnedValue::Bool(b) => Value::from(*b),
        OwnedValue::I64(i) => Value::from(*i),
        OwnedValue::F64(f) => Value::from(*f),
        OwnedValue::String(s) => Value::from(s.as_str()),
        OwnedValue::BoolArray(items) => Value::from(items.as_slice()),
        OwnedValue::I64Array(items) => Value::from(items.as_slice()),
        OwnedValue::F64Array(items) => Value::from(items.as_slice()),
        OwnedValue::StringArray(_) => return None,
    })
}
