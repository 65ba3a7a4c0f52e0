//! Growth both ways, same major: the recorder plugin (tests/fixtures/compat/recorder.rs)
//! run by `drive::run` in this host and in the probe host (this host built against the
//! next-minor probe, which appends one member to every growable type).

use std::path::Path;
use std::process::Command;

use super::{drive, fixture, probe_host};

/// What the recorder of `module` wrote when run in this process's host.
fn in_this_host(module: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    drive::run(Path::new(&fixture(module)), dir.path()).unwrap();
    records(dir.path())
}

/// What the recorder of `module` wrote when run in the probe host, and its log.
fn in_the_probe_host(module: &str) -> (Vec<String>, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(probe_host())
        .arg(fixture(module))
        .arg(dir.path())
        .output()
        .expect("the probe host runs");
    let log = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the probe host failed: {}\n{log}",
        String::from_utf8_lossy(&output.stderr)
    );
    (records(dir.path()), log)
}

fn records(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("record.log"))
        .expect("the recorder wrote its record")
        .lines()
        .map(String::from)
        .collect()
}

/// The records with the host's version (each factory line names it) taken out.
fn naming_host(records: &[String], host_version: &str) -> Vec<String> {
    let named = format!("host_api_version=Some(\"{host_version}\")");
    records
        .iter()
        .map(|line| {
            assert!(
                !line.starts_with("factory ") || line.contains(&named),
                "{line} should name the host {host_version}"
            );
            line.replace(&named, "host_api_version=<the host's>")
        })
        .collect()
}

/// The probe lines the recorder built with the probe writes, each member reading `absent`
/// (a method's default) or `present` (a field's value).
fn probe_lines(field: &str, method: &str) -> Vec<String> {
    let factory = format!("probe factory context_field={field} service={field}");
    let on_start = format!("probe on_start sink_method={method} extension_field={field}");
    let transform = format!("probe transform editor_method={method}");
    let on_end = format!("probe on_end extension_field={field}");
    // The dry run's factory, the real one's, then the two spans (the second dropped).
    [
        &factory, &factory, &on_start, &transform, &on_end, &on_start, &transform,
    ]
    .map(String::clone)
    .to_vec()
}

#[test]
fn a_0_3_0_plugin_records_the_same_in_a_host_of_the_next_minor_which_sees_its_probe_defaults() {
    let here = in_this_host("compat_0_3_0");
    let (there, log) = in_the_probe_host("compat_0_3_0");
    assert_eq!(
        naming_host(&here, spanplug_api::API_VERSION),
        naming_host(&there, spanplug_api::NEXT_MINOR_VERSION),
        "what the 0.3.0 plugin saw differs between this host and the next minor's"
    );
    // The record covers every surface: both factory calls (context fields, config, the
    // resource, the host log), on_start with its extension table, the transform's edits
    // as the next processor saw them, the dropped span, flush and shutdown.
    for seen in [
        "dry_run=true config=[mode=all, shared=1] mode=Some(\"all\") shared=None resource_keys=[",
        "dry_run=false config=[mode=all, shared=1]",
        "host log called twice",
        "on_start name=handle kind=SERVER parent_is_remote=false root=true attributes=[http.route=String(\"/items\"), secret=String(\"hunter2\"), count=I64(3)] request=[request_id=r-1] extension.reserved=0",
        "on_end name=handled kind=SERVER sampled=true exportable=true attributes=[http.route=String(\"/items\"), count=I64(3), recorder.started=Bool(true), recorder.transformed=I64(7)] events=[retry[attempt=I64(2), recorder.event=String(\"seen\")]] status=ERROR:redacted",
        "transform name=drop-me",
        "force_flush",
        "shutdown",
    ] {
        assert!(
            here.iter().any(|line| line.contains(seen)),
            "{seen:?} not in\n{}",
            here.join("\n")
        );
    }
    assert!(!here
        .iter()
        .any(|line| line.starts_with("on_end name=drop-me")));
    // The probe host's side: what the plugin lacks reads as absent (its root module's and
    // factory's fields) or runs the default body (its processors' probe method).
    assert!(
        log.contains("next-minor probe of record (0.3.0): root module field None, factory field None, processor methods [0, 0]"),
        "{log}"
    );
    assert!(
        log.contains("[recorder] through the services table"),
        "{log}"
    );
}

#[test]
fn a_plugin_of_the_next_minor_sees_the_probe_absent_in_this_host_and_present_in_the_probe_host() {
    let here = in_this_host("compat_newer");
    let (rest, probes): (Vec<String>, Vec<String>) = here
        .into_iter()
        .partition(|line| !line.starts_with("probe "));
    assert_eq!(probes, probe_lines("None", "0"), "in this host");
    // Apart from the probe, it saw what the 0.3.0 plugin sees here, this host named.
    let own = fixture("compat_newer");
    let rest: Vec<String> = rest
        .iter()
        .map(|line| line.replace(&own, &fixture("compat_0_3_0")))
        .collect();
    assert_eq!(
        naming_host(&rest, spanplug_api::API_VERSION),
        naming_host(&in_this_host("compat_0_3_0"), spanplug_api::API_VERSION)
    );

    // The control: the same plugin in the probe host reads every probe member.
    let (there, log) = in_the_probe_host("compat_newer");
    let probes: Vec<String> = there
        .into_iter()
        .filter(|line| line.starts_with("probe "))
        .collect();
    assert_eq!(probes, probe_lines("Some(1)", "1"), "in the probe host");
    assert!(
        log.contains("next-minor probe of record (0.3.2): root module field Some(1), factory field Some(1), processor methods [1, 1]"),
        "{log}"
    );
}
