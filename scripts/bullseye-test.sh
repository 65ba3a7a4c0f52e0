#!/usr/bin/env bash
# The artifacts of scripts/dist.sh on an older system, for real: a minimal Debian 11
# (bullseye: glibc 2.31, Python 3.9) from Debian's archive with debootstrap, run as a
# chroot (no container engine). There scripts/bullseye-inside.sh installs the wheel
# into Python 3.9 venvs and runs the core of the pytest suite against the oldest and
# newest opentelemetry-sdk the package claims there, and installs and uses the bundle.
#
# The chroot is cached in target/bullseye/rootfs (rebuilt when the package list
# changes); each run starts from a fresh /spanplug folder in it. Needs root (or
# password-less sudo): without it, or without debootstrap, the test is skipped with
# the reason, unless SPANPLUG_REQUIRE_CHROOT=1 (as .ci/run sets), which fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=$root/target/bullseye
rootfs=$cache/rootfs
packages=python3,python3-venv,ca-certificates
mirror=http://deb.debian.org/debian

skip() {
    if [ "${SPANPLUG_REQUIRE_CHROOT:-}" = 1 ]; then
        echo "FAIL: the Debian 11 chroot test cannot run: $1 (SPANPLUG_REQUIRE_CHROOT=1)" >&2
        exit 1
    fi
    echo "SKIP: the Debian 11 chroot test: $1 (set SPANPLUG_REQUIRE_CHROOT=1 to make this fail)" >&2
    exit 0
}

sudo=()
if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || skip "debootstrap and chroot need root or password-less sudo"
    sudo=(sudo -n)
fi
if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no debootstrap, and no apt-get to install it"
    { "${sudo[@]}" apt-get update -qq \
        && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } >/dev/null \
        || skip "debootstrap is not installed and apt-get could not install it"
fi
# As root without /usr/sbin on PATH, `command -v` misses it.
debootstrap=$(command -v debootstrap || echo /usr/sbin/debootstrap)
ls target/dist/*.whl target/dist/spanplug-*-linux-gnu.tar.gz >/dev/null \
    || { echo "no artifacts in target/dist: run scripts/dist.sh first" >&2; exit 1; }

unmount_all() {
    # Deepest first; lazily if a process still holds one.
    for mount in $(awk -v r="$rootfs/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
        "${sudo[@]}" umount "$mount" 2>/dev/null || "${sudo[@]}" umount -l "$mount"
    done
}
# A run killed before its trap ran leaves its mounts: never delete through them.
unmount_all

if [ "$(cat "$rootfs/.spanplug-packages" 2>/dev/null)" != "$packages" ]; then
    start=$SECONDS
    "${sudo[@]}" rm -rf "$rootfs" "$cache/rootfs.partial"
    mkdir -p "$cache"
    "${sudo[@]}" "$debootstrap" --variant=minbase --include="$packages" bullseye \
        "$cache/rootfs.partial" "$mirror" > "$cache/debootstrap.log" 2>&1 \
        || { tail -n 20 "$cache/debootstrap.log" >&2; skip "debootstrap failed (log: $cache/debootstrap.log)"; }
    echo "$packages" | "${sudo[@]}" tee "$cache/rootfs.partial/.spanplug-packages" >/dev/null
    "${sudo[@]}" mv "$cache/rootfs.partial" "$rootfs"
    echo "debootstrap bullseye: $((SECONDS - start))s"
fi

trap unmount_all EXIT
# pip needs names and this machine's CA bundle (a proxy's certificate, if any).
"${sudo[@]}" cp /etc/resolv.conf "$rootfs/etc/resolv.conf"
"${sudo[@]}" cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
"${sudo[@]}" mount -t proc proc "$rootfs/proc"
"${sudo[@]}" mount --rbind /dev "$rootfs/dev"
"${sudo[@]}" mount --make-rslave "$rootfs/dev"

work=$rootfs/spanplug
"${sudo[@]}" rm -rf "$work"
"${sudo[@]}" mkdir -p "$work/dist" "$work/tests"
"${sudo[@]}" cp target/dist/*.whl target/dist/spanplug-*-linux-gnu.tar.gz "$work/dist/"
"${sudo[@]}" cp python/tests/*.py python/tests/requirements.txt "$work/tests/"
"${sudo[@]}" cp scripts/bullseye-inside.sh "$work/"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' host/cli/Cargo.toml | head -n 1)
# Only what the test needs from this environment (no host paths, such as PIP_FIND_LINKS).
"${sudo[@]}" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=180 \
    ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
    SPANPLUG_VERSION="$version" \
    chroot "$rootfs" /bin/bash /spanplug/bullseye-inside.sh
