#!/usr/bin/env bash
# Runs the W3C Trace Context conformance suite (../shared/w3c-trace-context/test)
# against the multi-service example's APIGateway, which serves the harness's /test
# endpoint. Builds nothing: expects target/debug/demo (cargo build -p spanplug-examples).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${W3C_SUITE:-$repo/../shared/w3c-trace-context/test}
venv=${W3C_VENV:-$repo/target/w3c-venv}
demo=$repo/target/debug/demo

if [ ! -f "$suite/test.py" ]; then
    echo "error: the W3C Trace Context test suite is not at $suite" >&2
    echo "  clone https://github.com/w3c/trace-context and set W3C_SUITE=<clone>/test" >&2
    exit 2
fi

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'aiohttp>=3.9,<4'
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
harness_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
logs=$(mktemp -d)
SPANPLUG_LOG_DIR=$logs SPANPLUG_PLUGIN_PATH=$repo/target/debug/deps:$repo/target/debug \
    "$demo" serve gateway --port "$port" --upstream user=http://127.0.0.1:9 &
gateway=$!
trap 'kill -TERM $gateway 2>/dev/null; wait $gateway 2>/dev/null; rm -rf "$logs"' EXIT
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    sleep 0.1
done

cd "$suite"
HARNESS_PORT=$harness_port STRICT_LEVEL=2 SPEC_LEVEL=${SPEC_LEVEL:-2} "$venv/bin/python" test.py "http://127.0.0.1:$port/test"
