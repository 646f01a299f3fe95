#!/usr/bin/env bash
# docker-compose.yaml and the worker's Dockerfile, checked without a Docker
# engine: the file is valid for docker-compose, and what it wires together
# fits: the worker reaches the broker's internal listener and the registry
# service, the ports the host uses are published, the worker's web server
# listens where its port is published, and the image gets the libraries the
# binary needs.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.."

if ! command -v docker-compose >/dev/null; then
	echo "skip: docker-compose is not installed"
	exit 77
fi
# Debian's python3 has python3-yaml (make deps); another one may not.
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if ! "$PY" -c 'import yaml' 2>/dev/null; then
	echo "skip: python3 has no yaml module"
	exit 77
fi

docker-compose -f docker-compose.yaml config -q ||
	fail "docker-compose config rejects docker-compose.yaml"
docker-compose -f docker-compose.yaml config >"$TEST_TMP/config.yaml" ||
	fail "docker-compose config failed"

# The shared libraries the worker binary loads, with the Debian package of
# each: the image's runtime stage must install them. Only on Debian 12,
# whose package names the image uses.
: >"$TEST_TMP/needed"
if grep -qx 'VERSION_ID="12"' /etc/os-release 2>/dev/null &&
	grep -qx 'ID=debian' /etc/os-release && [ -x "$BIN" ] &&
	command -v readelf >/dev/null && command -v dpkg >/dev/null; then
	for lib in $(readelf -d "$BIN" |
		sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		path=$(ldd "$BIN" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || fail "$BIN: '$lib' not found by ldd"
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null ||
			dpkg -S "$path") || fail "no Debian package owns '$path'"
		printf '%s %s\n' "$lib" "${pkg%%:*}" >>"$TEST_TMP/needed"
	done
	[ -s "$TEST_TMP/needed" ] || fail "$BIN: readelf found no libraries"
else
	echo "note: not Debian 12 or no $BIN: runtime libraries not checked"
fi

"$PY" - "$TEST_TMP/config.yaml" "$PWD" "$TEST_TMP/needed" <<'EOF' ||
import json, os, re, shlex, sys
import yaml

config_path, root, needed_path = sys.argv[1:]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


with open(config_path) as f:
    cfg = yaml.safe_load(f)
services = cfg.get("services", {})
for name in ("zookeeper", "broker", "schema-registry", "worker"):
    check(name in services, f"service '{name}' missing")
if errors:
    sys.exit("\n".join(errors))


def env(svc):
    e = services[svc].get("environment", {})
    if isinstance(e, list):
        e = dict(x.split("=", 1) for x in e)
    return {k: "" if v is None else str(v) for k, v in e.items()}


def published(svc, target):
    """Host port that publishes container port target, or None."""
    for p in services[svc].get("ports", []):
        if isinstance(p, dict):
            if int(p.get("target", -1)) == target:
                return int(p["published"])
        else:
            parts = str(p).split(":")
            if int(parts[-1].split("/")[0]) == target:
                return int(parts[-2])
    return None


def depends(svc):
    d = services[svc].get("depends_on", [])
    return set(d) if isinstance(d, list) else set(d.keys())


def hostport(url):
    m = re.fullmatch(r"(?:[A-Za-z_]+://)?([^:/]+):(\d+)/?", url)
    return (m.group(1), int(m.group(2))) if m else (None, None)


# Pinned Confluent images, all of one platform release.
tags = set()
for svc, image in (("zookeeper", "confluentinc/cp-zookeeper"),
                   ("broker", "confluentinc/cp-kafka"),
                   ("schema-registry", "confluentinc/cp-schema-registry")):
    ref = services[svc].get("image", "")
    repo, _, tag = ref.partition(":")
    check(repo == image, f"{svc}: image '{ref}', expected {image}")
    check(re.fullmatch(r"\d+\.\d+\.\d+", tag),
          f"{svc}: image '{ref}' is not pinned to a release")
    tags.add(tag)
check(len(tags) == 1, f"Confluent images of different releases: {tags}")

# Broker: one listener for containers, one published for the host.
b = env("broker")
advertised = dict(
    l.split("://", 1) for l in b.get("KAFKA_ADVERTISED_LISTENERS", "").split(","))
listen_ports = {hostport(u)[1]
                for u in b.get("KAFKA_LISTENERS", "").split(",") if u}
protocols = dict(x.split(":", 1) for x in
                 b.get("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",")
                 if x)
internal = host_side = None
for name, addr in advertised.items():
    host, port = hostport(addr)
    check(name in protocols, f"broker: listener {name} has no protocol")
    check(not listen_ports or port in listen_ports,
          f"broker: advertises {addr} but does not listen on port {port}")
    if host in ("broker", services["broker"].get("hostname")):
        internal = (name, host, port)
    elif host == "localhost":
        host_side = (name, host, port)
check(host_side and published("broker", host_side[2]) == 9092
      and host_side[2] == 9092,
      "broker: no listener advertised as localhost:9092 and published on "
      "host port 9092")
check(internal is not None, "broker: no listener advertised as broker:PORT")
if internal and "KAFKA_INTER_BROKER_LISTENER_NAME" in b:
    check(b["KAFKA_INTER_BROKER_LISTENER_NAME"] == internal[0],
          "broker: inter-broker traffic does not use the internal listener")
check(b.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR") == "1",
      "broker: a single broker needs offsets replication factor 1")
check(b.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true") == "true",
      "broker: the aggregated topics are not auto-created")
check(hostport(b.get("KAFKA_ZOOKEEPER_CONNECT", ""))[0] == "zookeeper",
      "broker: KAFKA_ZOOKEEPER_CONNECT is not the zookeeper service")
check("zookeeper" in depends("broker"), "broker does not depend on zookeeper")

# Schema Registry: published on 8081, stores schemas through the internal
# listener.
r = env("schema-registry")
reg_port = hostport(r.get("SCHEMA_REGISTRY_LISTENERS", "").split(",")[0])[1]
check(published("schema-registry", reg_port or 8081) == 8081,
      "schema-registry: its listener is not published on host port 8081")
if internal:
    check(hostport(r.get("SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS", ""))
          == internal[1:],
          "schema-registry: kafkastore is not the broker's internal listener")

# Worker: built from this repository, wired to the services.
w = services["worker"]
build = w.get("build", {})
if isinstance(build, str):
    build = {"context": build}
context = os.path.realpath(os.path.join(root, build.get("context", "")))
check(context == os.path.realpath(root),
      f"worker: build context {context} is not the repository")
dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
check(os.path.isfile(dockerfile), f"worker: {dockerfile} does not exist")
we = env("worker")
if internal:
    check(hostport(we.get("KAFKA_BROKER_URL", "")) == internal[1:],
          f"worker: KAFKA_BROKER_URL '{we.get('KAFKA_BROKER_URL')}' is not "
          f"the broker's internal listener {internal[1]}:{internal[2]}")
check(we.get("SCHEMA_REGISTRY_URL", "").rstrip("/")
      == f"http://schema-registry:{reg_port}",
      f"worker: SCHEMA_REGISTRY_URL '{we.get('SCHEMA_REGISTRY_URL')}' is "
      f"not the schema-registry service")
check(we.get("KAFKA_GROUP_ID"), "worker: KAFKA_GROUP_ID is not set")
check({"broker", "schema-registry"} <= depends("worker"),
      "worker does not depend on broker and schema-registry")
check(w.get("restart") == "unless-stopped",
      "worker: restart is not unless-stopped")

# The Dockerfile, by stage: instructions with continuations joined.
stages = []
if os.path.isfile(dockerfile):
    with open(dockerfile) as f:
        text = re.sub(r"\\\n", " ", f.read())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, arg = line.partition(" ")
        if op.upper() == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((op.upper(), arg.strip()))


def apt_installs(stage):
    pkgs = set()
    for op, arg in stage:
        if op != "RUN":
            continue
        for cmd in re.split(r"&&|;|\|\|", arg):
            words = shlex.split(cmd)
            if "apt-get" in words and "install" in words:
                pkgs |= {x for x in words[words.index("install") + 1:]
                         if not x.startswith("-")}
    return pkgs


def last(stage, op):
    args = [a for o, a in stage if o == op]
    return json.loads(args[-1]) if args else None


if check(len(stages) >= 2, "Dockerfile: expected a build and a runtime stage"):
    final = stages[-1]
    check(final[0][1].split()[0] == "debian:12-slim",
          f"Dockerfile: runtime stage is {final[0][1]}, not debian:12-slim")
    user = [a for o, a in final if o == "USER"]
    check(user and user[-1] not in ("root", "0"),
          "Dockerfile: the worker runs as root")
    entry = last(final, "ENTRYPOINT") or []
    cmd = w.get("command") or last(final, "CMD") or []
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    argv = entry + cmd
    check(argv[:2] == ["kafkaaggregator", "worker"],
          f"worker: the container runs {argv}, not kafkaaggregator worker")
    opts = dict(zip(argv[2::2], argv[3::2]))
    port = int(opts.get("--web-port", 6066))
    check(opts.get("--web-host") == "0.0.0.0",
          "worker: the web server listens on loopback only, so its "
          "published port is unreachable")
    check(published("worker", port) == 6066,
          f"worker: --web-port {port} is not published on host port 6066")

    # `make` in the build stage finds the Makefile's build packages
    # installed instead of running apt-get itself.
    with open(os.path.join(root, "Makefile")) as f:
        mk = re.sub(r"\\\n", " ", f.read())
    m = re.search(r"^BUILD_DEB_PKGS\s*:?=(.*)$", mk, re.M)
    if check(m, "Makefile: no BUILD_DEB_PKGS"):
        missing = set(m.group(1).split()) - apt_installs(stages[0])
        check(not missing,
              f"Dockerfile: build stage lacks {sorted(missing)}")

    # Every library the binary loads comes with the runtime stage (the
    # base image has libc; sanitizer runtimes belong to test builds).
    runtime = apt_installs(final)
    with open(needed_path) as f:
        for lib, pkg in (line.split() for line in f if line.strip()):
            if pkg in ("libc6", "libgcc-s1") or re.match(
                    r"lib(asan|ubsan|lsan|tsan)\.", lib):
                continue
            check(pkg in runtime,
                  f"Dockerfile: runtime stage lacks {pkg} (for {lib})")

if errors:
    sys.exit("\n".join(errors))
print("ok: " + ", ".join(sorted(services)))
EOF
	fail "docker-compose.yaml or the Dockerfile is wrong (see above)"
pass
