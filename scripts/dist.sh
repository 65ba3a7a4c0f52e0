#!/usr/bin/env bash
# Builds the release artifacts into target/dist/, for x86_64 Linux with glibc 2.17 or
# newer (manylinux_2_17; zig links against glibc 2.17's symbols, whatever this machine's
# glibc is):
#   spanplug-<version>-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
#                                     the Python package, the plugins inside
#   spanplug-<version>.tar.gz         its sdist
#   spanplug-<version>-x86_64-linux-gnu.tar.gz
#                                     bin/spanplug, plugins/*.so, manifest.json, SHA256SUMS
#   SHA256SUMS                        of the three
# Every ELF file shipped (in the bundle and in the wheel) is checked: no GLIBC_ symbol
# version above the floor. The tools (ziglang, maturin, cargo-zigbuild, auditwheel) are
# pinned in a venv under target/dist-tools; the build goes to target/dist-build.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_INCREMENTAL=0

floor=2.17
triple=x86_64-unknown-linux-gnu
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' host/cli/Cargo.toml | head -n 1)
tools=$root/target/dist-tools
build=$root/target/dist-build
release=$build/$triple/release
out=$root/target/dist
plugins=(console-file otlp-http context-enricher span-filter redact)
pins="ziglang==0.15.2 maturin==1.16.0 cargo-zigbuild==0.24.1 auditwheel==6.8.2"

step() { printf '== %s (%ss)\n' "$1" "$SECONDS"; }

step "tools"
if [ "$(cat "$tools/pins" 2>/dev/null)" != "$pins" ]; then
    rm -rf "$tools/venv"
    python3 -m venv "$tools/venv"
    # shellcheck disable=SC2086 # one argument per pin
    "$tools/venv/bin/pip" install -q $pins
    echo "$pins" > "$tools/pins"
fi
export PATH=$tools/venv/bin:$PATH

step "build the CLI and the plugins for glibc $floor"
packages=(-p spanplug-cli)
for p in "${plugins[@]}"; do packages+=(-p "$p"); done
# Stripped, as the wheel's plugins always were (python/build.rs): a tenth of the size.
CARGO_TARGET_DIR=$build cargo zigbuild --release --locked --target "$triple.$floor" \
    --config profile.release.strip=true "${packages[@]}"

rm -rf "$out"
mkdir -p "$out"

step "bundle"
name=spanplug-$version-x86_64-linux-gnu
stage=$build/bundle/$name
rm -rf "$build/bundle"
mkdir -p "$stage/bin"
install -m 0755 "$release/spanplug" "$stage/bin/spanplug"
libraries=()
for p in "${plugins[@]}"; do libraries+=("$release/lib${p//-/_}.so"); done
# The installer checks each library loads (in a child) and writes the manifest: the
# bundle's own CLI, so this also proves the floor-linked CLI runs.
"$stage/bin/spanplug" install-plugins --write-manifest "$stage/manifest.json" \
    "$stage/plugins" "${libraries[@]}" > "$build/install.log"
(cd "$stage" && sha256sum bin/spanplug plugins/*.so manifest.json > SHA256SUMS)
# Reproducible: fixed owner, order and times.
tar -C "$build/bundle" --sort=name --owner=0 --group=0 --numeric-owner \
    --mtime="@${SOURCE_DATE_EPOCH:-0}" -cf - "$name" | gzip -n > "$out/$name.tar.gz"

step "wheel (maturin, zig, manylinux_${floor/./_}, abi3)"
# python/build.rs copies these plugins into the package instead of building its own.
SPANPLUG_PREBUILT_PLUGINS=$release CARGO_TARGET_DIR=$build \
    maturin build --quiet --release --locked -m python/Cargo.toml --target "$triple" \
    --zig --compatibility "manylinux_${floor/./_}" --out "$out"
wheel=$(ls "$out"/spanplug-"$version"-*.whl)

step "sdist"
maturin sdist -m python/Cargo.toml --out "$out"

step "glibc symbol versions (floor $floor)"
# The highest GLIBC_ version any shipped ELF file needs must be at most the floor.
check_floor() {
    local file=$1 highest
    highest=$(objdump -T "$file" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
    if [ "$(printf '%s\n%s\n' "$highest" "$floor" | sort -V | tail -n 1)" != "$floor" ]; then
        echo "FAIL $file needs GLIBC_$highest, above the floor $floor:" >&2
        objdump -T "$file" | grep "GLIBC_$highest" >&2
        exit 1
    fi
    echo "ok   GLIBC_$highest  ${file#"$root"/}"
}
unpacked=$build/wheel-unpacked
rm -rf "$unpacked"
python3 -m zipfile -e "$wheel" "$unpacked"
count=0
while IFS= read -r -d '' file; do
    if [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ]; then
        check_floor "$file"
        count=$((count + 1))
    fi
done < <(find "$stage" "$unpacked" -type f -print0)
[ "$count" -ge 12 ] || { echo "only $count ELF files found in the bundle and wheel" >&2; exit 1; }
auditwheel show "$wheel" | tee "$build/auditwheel.txt"
grep -q "manylinux_${floor/./_}_x86_64" "$build/auditwheel.txt" \
    || { echo "auditwheel does not place the wheel in manylinux_$floor" >&2; exit 1; }

(cd "$out" && sha256sum -- *.whl *.tar.gz > SHA256SUMS)
step "done"
ls -l "$out"
