//! Attribute keys made unique before a span is viewed: OTLP requires it, and the SDK
//! appends a key set again instead of replacing it. A key set again keeps its first
//! place and takes the last value; the order of first places is kept.
//!
//! It runs in `Span::end()`, on the application thread (from Python, with the GIL
//! held), so it stays linear at any size: spans can carry as many attributes as
//! their span limits allow.

use std::collections::HashMap;

use super::attributes::AttributeType;

/// Up to this many attributes, a flagged span is mended by comparing each key with
/// the ones kept before it: at most 496 comparisons and no allocation. Past it, a
/// hash map finds each key's place, a constant cost per attribute.
const SCANNED: usize = 32;

/// Makes the keys of `attributes` unique (see the module docs): a span the filter
/// clears is left as it is; one it flags is mended in place.
#[inline(always)]
pub(crate) fn dedupe_attributes<T: AttributeType>(attributes: &mut Vec<T::Attribute>) {
    if may_repeat_keys::<T>(attributes) {
        mend_repeated_keys::<T>(attributes);
    }
}

/// A 64-bit filter of each key's length and first, middle and last bytes, in one
/// pass: `false` for most spans. It flags `ray.serve.request_id` with
/// `ray.serve.replica_id` (they share those bytes), and nearly any span with more
/// than a few dozen keys.
#[inline(always)]
fn may_repeat_keys<T: AttributeType>(attributes: &[T::Attribute]) -> bool {
    if attributes.len() < 2 {
        return false;
    }
    let (mut seen, mut suspect) = (0u64, 0u64);
    for kv in attributes {
        let key = T::key(kv).as_bytes();
        let hash = match key {
            [] => 0,
            [first, ..] => (key.len() as u32)
                .wrapping_mul(31)
                .wrapping_add(u32::from(key[key.len() - 1]).wrapping_mul(7))
                .wrapping_add(u32::from(key[key.len() / 2]).wrapping_mul(3))
                .wrapping_add(u32::from(*first)),
        };
        let bit = 1u64 << (hash & 63);
        suspect |= seen & bit;
        seen |= bit;
    }
    suspect != 0
}

/// A flagged span mended: by comparison while it is small, through each key's place
/// past [`SCANNED`] attributes. Out of line, so that spans the filter clears do not
/// pay for it.
#[inline(never)]
fn mend_repeated_keys<T: AttributeType>(attributes: &mut Vec<T::Attribute>) {
    if attributes.len() <= SCANNED {
        mend::<T>(attributes, |kept, attribute, _| {
            kept.iter()
                .position(|earlier| KeyText::of::<T>(earlier) == KeyText::of::<T>(attribute))
        });
    } else {
        let places = places::<T>(attributes);
        mend::<T>(attributes, |kept, _, index| {
            let place = places[index];
            (place < kept.len()).then_some(place)
        });
    }
}

/// Keeps the first attribute of each key, in order, with the value of the key's last.
/// `earlier(kept, attribute, index)` is the place among the attributes kept so far of
/// the key of `attribute` (at `index`), if one of them has it. Each attribute moves at
/// most once.
fn mend<T: AttributeType>(
    attributes: &mut Vec<T::Attribute>,
    mut earlier: impl FnMut(&[T::Attribute], &T::Attribute, usize) -> Option<usize>,
) {
    let mut kept = 0;
    for index in 0..attributes.len() {
        let (before, rest) = attributes.split_at_mut(index);
        let attribute = &mut rest[0];
        match earlier(&before[..kept], attribute, index) {
            // The repeat keeps the replaced value, and is dropped with it below.
            Some(place) => T::swap_value(&mut before[place], attribute),
            None => {
                attributes.swap(kept, index);
                kept += 1;
            }
        }
    }
    attributes.truncate(kept);
}

/// Each attribute's place once the keys are unique: the number of distinct keys seen
/// before its key first appears. `std`'s randomly seeded hasher, so that keys chosen
/// by a client cannot make the lookups collide.
fn places<T: AttributeType>(attributes: &[T::Attribute]) -> Vec<usize> {
    let mut place_of = HashMap::with_capacity(attributes.len());
    attributes
        .iter()
        .map(|kv| {
            let next = place_of.len();
            *place_of.entry(KeyText::of::<T>(kv)).or_insert(next)
        })
        .collect()
}

/// An attribute's key, compared by its text (tests count the comparisons).
#[derive(Hash)]
struct KeyText<'a>(&'a str);

impl<'a> KeyText<'a> {
    fn of<T: AttributeType>(kv: &'a T::Attribute) -> Self {
        KeyText(T::key(kv))
    }
}

impl PartialEq for KeyText<'_> {
    fn eq(&self, other: &Self) -> bool {
        #[cfg(test)]
        tests::COMPARISONS.with(|count| count.set(count.get() + 1));
        self.0 == other.0
    }
}

impl Eq for KeyText<'_> {}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeMap;

    use spanplug_api::OwnedValue;

    use super::*;
    use crate::span::Attribute;

    thread_local! {
        /// Key comparisons made on this thread.
        pub(super) static COMPARISONS: Cell<usize> = const { Cell::new(0) };
    }

    fn deduped(pairs: &[(String, i64)]) -> Vec<(String, i64)> {
        let mut attributes: Vec<Attribute> = pairs
            .iter()
            .map(|(k, v)| Attribute::new(k.as_str(), *v))
            .collect();
        dedupe_attributes::<Attribute>(&mut attributes);
        attributes
            .iter()
            .map(|kv| match kv.value {
                OwnedValue::I64(v) => (kv.key.to_string(), v),
                _ => unreachable!("only integers here"),
            })
            .collect()
    }

    fn owned(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    /// What de-duplication must give, computed the obvious way.
    fn expected(pairs: &[(String, i64)]) -> Vec<(String, i64)> {
        let mut order = Vec::new();
        let mut last = BTreeMap::new();
        for (key, value) in pairs {
            if last.insert(key.clone(), *value).is_none() {
                order.push(key.clone());
            }
        }
        order.into_iter().map(|k| (k.clone(), last[&k])).collect()
    }

    /// `count` attributes over `count / 2` keys, valued by position: every key once,
    /// then every key again in another order.
    fn with_repeats(count: usize) -> Vec<(String, i64)> {
        let keys = count / 2;
        (0..count)
            .map(|i| (format!("attribute.{}", (i * 7919) % keys), i as i64))
            .collect()
    }

    #[test]
    fn a_key_set_again_keeps_its_first_place_and_its_last_value() {
        assert_eq!(
            deduped(&owned(&[("a", 1), ("b", 2), ("a", 3), ("", 4), ("", 5)])),
            owned(&[("a", 3), ("b", 2), ("", 5)])
        );
    }

    #[test]
    fn keys_the_filter_cannot_tell_apart_are_all_kept() {
        let keys = owned(&[("request_id", 1), ("replica_id", 2), ("http.route", 3)]);
        assert_eq!(deduped(&keys), keys);
        // Same length, first, middle and last bytes: the filter flags them.
        let keys = owned(&[("ray.serve.request_id", 1), ("ray.serve.replica_id", 2)]);
        assert_eq!(deduped(&keys), keys);
    }

    #[test]
    fn small_and_large_spans_keep_the_same_places_and_values() {
        for count in [2, 3, SCANNED - 1, SCANNED, SCANNED + 1, 100, 1000] {
            let pairs = with_repeats(count);
            assert_eq!(deduped(&pairs), expected(&pairs), "{count} attributes");
            let unique: Vec<_> = (0..count as i64).map(|i| (format!("k{i}"), i)).collect();
            assert_eq!(deduped(&unique), unique, "{count} unique keys");
            let same: Vec<_> = (0..count as i64).map(|i| ("k".to_string(), i)).collect();
            assert_eq!(deduped(&same), [("k".to_string(), count as i64 - 1)]);
        }
    }

    /// Key comparisons for `count` attributes, half of them repeats.
    fn comparisons(count: usize) -> usize {
        let pairs = with_repeats(count);
        COMPARISONS.with(|c| c.set(0));
        let result = deduped(&pairs);
        assert_eq!(result.len(), count / 2);
        COMPARISONS.with(Cell::get)
    }

    #[test]
    fn key_comparisons_grow_linearly_with_the_attributes() {
        // Comparing each key with every one kept before it would take a million
        // comparisons at 2,048 attributes and 4 million at 4,096.
        for count in [2_048, 4_096, 100_000] {
            let made = comparisons(count);
            assert!(
                made <= 2 * count,
                "{made} comparisons for {count} attributes"
            );
        }
    }
}
