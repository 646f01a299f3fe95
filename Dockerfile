# The kafkaaggregator worker images, from one build of the runtime:
#
#   docker build -t kafkaaggregator .
#       the default: the agents in agents/ compiled into one binary,
#       shipped on debian:12-slim with only its runtime libraries. Run
#       `kafkaaggregator generate-agents` on the host first; a config or
#       schema change means a new image.
#   docker build --target generate -t kafkaaggregator-generate .
#       generates and compiles the agents when the container starts, from
#       the config mounted at $AGGREGATOR_CONFIG_FILE, into a cache volume
#       (deploy/docker/generate-entrypoint.sh); a config change is a
#       restart. It carries the compiler and the runtime prebuilt, so that
#       only the agents compile at start.
#
# Stages: toolchain -> runtime-build -> generate, and runtime-build ->
# build (adds agents/) -> the default image. The generate image never sees
# agents/, so it builds from a checkout without any.

FROM debian:12 AS toolchain

# BUILD_DEB_PKGS of the Makefile: `make` checks them with dpkg (target deps)
# and would otherwise try to install them itself. libc6-dev is only a
# Recommends of gcc, which --no-install-recommends would drop. CA
# certificates for an https:// Schema Registry in generate-agents.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc libc6-dev make pkg-config librdkafka-dev libavro-dev \
        libcurl4-openssl-dev libjansson-dev libyaml-dev libmicrohttpd-dev \
        ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# The runtime and every layer, and a binary without agents (the generate
# image runs generate-agents with it).
FROM toolchain AS runtime-build
WORKDIR /opt/kafkaaggregator
COPY Makefile ./
COPY runtime runtime
COPY worker worker
COPY generator generator
COPY devstack devstack
COPY tools tools
RUN make -j"$(nproc)" BIN=build/kafkaaggregator build/kafkaaggregator

FROM toolchain AS generate
COPY --from=runtime-build /opt/kafkaaggregator /opt/kafkaaggregator
COPY templates /opt/kafkaaggregator/templates
COPY deploy/docker/generate-entrypoint.sh \
        /usr/local/bin/kafkaaggregator-generate-entrypoint
# A fixed numeric user, so that Kubernetes can check runAsNonRoot.
RUN groupadd --system --gid 10001 kafkaaggregator \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin kafkaaggregator \
 && mkdir -p /var/cache/kafkaaggregator \
 && chown 10001:10001 /var/cache/kafkaaggregator
ENV KAFKAAGGREGATOR_SOURCE_DIR=/opt/kafkaaggregator \
    KAFKAAGGREGATOR_CACHE_DIR=/var/cache/kafkaaggregator \
    AGGREGATOR_CONFIG_FILE=/etc/kafkaaggregator/aggregator-config.yaml
VOLUME /var/cache/kafkaaggregator
USER 10001:10001
EXPOSE 6066
# Generating and compiling come before the web server: a long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
        CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6066 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]"]
ENTRYPOINT ["kafkaaggregator-generate-entrypoint"]
CMD ["worker", "--web-port", "6066", "--web-host", "0.0.0.0"]

# The agents last, so that regenerating them recompiles only them.
FROM runtime-build AS build
COPY agents agents
# An image without agents would only print "no agents compiled in" and
# exit, so refuse to build one.
RUN if ! ls agents/*.c >/dev/null 2>&1; then \
        echo "agents/ holds no agents: run 'kafkaaggregator generate-agents'" \
             "before building the image" >&2; \
        exit 1; \
    fi \
 && make -j"$(nproc)" kafkaaggregator \
 && strip kafkaaggregator \
 && ./kafkaaggregator agents

FROM debian:12-slim

# The binary's NEEDED libraries (readelf -d), plus CA certificates for
# SSL listeners and an https:// Schema Registry.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 libavro23 libcurl4 libjansson4 libyaml-0-2 \
        libmicrohttpd12 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 kafkaaggregator \
 && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin kafkaaggregator

COPY --from=build /opt/kafkaaggregator/kafkaaggregator /usr/local/bin/kafkaaggregator

# A fixed numeric user, so that Kubernetes can check runAsNonRoot.
USER 10001:10001
EXPOSE 6066
# /health answers 200 while the worker consumes. bash's /dev/tcp keeps curl
# out of the image; the check assumes the default --web-port 6066.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
        CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6066 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]"]
ENTRYPOINT ["kafkaaggregator"]
CMD ["worker", "--web-port", "6066", "--web-host", "0.0.0.0"]
