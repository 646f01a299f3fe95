# The kafkaaggregator worker image: the agents in agents/ compiled into one
# binary, shipped on debian:12-slim with only its runtime libraries.
#
#   kafkaaggregator generate-agents     # on the host, against your registry
#   docker-compose build worker         # or: docker build -t kafkaaggregator .
#
# The build stage compiles the runtime first and the agents last, so that
# regenerating agents recompiles only them.

FROM debian:12 AS build

# BUILD_DEB_PKGS of the Makefile: `make` checks them with dpkg (target deps)
# and would otherwise try to install them itself. libc6-dev is only a
# Recommends of gcc, which --no-install-recommends would drop.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        gcc libc6-dev make pkg-config librdkafka-dev libavro-dev \
        libcurl4-openssl-dev libjansson-dev libyaml-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY Makefile ./
COPY runtime runtime
COPY worker worker
COPY generator generator
COPY devstack devstack
COPY tools tools
RUN make -j"$(nproc)" build/libka-runtime.a build/libka-worker.a \
        build/libka-generator.a build/libka-devstack.a build/libka-tools.a \
        build/tools/main.o

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
 && useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin kafkaaggregator

COPY --from=build /src/kafkaaggregator /usr/local/bin/kafkaaggregator

USER kafkaaggregator
EXPOSE 6066
# /health answers 200 while the worker consumes. bash's /dev/tcp keeps curl
# out of the image; the check assumes the default --web-port 6066.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
        CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6066 && printf 'GET /health HTTP/1.0\\r\\n\\r\\n' >&3 && read -r status <&3 && [[ $status == *' 200 '* ]]"]
ENTRYPOINT ["kafkaaggregator"]
CMD ["worker", "--web-port", "6066", "--web-host", "0.0.0.0"]
