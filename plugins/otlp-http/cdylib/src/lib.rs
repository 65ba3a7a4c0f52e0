//! The loadable `otlp_http` plugin: the functions of [`spanplug_otlp_http`], exported.

use spanplug_otlp_http::{datadog, honeycomb, jaeger, otlp};

spanplug_api::export_plugin! {
    otlp: "OTLP/HTTP to OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT (default http://localhost:4318), per the OpenTelemetry spec",
    datadog: "OTLP/HTTP to a Datadog Agent (default http://localhost:4318), service/env/version from DD_SERVICE/DD_ENV/DD_VERSION",
    honeycomb: "OTLP/HTTP to Honeycomb (HONEYCOMB_API_ENDPOINT, default https://api.honeycomb.io) with HONEYCOMB_WRITE_KEY",
    jaeger: "OTLP/HTTP to a Jaeger collector (default http://localhost:4318)",
}
