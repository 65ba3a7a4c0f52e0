//! What the `Debug` output of the public types shows, and what it must never show.

use spanplug_api::abi_stable::prefix_type::WithMetadata;
use spanplug_api::abi_stable::std_types::RStr;
use spanplug_api::{
    with_context, ContextParts, HostServices, HostServicesRef, LogLevel, PluginContext,
    PluginContextFields, Processor, SpanProcessor, SpanView, StrPair,
};

extern "C" fn ignore_log(_: LogLevel, _: RStr<'_>, _: RStr<'_>) {}

static SERVICES: WithMetadata<HostServices> = WithMetadata::new(HostServices::new(ignore_log));

const SECRET: &str = "x-honeycomb-team=hunter2-secret";

fn parts<'a>(config: &'a [StrPair<'a>], keys: &'a [RStr<'a>]) -> ContextParts<'a> {
    ContextParts {
        import_path: "otlp_http:honeycomb",
        service_name: "checkout",
        resource_attributes: &[],
        config,
        entry_config_keys: keys,
        dry_run: true,
    }
}

#[test]
fn context_debug_lists_config_keys_but_never_values() {
    let config = [StrPair {
        key: "headers".into(),
        value: SECRET.into(),
    }];
    let keys = [RStr::from("headers")];
    let parts = parts(&config, &keys);
    let fields = PluginContextFields::new(parts, HostServicesRef::from_static(&SERVICES));
    let printed_parts = format!("{parts:?}");
    let printed_fields = format!("{fields:?}");
    let (printed_ref, printed_context) = with_context(fields, |context| {
        (
            format!("{context:?}"),
            format!("{:?}", PluginContext::new(context)),
        )
    });
    for printed in [printed_parts, printed_fields, printed_ref, printed_context] {
        assert!(!printed.contains("hunter2"), "secret in {printed}");
        assert!(printed.contains("config_keys: [\"headers\"]"), "{printed}");
        assert!(printed.contains("\"otlp_http:honeycomb\""), "{printed}");
        assert!(printed.contains("dry_run: true"), "{printed}");
    }
}

struct Named;

impl SpanProcessor for Named {
    fn name(&self) -> String {
        "named-processor".to_string()
    }

    fn on_end(&self, _span: &SpanView<'_>) {}
}

#[test]
fn processor_debug_shows_the_plugins_name() {
    let processor = Processor::new(Named);
    assert_eq!(
        format!("{processor:?}"),
        "Processor { name: \"named-processor\", .. }"
    );
}
