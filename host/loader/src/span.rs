//! The span path of every front end: a span source lends the loader a view of itself
//! ([`SpanSource`]), built in per-thread buffers ([`with_view`]), and
//! [`Stages::on_end_span`](crate::Stages::on_end_span) runs the processors over it.
//!
//! The `opentelemetry_sdk` adapter implements [`SpanSource`] over the SDK's own span,
//! borrowed as it is; a front end without a Rust SDK (the Python bridge) fills a
//! [`SpanRecord`] from its SDK's fields. The same builder makes both views, as
//! pydantic-core's one `Input` trait serves Python and JSON input alike.

mod attributes;
pub(crate) use attributes::owned_view;
mod builder;
mod record;
mod resource;
mod source;
#[cfg(any(test, feature = "test-support"))]
pub mod test_support;
mod unique_keys;

pub use crate::chain::count_unrepresentable;
pub use attributes::{AttributeType, AttributeViews};
pub use builder::{reserve_view_buffers, with_attribute_views, with_view, ViewBuilder, ViewHead};
pub use record::{
    intern, Attribute, ContextRecord, EventRecord, LinkRecord, ScopeRecord, SpanRecord,
};
pub use resource::ResourceRecord;
pub use source::SpanSource;
