# Multi-stage build: compile the host, the CLI and the shipped plugins, then a slim
# runtime with the plugins dropped into /opt/spanplug/plugins.
#   docker build -t spanplug .
#   docker run --rm spanplug                 # the multi-service demo
#   docker run --rm spanplug spanplug list otlp_http
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
        -p spanplug-cli -p spanplug-examples \
        -p console-file -p otlp-http -p context-enricher -p span-filter -p redact \
 && target/release/spanplug install-plugins /opt/spanplug/plugins \
        target/release/libconsole_file.so \
        target/release/libotlp_http.so \
        target/release/libcontext_enricher.so \
        target/release/libspan_filter.so \
        target/release/libredact.so

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home spanplug \
 && mkdir -p /var/log/spanplug && chown spanplug /var/log/spanplug
COPY --from=build /opt/spanplug/plugins /opt/spanplug/plugins
COPY --from=build /src/target/release/spanplug /src/target/release/demo /usr/local/bin/
COPY deploy/service.yaml /etc/spanplug/service.yaml
ENV SPANPLUG_PLUGIN_PATH=/opt/spanplug/plugins \
    SPANPLUG_SERVICE_CONFIG=/etc/spanplug/service.yaml \
    SPANPLUG_LOG_DIR=/var/log/spanplug
USER spanplug
CMD ["demo"]
