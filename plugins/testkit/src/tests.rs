//! The kit against processors written here: what each call runs, what it captures.

use spanplug_api::{
    OwnedValue, PluginContext, Processor, RequestContextView, SpanProcessor, SpanView, StartingSpan,
};

use crate::{built_library, TestContext, TestSpan};

/// Stamps the request id as spans start, panics on spans named `boom`, logs at shutdown.
struct Probe(spanplug_api::Logger);

impl SpanProcessor for Probe {
    fn name(&self) -> String {
        "probe".into()
    }

    fn on_start(&self, span: &mut StartingSpan<'_>, request: &RequestContextView<'_>) {
        if let Some((_, id)) = request.iter().find(|(key, _)| *key == "request_id") {
            span.set_attribute("probe.request", id);
        }
    }

    fn on_end(&self, span: &SpanView<'_>) {
        assert_ne!(span.name.as_str(), "boom", "a test panic");
    }

    fn shutdown(&self, _timeout: std::time::Duration) -> Result<(), String> {
        self.0.info("shut down");
        Ok(())
    }
}

fn probe(ctx: &PluginContext<'_>) -> Result<Vec<Processor>, String> {
    ctx.check_keys(&["level"])?;
    if ctx.is_dry_run() {
        ctx.logger().debug("dry run");
    }
    Ok(vec![Processor::new(Probe(ctx.logger()))])
}

#[test]
fn on_start_edits_land_on_the_span_and_reach_the_exporter() {
    let pipeline = TestContext::new("kit:start").run(probe).unwrap();
    let mut span = TestSpan::new("GET /a");
    pipeline.start(&mut span, &[("request_id", "r-7")]);
    assert_eq!(span.get("probe.request"), Some(&OwnedValue::from("r-7")));
    pipeline.end(&span);
    let exported = pipeline.exported();
    assert_eq!(
        exported[0].attribute("probe.request"),
        Some(&OwnedValue::from("r-7"))
    );
    assert_eq!(exported[0].service_name.as_deref(), Some("test-service"));
}

#[test]
fn record_only_spans_never_reach_the_exporter() {
    let pipeline = TestContext::new("kit:record_only").run(probe).unwrap();
    let mut span = TestSpan::new("GET /b").record_only();
    pipeline.start(&mut span, &[]);
    pipeline.end(&span);
    assert!(pipeline.exported().is_empty());
}

#[test]
fn the_plugins_messages_and_the_hosts_reports_of_its_panics_are_captured() {
    let pipeline = TestContext::new("kit:logs").dry_run().run(probe).unwrap();
    pipeline.end(&TestSpan::new("boom"));
    pipeline.shutdown().unwrap();
    let logs = pipeline.logs();
    assert_eq!(logs[0], "DEBUG [kit:logs] dry run");
    assert!(
        logs[1].starts_with("ERROR span processor probe (kit:logs) failed in on_end"),
        "{logs:?}"
    );
    assert!(
        logs.contains(&"INFO [kit:logs] shut down".to_string()),
        "{logs:?}"
    );
}

#[test]
fn the_factorys_error_is_returned_as_it_wrote_it() {
    let error = TestContext::new("kit:keys")
        .config("levl", "x")
        .shared("other", "y")
        .run(probe)
        .unwrap_err();
    assert_eq!(
        error,
        "unknown config key `levl` for kit:keys; valid keys: level"
    );
}

#[test]
fn a_library_that_was_not_built_is_reported_with_the_likely_cause() {
    let error = built_library("no_such_plugin").unwrap_err();
    assert!(
        error.starts_with("libno_such_plugin.so not found (searched ")
            && error.contains("crate-type = [\"cdylib\", \"rlib\"]"),
        "{error}"
    );
    let error = TestContext::new("/x/libp.so:f").load_built().unwrap_err();
    assert_eq!(
        error,
        "/x/libp.so:f: load_built takes `module:function`, not a path"
    );
}
