//! The next-minor probe, host side (compatibility tests only): reports what a loaded
//! plugin answers for each probe member it implements, so a test can see that a plugin
//! built without the probe runs the default (the method) or reads as absent (the
//! fields).

use spanplug_api::Processor;

use crate::library::Plugin;

/// The log target of the report.
pub(crate) const PROBE_TARGET: &str = "spanplug::probe";

/// Logs the probe members of `plugin`'s root module, of its factory `function` and of
/// the processors that factory returned.
pub(crate) fn report(plugin: &Plugin, function: &str, processors: &[Processor]) {
    let factory = plugin.factory(function).ok().map(|f| f.next_minor_probe());
    let answers: Vec<u32> = processors.iter().map(Processor::next_minor_probe).collect();
    log::info!(
        target: PROBE_TARGET,
        "next-minor probe of {} ({}): root module field {:?}, factory field {:?}, processor methods {:?}",
        function,
        plugin.api_version(),
        plugin.root_module().next_minor_probe(),
        factory.flatten(),
        answers,
    );
}
