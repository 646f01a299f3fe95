#!/usr/bin/env bash
# docker-compose.yaml and the worker's Dockerfile, checked without a Docker
# engine: the file is valid for docker-compose, and what it wires together
# fits: the worker reaches the broker's internal listener and the registry
# service, the ports the host uses are published, the worker's web server
# listens where its port is published, and the image gets the libraries the
# binary needs. The generate-at-start image (service worker-generate,
# Dockerfile target generate) never copies agents/, has the sources,
# templates and compiler packages, runs an executable entrypoint script of
# the repository, mounts the config where AGGREGATOR_CONFIG_FILE points and a
# named volume at its cache, with a read-only root filesystem; both images
# run as a numeric non-root user. Prometheus loads deploy/prometheus and
# scrapes both worker services under the job name the alerts select;
# Grafana is provisioned from deploy/grafana with its dashboards where the
# provider reads them and Prometheus as data source.
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
cfg_volumes = set(cfg.get("volumes") or {})
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
stage_meta = []  # (name, base) of each stage
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
            words = arg.split()
            stage_meta.append((words[2] if len(words) > 2 else None,
                               words[0]))
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



def volumes(svc):
    """(source, target) of each mount of svc."""
    out = []
    for v in services[svc].get("volumes", []):
        if isinstance(v, dict):
            out.append((v.get("source"), v["target"]))
        else:
            parts = str(v).split(":")
            out.append((parts[0], parts[1]))
    return out


def mounted(svc, target):
    return next((s for s, t in volumes(svc) if t == target), None)


def repo_path(path, rel):
    """Whether the host path path is rel in the repository."""
    return path is not None and os.path.realpath(path) == \
        os.path.realpath(os.path.join(root, rel))


def lineage(name):
    """The instructions of stage name and of the stages it is built on."""
    names = [n for n, _ in stage_meta]
    if name not in names:
        return []
    i = names.index(name)
    return lineage(stage_meta[i][1]) + stages[i]


def image_env(instrs):
    env = {}
    for op, arg in instrs:
        if op == "ENV":
            for word in shlex.split(arg):
                k, _, v = word.partition("=")
                env[k] = v
    return env


def argv_of(svc, instrs):
    entry = [json.loads(a) for o, a in instrs if o == "ENTRYPOINT"]
    cmd = services[svc].get("command") or \
        ([json.loads(a) for o, a in instrs if o == "CMD"] or [[]])[-1]
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    return (entry[-1] if entry else []), cmd


# Both images run as a fixed numeric user, so that Kubernetes can check
# runAsNonRoot (tests/it/0031 checks the manifests use the same one).
for i, (name, _) in enumerate(stage_meta):
    users = [a for o, a in stages[i] if o == "USER"]
    for u in users:
        check(re.fullmatch(r"[1-9]\d*(:\d+)?", u),
              f"Dockerfile: stage {name or i}: USER {u} is not a numeric "
              f"non-root user")

# worker-generate: the generate-at-start image, wired like the worker.
g = services.get("worker-generate")
if check(g, "service 'worker-generate' missing"):
    gb = g.get("build", {})
    target = gb.get("target")
    instrs = lineage(target)
    if check(instrs, f"worker-generate: build target '{target}' is not a "
             f"stage of the Dockerfile"):
        copies = [shlex.split(a) for o, a in instrs if o == "COPY"]

        def copied(instrs):
            """What the instructions copy from the build context, also by
            way of COPY --from another stage."""
            out = set()
            for o, a in instrs:
                if o != "COPY":
                    continue
                words = shlex.split(a)
                frm = [w[7:] for w in words if w.startswith("--from=")]
                if frm:
                    out |= copied(lineage(frm[0]))
                else:
                    out |= {w for w in words[:-1] if not w.startswith("--")}
            return out

        sources = copied(instrs)
        check("agents" not in sources,
              f"Dockerfile: stage {target} copies agents/, so it cannot be "
              f"built from a checkout without generated agents")
        for need in ("Makefile", "runtime", "templates"):
            check(need in sources,
                  f"Dockerfile: stage {target} lacks {need} (generate-agents"
                  f" and make need it at start)")
        if m:
            missing = set(m.group(1).split()) - apt_installs(instrs)
            check(not missing, f"Dockerfile: stage {target} lacks the "
                  f"compiler packages {sorted(missing)}")
        entry, cmd = argv_of("worker-generate", instrs)
        path_dirs = ("/usr/local/bin", "/usr/bin", "/bin")
        script = next((c[-2] for c in copies if entry and (
            c[-1] == entry[0] or "/" not in entry[0] and
            os.path.split(c[-1]) in ((d, entry[0]) for d in path_dirs))),
            None)
        check(script and os.access(os.path.join(root, script), os.X_OK),
              f"worker-generate: entrypoint {entry} is not an executable "
              f"script of the repository copied into the image")
        check(cmd[:1] == ["worker"] and
              dict(zip(cmd[1::2], cmd[2::2])).get("--web-host") == "0.0.0.0",
              f"worker-generate: runs {cmd}, not worker --web-host 0.0.0.0")
        gport = int(dict(zip(cmd[1::2], cmd[2::2])).get("--web-port", 6066))
        hostport_g = published("worker-generate", gport)
        check(hostport_g and hostport_g != 6066,
              "worker-generate: its web port is not published, or on the "
              "worker's host port 6066")
        ienv = image_env(instrs)
        genv = {**ienv, **env("worker-generate")}
        for k in ("KAFKA_BROKER_URL", "SCHEMA_REGISTRY_URL",
                  "KAFKA_GROUP_ID"):
            check(genv.get(k) == we.get(k),
                  f"worker-generate: {k} '{genv.get(k)}' differs from the "
                  f"worker's '{we.get(k)}'")
        cfg = genv.get("AGGREGATOR_CONFIG_FILE")
        src = mounted("worker-generate", cfg)
        check(src and os.path.isfile(src),
              f"worker-generate: nothing of the repository is mounted at "
              f"AGGREGATOR_CONFIG_FILE {cfg}")
        cache = ienv.get("KAFKAAGGREGATOR_CACHE_DIR")
        check(cache and mounted("worker-generate", cache) in
              cfg_volumes, f"worker-generate: no named volume at the cache "
              f"{cache}")
        check(g.get("read_only") is True,
              "worker-generate: the root filesystem is not read-only")
        check({"broker", "schema-registry"} <= depends("worker-generate"),
              "worker-generate does not depend on broker and "
              "schema-registry")

# Prometheus: the config and the rules of deploy/prometheus, a job that
# finds every worker service on its web port, under the job name the
# alerts select.
if check("prometheus" in services, "service 'prometheus' missing"):
    ref = services["prometheus"].get("image", "")
    check(re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", ref),
          f"prometheus: image '{ref}' is not a pinned release")
    check(published("prometheus", 9090) == 9090,
          "prometheus: 9090 is not published")
    conf = mounted("prometheus", "/etc/prometheus/prometheus.yml")
    if check(repo_path(conf, "deploy/prometheus/prometheus.yml"),
             "prometheus: /etc/prometheus/prometheus.yml is not "
             "deploy/prometheus/prometheus.yml"):
        pc = yaml.safe_load(open(conf))
        for rf in pc.get("rule_files", []):
            src = mounted("prometheus", os.path.join("/etc/prometheus", rf))
            check(src and os.path.isfile(src),
                  f"prometheus: rule file {rf} is not mounted")
        alerts = open(os.path.join(root, "deploy/prometheus/alerts.yaml")
                      ).read()
        jobs = set(re.findall(r'job="([^"]+)"', alerts))
        scs = [sc for sc in pc.get("scrape_configs", [])
               if sc.get("job_name") in jobs]
        if check(len(jobs) == 1 and scs, f"prometheus: no scrape job named "
                 f"as the alerts select ({jobs})"):
            found = {}
            for sd in scs[0].get("dns_sd_configs", []):
                for n in sd.get("names", []):
                    found[n] = sd.get("port")
            for t in scs[0].get("static_configs", []):
                for tgt in t.get("targets", []):
                    h, p = hostport(tgt)
                    found[h] = p
            for svc in ("worker", "worker-generate"):
                check(found.get(svc) == 6066,
                      f"prometheus: job {scs[0]['job_name']} does not scrape "
                      f"{svc} on its web port 6066")

# Grafana: provisioned with deploy/grafana, the dashboards where the
# provider reads them, the data source at the Prometheus service.
if check("grafana" in services, "service 'grafana' missing"):
    ref = services["grafana"].get("image", "")
    check(re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", ref),
          f"grafana: image '{ref}' is not a pinned release")
    check(published("grafana", 3000) == 3000,
          "grafana: 3000 is not published")
    check("prometheus" in depends("grafana"),
          "grafana does not depend on prometheus")
    prov = mounted("grafana", "/etc/grafana/provisioning")
    if check(repo_path(prov, "deploy/grafana/provisioning"),
             "grafana: /etc/grafana/provisioning is not "
             "deploy/grafana/provisioning"):
        for f in sorted(os.listdir(os.path.join(prov, "dashboards"))):
            for pv in yaml.safe_load(open(os.path.join(
                    prov, "dashboards", f)))["providers"]:
                path = pv["options"]["path"]
                check(repo_path(mounted("grafana", path),
                                "deploy/grafana/dashboards"),
                      f"grafana: provider {pv['name']} reads {path}, where "
                      f"deploy/grafana/dashboards is not mounted")
        for f in sorted(os.listdir(os.path.join(prov, "datasources"))):
            for ds in yaml.safe_load(open(os.path.join(
                    prov, "datasources", f)))["datasources"]:
                h, p = hostport(ds["url"])
                check(h == "prometheus" and p == 9090,
                      f"grafana: data source {ds['name']} is {ds['url']}, "
                      f"not the prometheus service")
    home = env("grafana").get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        d, f = os.path.split(home)
        check(mounted("grafana", d) and
              os.path.isfile(os.path.join(mounted("grafana", d), f)),
              f"grafana: the home dashboard {home} is not mounted")

if errors:
    sys.exit("\n".join(errors))
print("ok: " + ", ".join(sorted(services)))
EOF
	fail "docker-compose.yaml or the Dockerfile is wrong (see above)"
pass
