#!/usr/bin/env bash
# The sdist scripts/dist.sh built installs from itself in a fresh venv: the extension
# and the shipped plugins build from the sdist's own sources (maturin's PEP 517 build),
# and the installed package loads its plugins and reports the crate's version.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_INCREMENTAL=0
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' python/Cargo.toml | head -n 1)
sdist=$root/target/dist/spanplug-$version.tar.gz
[ -f "$sdist" ] || { echo "no $sdist: run scripts/dist.sh first" >&2; exit 1; }
venv=$root/target/dist-tools/sdist-venv
rm -rf "$venv"
python3 -m venv "$venv"
# Unpacked at a fixed place (pip's would be a new temporary folder each time): the crates'
# paths, so cargo's fingerprints and build.rs's plugin build, stay the same from run to run.
src=$root/target/dist-tools/sdist-src
rm -rf "$src"
mkdir -p "$src"
tar -xzf "$sdist" -C "$src"
# As a user's pip builds it (for this machine; pip fetches the maturin pyproject.toml names),
# in a build folder of its own that later runs reuse.
CARGO_TARGET_DIR=$root/target/sdist-build "$venv/bin/pip" install -q "$src/spanplug-$version"
cd "$root/target/dist-tools"
"$venv/bin/python" - "$version" <<'PY'
import sys
import tempfile
from pathlib import Path

import spanplug

assert spanplug.__version__ == sys.argv[1], (spanplug.__version__, sys.argv[1])
assert Path(spanplug.__file__).parent.joinpath("py.typed").is_file()
with tempfile.TemporaryDirectory() as logs:
    Path(logs).chmod(0o700)
    processors = spanplug.processors(
        ["console_file:default_tracing_exporter", "otlp_http:otlp"],
        {"exporter_config": {"log_dir": logs, "endpoint": "http://127.0.0.1:9"}},
    )
    names = processors[0].names
    for processor in processors:
        processor.shutdown()
assert [n.split(":")[0] for n in names] == ["console_file", "otlp_http"], names
print("sdist", spanplug.__version__, "installed from itself; its plugins load:", names)
PY
