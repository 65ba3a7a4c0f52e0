#!/bin/bash
# Runs inside the Debian 11 chroot that scripts/bullseye-test.sh prepares, from
# /spanplug (dist/: the wheel and the bundle; tests/: the pytest suite).
set -euo pipefail
cd /spanplug
step() { printf '== %s (%ss)\n' "$1" "$SECONDS"; }
. /etc/os-release
step "$PRETTY_NAME, $(ldd --version | head -n 1), $(python3 --version)"
wheel=$(ls dist/*.whl)

# The core of the suite: processors, errors, console output byte for byte as the SDK's
# own exporter writes it, OTLP decoded by a real receiver, resources, request context, forks
# and exits, and the SDK check.
core=(test_api.py test_errors.py test_output.py test_resources.py test_request_context.py
    test_processes.py test_sdk_versions.py)
# The oldest opentelemetry-sdk the package claims, and the newest pip offers Python 3.9.
for sdk in 1.20.0 1.41.1; do
    step "the wheel with opentelemetry-sdk $sdk: pytest ${core[*]}"
    python3 -m venv "venv-$sdk"
    "venv-$sdk/bin/pip" install -q "$wheel" pytest==8.4.2 \
        "opentelemetry-api==$sdk" "opentelemetry-sdk==$sdk" "opentelemetry-proto==$sdk"
    (cd tests && "../venv-$sdk/bin/python" -m pytest -q -p no:cacheprovider "${core[@]}")
done
python=$PWD/venv-1.41.1/bin/python

step "the bundle: checksums, install-plugins from its manifest, list"
tar -xzf dist/spanplug-*-x86_64-linux-gnu.tar.gz
bundle=$(ls -d "$PWD"/spanplug-*-x86_64-linux-gnu)
(cd "$bundle" && sha256sum --check --quiet SHA256SUMS)
"$bundle/bin/spanplug" --version
"$bundle/bin/spanplug" install-plugins /opt/spanplug/plugins "$bundle" | tee install.out
for module in console_file otlp_http context_enricher span_filter redact; do
    "$bundle/bin/spanplug" list --plugin-path /opt/spanplug/plugins "$module"
done

step "spanplug check: every plugin, pinned with the pins install-plugins printed"
mkdir -m 0700 logs
cat > service.yaml <<EOF
tracing_config:
  plugin_path: [/opt/spanplug/plugins]
  exporter_import_path:
    - import_path: context_enricher:static_attributes
      config: {static_attributes: "deployment.environment=bullseye"}
    - import_path: span_filter:drop
      config: {names: "GET /health*"}
    - redact:attributes
    - import_path: console_file:default_tracing_exporter
      config: {log_dir: /spanplug/logs}
    - import_path: otlp_http:otlp
      config: {endpoint: "http://127.0.0.1:4318"}
$(sed -n '/^  require_sha256: true$/,/^$/p' install.out)
EOF
cat service.yaml
"$bundle/bin/spanplug" check service.yaml

step "a quickstart-style host: the wheel, the bundle's otlp_http (pinned), a real receiver"
(cd tests && "$python" - /spanplug/install.out <<'EOF'
import re
import sys

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

import spanplug
from otlp_receiver import Receiver

# The pins install-plugins printed, as a user pastes them.
pins = dict(re.findall(r"^    (\w+): ([0-9a-f]{64})$", open(sys.argv[1]).read(), re.M))
assert len(pins) == 5, pins
receiver = Receiver()
config = {
    "plugin_path": ["/opt/spanplug/plugins"],
    "exporter_import_path": ["otlp_http:otlp"],
    "exporter_config": {"endpoint": receiver.endpoint},
    "require_sha256": True,
    "exporter_sha256": pins,
}
provider = TracerProvider(resource=Resource.create({"service.name": "bullseye-quickstart"}))
for processor in spanplug.processors(config=config):
    provider.add_span_processor(processor)
tracer = provider.get_tracer("quickstart")
with tracer.start_as_current_span("GET /users"):
    with tracer.start_as_current_span("db.query") as span:
        span.set_attribute("db.rows", 3)
provider.shutdown()
spans = receiver.wait_for(2)
receiver.close()
names = sorted(span.name for _, span in spans)
assert names == ["GET /users", "db.query"], names
services = {
    a.value.string_value
    for resource, _ in spans
    for a in resource.attributes
    if a.key == "service.name"
}
assert services == {"bullseye-quickstart"}, services
rows = [a.value.int_value for _, s in spans for a in s.attributes if a.key == "db.rows"]
assert rows == [3], rows
print("the receiver decoded", names, "from", services.pop())
EOF
)
step "done"
