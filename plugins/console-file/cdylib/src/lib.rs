//! The loadable `console_file` plugin: the functions of [`spanplug_console_file`], exported.

use spanplug_console_file::{debug_span_processor, default_tracing_exporter};

spanplug_api::export_plugin! {
    default_tracing_exporter: "Writes each span as JSON (Python ConsoleSpanExporter layout) to <log_dir>/spans/<service>_<pid>.json",
    debug_span_processor: "Writes each span as JSON (Python ConsoleSpanExporter layout) to stdout",
}
