//! Real Ray (`python/tests_ray`): Ray Serve with `spanplug.ray:processors`, proxy and
//! replicas in their own processes, to a loopback OTLP receiver and Ray's spans
//! folder; Ray core with `spanplug.ray:setup_tracing`. Ray is large (its venv pins
//! `ray[serve]==2.60.0`) and starts a local cluster, so this runs when
//! `SPANPLUG_RAY_TESTS=1` (`.ci/run` sets it) and is skipped with a message otherwise.

use spanplug_tests::python::{pytest, python_available, venv_with_package};

#[test]
fn ray_serve_and_ray_core_trace_through_spanplug() {
    if std::env::var_os("SPANPLUG_RAY_TESTS").is_none() {
        eprintln!("skipped: the Ray suite runs with SPANPLUG_RAY_TESTS=1 (.ci/run sets it)");
        return;
    }
    if !python_available("the Ray suite", "SPANPLUG_RAY_TESTS") {
        return;
    }
    let venv = venv_with_package("ray-venv", "python/tests_ray/requirements.txt");
    pytest(&venv, "python/tests_ray", &[]);
}
