//! The loadable `context_enricher` plugin: the functions of [`spanplug_context_enricher`], exported.

use spanplug_context_enricher::{serve_context, static_attributes};

spanplug_api::export_plugin! {
    serve_context: "Copies the request context (request_id, app, deployment, replica_id, ...) onto each span at start",
    static_attributes: "Adds fixed attributes from exporter_config.static_attributes or SPANPLUG_ENRICH_ATTRIBUTES (k=v,k2=v2)",
}
