"""The package's types, as a type checker sees them: the wheel carries the PEP 561
marker and the native module's stub, the stub matches the module built from
python/src (mypy's stubtest), and the package passes ``mypy --strict``."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

PYTHON_DIR = Path(__file__).resolve().parents[1]
MYPY_CONFIG = PYTHON_DIR / "pyproject.toml"


def mypy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Runs a mypy module of this venv; fails with its whole output unless it passed."""
    result = subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


def test_the_wheel_carries_the_typed_marker_and_the_native_stub() -> None:
    files = {str(path) for path in metadata.files("spanplug") or []}
    assert {"spanplug/py.typed", "spanplug/_native.pyi"} <= files, sorted(files)


def test_the_native_stub_matches_the_installed_module(tmp_path: Path) -> None:
    # From an empty folder: the installed package (its .so and its .pyi), not python/.
    result = mypy(
        "mypy.stubtest", "spanplug._native", "--mypy-config-file", str(MYPY_CONFIG), cwd=tmp_path
    )
    assert "Success: no issues found in 1 module" in result.stdout, result.stdout


def test_the_package_passes_mypy_strict(tmp_path: Path) -> None:
    # The sources (with the stub beside them), its cache kept out of python/.
    config = ("--config-file", str(MYPY_CONFIG), "--cache-dir", str(tmp_path))
    result = mypy("mypy", "--strict", *config, "spanplug", cwd=PYTHON_DIR)
    # Every module and stub of the package is checked (mypy counts both).
    sources = [*PYTHON_DIR.joinpath("spanplug").glob("*.py"), *PYTHON_DIR.joinpath("spanplug").glob("*.pyi")]
    expected = f"Success: no issues found in {len(sources)} source files"
    assert expected in result.stdout, result.stdout
