//! The loadable `span_filter` plugin: the functions of [`spanplug_span_filter`], exported.

use spanplug_span_filter::drop;

spanplug_api::export_plugin! {
    #[transformer]
    drop: "Drops spans matching any rule (config: names, attributes key=glob, status, kinds) before later processors export them",
}
