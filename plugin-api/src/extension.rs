//! Per-span extension tables: where later minors add per-span data.
//!
//! [`SpanView`](crate::SpanView) and [`StartingSpan`](crate::StartingSpan) are plain
//! structs, frozen for the major (abi_stable compares a plain struct's size and fields
//! exactly). Each ends with a reference to a prefix-type table; a later minor appends
//! fields to the table, and a plugin built against an older minor never reads them,
//! while one built against a newer minor reads them as `None` from an older host.
//!
//! The host builds a table per span on its stack, without allocating: the table's
//! metadata is a constant of its type, so [`WithMetadata::new`] only copies the fields.
//!
//! The reference cannot outlive the storage it was taken from (nor, therefore, the
//! span view holding it):
//!
//! ```compile_fail
//! use spanplug_api::{SpanViewExt, SpanViewExtRef, SpanViewExtStorage};
//!
//! fn escape() -> SpanViewExtRef<'static> {
//!     let storage = SpanViewExtStorage::new(SpanViewExt::current());
//!     storage.table() // error: returns a value referencing a local variable
//! }
//! ```

use std::fmt;
use std::marker::PhantomData;

use abi_stable::{
    prefix_type::{PrefixRef, WithMetadata},
    StableAbi,
};

/// Per-span data of an ended span, after the frozen fields of
/// [`SpanView`](crate::SpanView). Read through [`SpanViewExtRef`].
#[repr(C)]
#[derive(StableAbi, Debug)]
#[sabi(kind(Prefix(prefix_ref = SpanViewExtRef, prefix_fields = SpanViewExt_Prefix)))]
pub struct SpanViewExt<'a> {
    /// Ties the table to the span it was built for; later fields borrow from it.
    pub span: PhantomData<&'a ()>,
    /// Zero in 0.3; the last prefix field: later minors append after it.
    #[sabi(last_prefix_field)]
    pub reserved: u64,
    /// The next-minor probe: one appended member (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: u32,
}

/// Per-span data of a starting span, after the frozen fields of
/// [`StartingSpan`](crate::StartingSpan). Read through [`StartingSpanExtRef`].
#[repr(C)]
#[derive(StableAbi, Debug)]
#[sabi(kind(Prefix(prefix_ref = StartingSpanExtRef, prefix_fields = StartingSpanExt_Prefix)))]
pub struct StartingSpanExt<'a> {
    /// Ties the table to the span it was built for; later fields borrow from it.
    pub span: PhantomData<&'a ()>,
    /// Zero in 0.3; the last prefix field: later minors append after it.
    #[sabi(last_prefix_field)]
    pub reserved: u64,
    /// The next-minor probe: one appended member (hidden, for compatibility tests).
    #[cfg(feature = "next-minor-probe")]
    #[doc(hidden)]
    pub next_minor_probe: u32,
}

macro_rules! extension_storage {
    ($table:ident, $reference:ident, $storage:ident) => {
        /// A table the host fills for one span, kept on its stack while the span's
        /// view is lent out; the view borrows it through [`Self::table`].
        pub struct $storage<'a>(WithMetadata<$table<'a>>);

        impl<'a> $storage<'a> {
            /// Wraps the fields; `WithMetadata::new` adds the type's constant metadata.
            pub const fn new(table: $table<'a>) -> Self {
                $storage(WithMetadata::new(table))
            }

            /// The reference a view carries; its lifetime keeps it within this storage's.
            pub fn table(&'a self) -> $reference<'a> {
                // The pointer comes from a `WithMetadata` made by `WithMetadata::new`
                // (so `T: PrefixTypeTrait<Fields = P>` holds and the metadata is the
                // type's `'static` constant) and points to initialised fields.
                // `from_raw`'s documentation asks for a pointer that lives for the rest
                // of the program because `PrefixRef<P>` itself has no lifetime; here `P`
                // (`*_Prefix<'a>`) carries `'a`, the borrow of `self`, so the reference,
                // every copy of it and every view holding it are confined to that borrow
                // on both sides of the boundary (a plugin gets the view for one call).
                // SAFETY: as above; abi_stable keeps no `PrefixRef` of its own.
                $reference(unsafe { PrefixRef::from_raw(&self.0) })
            }
        }

        impl fmt::Debug for $storage<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($storage))
                    .field(&self.0.value.0)
                    .finish()
            }
        }

        impl fmt::Debug for $reference<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($reference))
                    .field("reserved", &self.reserved())
                    .finish_non_exhaustive()
            }
        }
    };
}

extension_storage!(SpanViewExt, SpanViewExtRef, SpanViewExtStorage);
extension_storage!(StartingSpanExt, StartingSpanExtRef, StartingSpanExtStorage);

impl SpanViewExt<'_> {
    /// The table as this interface version fills it for a span with no extra data.
    pub const fn current() -> Self {
        SpanViewExt {
            span: PhantomData,
            reserved: 0,
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: crate::PROBE_PRESENT,
        }
    }
}

impl StartingSpanExt<'_> {
    /// The table as this interface version fills it for a span with no extra data.
    pub const fn current() -> Self {
        StartingSpanExt {
            span: PhantomData,
            reserved: 0,
            #[cfg(feature = "next-minor-probe")]
            next_minor_probe: crate::PROBE_PRESENT,
        }
    }
}

/// One table shared by views that carry no per-span data (tests, benchmarks).
static EMPTY_SPAN_VIEW_EXT: WithMetadata<SpanViewExt<'static>> =
    WithMetadata::new(SpanViewExt::current());

impl SpanViewExtRef<'static> {
    /// A table with no per-span data, for views built outside a host's span path.
    pub fn empty() -> Self {
        SpanViewExtRef(EMPTY_SPAN_VIEW_EXT.static_as_prefix())
    }
}
