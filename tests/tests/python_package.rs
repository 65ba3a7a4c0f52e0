//! The Python package (`python/`): its pytest suite (`python/tests`), against the
//! package built from this checkout, in a venv with the pins of
//! `python/tests/requirements.txt`. Skipped with a message without python3, unless
//! `SPANPLUG_REQUIRE_PYTHON` (set by `.ci/run`) is set.

use spanplug_tests::plugin_file;
use spanplug_tests::python::{pytest, python_available, venv_with_package};

#[test]
fn the_python_package_passes_its_pytest_suite() {
    if !python_available("the Python package's suite", "SPANPLUG_REQUIRE_PYTHON") {
        return;
    }
    let venv = venv_with_package("python-venv", "python/tests/requirements.txt");
    let abi_mismatch = plugin_file("abi_mismatch");
    pytest(
        &venv,
        "python/tests",
        &[("SPANPLUG_TEST_ABI_MISMATCH_PLUGIN", abi_mismatch.as_path())],
    );
}
