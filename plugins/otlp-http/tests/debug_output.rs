//! The exporter's `Debug` output never shows a credential: not a header value, not
//! an endpoint's user info or query.

use std::time::Duration;

use spanplug_api::abi_stable::prefix_type::WithMetadata;
use spanplug_api::abi_stable::std_types::RStr;
use spanplug_api::{
    with_context, ContextParts, HostServices, HostServicesRef, LogLevel, PluginContext,
    PluginContextFields, SpanProcessor, StrPair,
};
use spanplug_otlp_http::batch::FactoryResource;
use spanplug_otlp_http::settings::{Settings, OTLP};
use spanplug_otlp_http::transport::Transport;
use spanplug_otlp_http::worker::Exporter;

extern "C" fn ignore_log(_: LogLevel, _: RStr<'_>, _: RStr<'_>) {}

static SERVICES: WithMetadata<HostServices> = WithMetadata::new(HostServices::new(ignore_log));

#[test]
fn exporter_and_transport_debug_show_no_credentials() {
    let config = [
        StrPair {
            key: "endpoint".into(),
            // Port 9 (discard): nothing is sent, no span is queued.
            value: "http://user:s3cret@127.0.0.1:9/p?token=s3cret".into(),
        },
        StrPair {
            key: "headers".into(),
            value: "x-key=s3cret".into(),
        },
    ];
    let keys = [RStr::from("endpoint"), RStr::from("headers")];
    let parts = ContextParts {
        import_path: "otlp_http:otlp",
        service_name: "checkout",
        resource_attributes: &[],
        config: &config,
        entry_config_keys: &keys,
        dry_run: false,
    };
    let fields = PluginContextFields::new(parts, HostServicesRef::from_static(&SERVICES));
    let (settings, logger) = with_context(fields, |context| {
        let context = PluginContext::new(context);
        (
            Settings::resolve(&OTLP, &context).unwrap(),
            context.logger(),
        )
    });
    let transport = Transport::new(&settings, logger.clone()).unwrap();
    let exporter = Exporter::start(settings, FactoryResource::new(&[]), logger).unwrap();
    let printed = [format!("{transport:?}"), format!("{exporter:?}")];
    exporter.shutdown(Duration::from_secs(1)).unwrap();
    for printed in printed {
        assert!(
            printed.contains("\"http://127.0.0.1:9/p/v1/traces\""),
            "{printed}"
        );
        assert!(
            !printed.contains("s3cret") && !printed.contains("Basic") && !printed.contains("user"),
            "{printed}"
        );
    }
}
