# The runtime image installs the release bundle scripts/dist.sh builds (the spanplug CLI
# and the shipped plugins, glibc 2.17 and later, checked against the bundle's SHA256SUMS
# and manifest), so the image runs exactly the files the bundle and the wheel ship. Only
# the multi-service demo, an example that is not shipped, is compiled here.
#   scripts/dist.sh
#   docker build -t spanplug .
#   docker run --rm spanplug                 # the multi-service demo
#   docker run --rm spanplug spanplug list otlp_http
FROM rust:1-bookworm AS demo
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p spanplug-examples --bin demo

FROM debian:bookworm-slim
COPY target/dist/spanplug-*-x86_64-linux-gnu.tar.gz /tmp/
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir /tmp/bundle && tar -xzf /tmp/spanplug-*-x86_64-linux-gnu.tar.gz -C /tmp/bundle --strip-components=1 \
 && (cd /tmp/bundle && sha256sum --check --quiet SHA256SUMS) \
 && install -m 0755 /tmp/bundle/bin/spanplug /usr/local/bin/spanplug \
 && spanplug install-plugins /opt/spanplug/plugins /tmp/bundle \
 && rm -rf /tmp/bundle /tmp/spanplug-*-x86_64-linux-gnu.tar.gz \
 && useradd --system --create-home spanplug \
 && mkdir -p /var/log/spanplug && chown spanplug /var/log/spanplug
COPY --from=demo /src/target/release/demo /usr/local/bin/
COPY deploy/service.yaml /etc/spanplug/service.yaml
ENV SPANPLUG_PLUGIN_PATH=/opt/spanplug/plugins \
    SPANPLUG_SERVICE_CONFIG=/etc/spanplug/service.yaml \
    SPANPLUG_LOG_DIR=/var/log/spanplug
USER spanplug
CMD ["demo"]
