#!/usr/bin/env bash
# 0031: the Kubernetes manifests of deploy/kubernetes, offline. The base and
# every overlay render with kustomize (`kubectl kustomize`, see
# lib-npm.sh), and what they render is valid for the Kubernetes API and the
# Prometheus Operator (kubernetes-models schemas, with unknown fields
# caught), and fits together: the worker listens where its port, probes,
# Service and PodMonitor point (/health for liveness and startup, /ready for
# readiness), runs as the images' non-root user on a read-only root
# filesystem with resources set, every ConfigMap, Secret and key it reads
# is rendered, the files KAFKA_CONFIG_FILE and AGGREGATOR_CONFIG_FILE name
# are mounted, the generate-at-start image gets a writable cache and time
# to compile, two replicas by default, the PodMonitor's job is the one the
# alerts select, the PrometheusRule holds alerts.yaml, and the config in
# the generate-at-start overlay is one generate-agents accepts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-npm.sh"
cd "$(dirname "$0")/../.."

PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" -c 'import yaml' 2>/dev/null || {
	echo "skip: python3 has no yaml module"
	exit 77
}
kustomize_setup
npm_setup
echo "kustomize: ${KUSTOMIZE[*]}"

k8s=deploy/kubernetes
rendered=()
for dir in "$k8s/base" "$k8s"/overlays/*/; do
	dir=${dir%/}
	name=$(basename "$dir")
	"${KUSTOMIZE[@]}" "$dir" >"$TEST_TMP/$name.yaml" ||
		fail "kustomize cannot render $dir"
	rendered+=("$TEST_TMP/$name.yaml")
done
[ "${#rendered[@]}" -ge 3 ] || fail "expected the base and two overlays"

node tests/it/k8s-check.cjs "$TEST_TMP/tsc" "${rendered[@]}" ||
	fail "the rendered manifests do not validate (see above)"

# The validator catches what it should: a misspelt field, a wrong type.
sed 's/readinessProbe:/readinesProbe:/; s/replicas: 2$/replicas: two/' \
	"$TEST_TMP/base.yaml" >"$TEST_TMP/broken.yaml"
node tests/it/k8s-check.cjs "$TEST_TMP/tsc-broken" "$TEST_TMP/broken.yaml" \
	>"$TEST_TMP/broken.out" 2>&1 && fail "k8s-check accepted broken manifests"
grep -q "'\"readinesProbe\"' does not exist" "$TEST_TMP/broken.out" &&
	grep -q "spec/replicas must be integer" "$TEST_TMP/broken.out" ||
	fail "k8s-check: $(cat "$TEST_TMP/broken.out")"

"$PY" - "$TEST_TMP" "${rendered[@]}" <<'EOF' || fail "the manifests do not fit together (see above)"
import os, re, sys
import yaml

tmp, files = sys.argv[1], sys.argv[2:]
errors = []


def check(cond, msg):
    if not cond:
        errors.append(msg)
    return cond


# The images' user, which runAsUser must be.
users = set(re.findall(r"^USER\s+(\d+)", open("Dockerfile").read(), re.M))
alerts = yaml.safe_load(open("deploy/prometheus/alerts.yaml"))
alert_jobs = set(re.findall(r'job="([^"]+)"',
                            open("deploy/prometheus/alerts.yaml").read()))


def under(path, mounts):
    """The mount whose mountPath holds path, and path's name in it."""
    for m in mounts:
        mp = m["mountPath"].rstrip("/")
        if os.path.dirname(path) == mp:
            return m, os.path.basename(path)
    return None, None


for f in files:
    overlay = os.path.basename(f)[:-5]
    docs = [d for d in yaml.safe_load_all(open(f)) if d]
    res = {(d["kind"], d["metadata"]["name"]): d for d in docs}

    def err(msg):
        errors.append(f"{overlay}: {msg}")

    def ok(cond, msg):
        if not cond:
            err(msg)
        return cond

    def kind(k):
        return [d for d in docs if d["kind"] == k]

    deps = kind("Deployment")
    if not ok(len(deps) == 1, f"{len(deps)} Deployments, expected 1"):
        continue
    dep = deps[0]
    spec = dep["spec"]
    ok(spec.get("replicas") == 2, f"replicas {spec.get('replicas')}, not 2")
    pod = spec["template"]
    labels = pod["metadata"].get("labels", {})
    ok(spec["selector"]["matchLabels"].items() <= labels.items(),
       "the Deployment's selector does not match its pods")
    ps = pod["spec"]
    cs = ps["containers"]
    if not ok(len(cs) == 1 and cs[0]["name"] == "worker",
              "expected one container, 'worker'"):
        continue
    c = cs[0]
    args = c.get("args", [])
    opts = dict(zip(args[1::2], args[2::2]))
    ok(args[:1] == ["worker"], f"the container runs {args}, not worker")
    ok(opts.get("--web-host") == "0.0.0.0",
       "the web server listens on loopback only: probes and scrapes fail")
    port = int(opts.get("--web-port", 6066))
    cports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    ok(port in cports.values(), f"--web-port {port} is not a container port")

    def resolve(p):
        return cports.get(p) if isinstance(p, str) else p

    for probe, path in (("livenessProbe", "/health"),
                        ("startupProbe", "/health"),
                        ("readinessProbe", "/ready")):
        pr = c.get(probe)
        if ok(pr and "httpGet" in pr, f"no HTTP {probe}"):
            ok(pr["httpGet"]["path"] == path,
               f"{probe} reads {pr['httpGet']['path']}, not {path}")
            ok(resolve(pr["httpGet"]["port"]) == port,
               f"{probe} is not on the web port {port}")

    # Non-root, read-only, no privileges, resources.
    psc = ps.get("securityContext", {})
    csc = c.get("securityContext", {})
    ok(psc.get("runAsNonRoot") is True, "runAsNonRoot is not set")
    ok(users == {str(psc.get("runAsUser"))},
       f"runAsUser {psc.get('runAsUser')} is not the images' USER {users}")
    ok(csc.get("readOnlyRootFilesystem") is True,
       "the root filesystem is writable")
    ok(csc.get("allowPrivilegeEscalation") is False,
       "privilege escalation is allowed")
    ok("ALL" in csc.get("capabilities", {}).get("drop", []),
       "capabilities are not dropped")
    r = c.get("resources", {})
    ok({"cpu", "memory"} <= set(r.get("requests", {})) and
       "memory" in r.get("limits", {}),
       "resources: requests of cpu and memory and a memory limit expected")

    # Everything the pod reads is rendered, keys included.
    def keys(kind_, name):
        d = res.get((kind_, name))
        if d is None:
            return None
        return set(d.get("data", {})) | set(d.get("stringData", {})) | \
            set(d.get("binaryData", {}))

    for ef in c.get("envFrom", []):
        for k_, ref in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            if ref in ef:
                ok(keys(k_, ef[ref]["name"]) is not None or
                   ef[ref].get("optional"),
                   f"envFrom: {k_} {ef[ref]['name']} is not rendered")
    env = {}
    for e in c.get("env", []):
        env[e["name"]] = e.get("value")
        vf = e.get("valueFrom", {})
        for k_, ref in (("ConfigMap", "configMapKeyRef"),
                        ("Secret", "secretKeyRef")):
            if ref in vf:
                ks = keys(k_, vf[ref]["name"])
                ok(vf[ref].get("optional") or (ks and vf[ref]["key"] in ks),
                   f"env {e['name']}: {k_} {vf[ref]['name']} key "
                   f"{vf[ref]['key']} is not rendered")
    vols = {v["name"]: v for v in ps.get("volumes", [])}
    files_of = {}
    for name, v in vols.items():
        for k_, src, nm in (("ConfigMap", "configMap", "name"),
                            ("Secret", "secret", "secretName")):
            if src in v:
                ks = keys(k_, v[src][nm])
                if not ok(ks is not None,
                          f"volume {name}: {k_} {v[src][nm]} is not rendered"):
                    continue
                items = v[src].get("items")
                for it in items or []:
                    ok(it["key"] in ks, f"volume {name}: no key {it['key']}")
                files_of[name] = ({it["path"] for it in items} if items
                                  else ks)
    mounts = c.get("volumeMounts", [])
    for m in mounts:
        ok(m["name"] in vols, f"mount {m['mountPath']}: no volume {m['name']}")
    ok(len({m["mountPath"] for m in mounts}) == len(mounts),
       "two mounts at one path")
    sa = ps.get("serviceAccountName")
    ok(not sa or ("ServiceAccount", sa) in res,
       f"ServiceAccount {sa} is not rendered")

    for var in ("KAFKA_CONFIG_FILE", "AGGREGATOR_CONFIG_FILE"):
        if env.get(var):
            m, name = under(env[var], mounts)
            ok(m and name in files_of.get(m["name"], ()),
               f"{var} {env[var]} is not a mounted file")

    # Writable paths, the root filesystem being read-only.
    def writable(path):
        m = next((m for m in mounts if m["mountPath"].rstrip("/") == path),
                 None)
        return (m and not m.get("readOnly") and
                ({"emptyDir", "persistentVolumeClaim", "ephemeral"} &
                 set(vols[m["name"]])))
    ok(writable("/tmp"), "/tmp is not a writable volume")

    # The two flows.
    image = c["image"]
    generate = "AGGREGATOR_CONFIG_FILE" in env
    repo = image.rsplit(":", 1)[0].rsplit("/", 1)[-1]
    if generate:
        ok(repo == "kafkaaggregator-generate",
           f"generate-at-start with the image {image}")
        cache = env.get("KAFKAAGGREGATOR_CACHE_DIR",
                        "/var/cache/kafkaaggregator")
        ok(writable(cache), f"the agents cache {cache} is not writable")
        sp = c.get("startupProbe", {})
        ok(sp.get("periodSeconds", 10) * sp.get("failureThreshold", 3) >= 300,
           "the startup probe gives generate and make less than 5 minutes")
        # The config, for generate-agents below.
        m, name = under(env["AGGREGATOR_CONFIG_FILE"], mounts)
        cm = m and vols[m["name"]].get("configMap")
        data = cm and res.get(("ConfigMap", cm["name"]), {}).get("data", {})
        if ok(data and name in data, "no config to generate agents from"):
            with open(os.path.join(tmp, f"{overlay}-config.yaml"), "w") as o:
                o.write(data[name])
    else:
        ok(repo == "kafkaaggregator", f"prebuilt agents with the image {image}")

    # The Service and the PodDisruptionBudget select the workers.
    for s in kind("Service"):
        ok(s["spec"]["selector"].items() <= labels.items(),
           f"Service {s['metadata']['name']} does not select the workers")
        for p in s["spec"]["ports"]:
            ok(resolve(p.get("targetPort", p["port"])) == port,
               f"Service port {p['port']} does not reach the web port")
    for b in kind("PodDisruptionBudget"):
        ok(b["spec"]["selector"]["matchLabels"].items() <= labels.items(),
           "the PodDisruptionBudget does not select the workers")
        ok(b["spec"].get("maxUnavailable") == 1,
           "the PodDisruptionBudget lets more than one worker go")

    # Prometheus Operator: scraped under the alerts' job, the alerts' rules.
    for pm in kind("PodMonitor"):
        ok(pm["spec"]["selector"]["matchLabels"].items() <= labels.items(),
           "the PodMonitor does not select the workers")
        for ep in pm["spec"]["podMetricsEndpoints"]:
            ok(ep.get("port") in cports and ep.get("path") == "/metrics",
               f"the PodMonitor scrapes {ep}, not the web port's /metrics")
        ok({labels.get(pm["spec"].get("jobLabel"))} == alert_jobs,
           f"the PodMonitor's job is not {alert_jobs}, which the alerts "
           f"select")
    for pr in kind("PrometheusRule"):
        ok(pr["spec"] == alerts,
           "the PrometheusRule is not deploy/prometheus/alerts.yaml")
    if overlay != "base":
        ok(kind("PodMonitor") and kind("PrometheusRule"),
           "the example overlays scrape and alert (prometheus-operator)")
        ns = {d["metadata"].get("namespace") for d in docs
              if d["kind"] != "Namespace"}
        ok(len(ns) == 1 and None not in ns, f"namespaces {ns}")

print("\n".join(errors) or "ok")
sys.exit(1 if errors else 0)
EOF

# The config of the generate-at-start overlay is one generate-agents
# accepts (with the example schema for its source topics, no registry).
configs=("$TEST_TMP"/*-config.yaml)
[ -e "${configs[0]}" ] || fail "no overlay runs the generate-at-start image"
if [ -x "$BIN" ]; then
	for cfg in "${configs[@]}"; do
		mkdir -p "$TEST_TMP/schemas"
		"$PY" - "$cfg" "$TEST_TMP/schemas" <<'EOF'
import json, sys, yaml
cfg, out = sys.argv[1:]
for agg in yaml.safe_load(open(cfg))["aggregated_topics"]:
    for src in agg["filter"]["source_topics"]:
        fields = [{"name": "time", "type": "double"}] + [
            {"name": f"value{i}", "type": "double"} for i in range(10)]
        json.dump({"type": "record", "name": "example", "fields": fields},
                  open(f"{out}/{src['name']}.avsc", "w"))
EOF
		"$BIN" generate-agents --config-file "$cfg" \
			--schema-dir "$TEST_TMP/schemas" \
			--output-dir "$TEST_TMP/agents" ||
			fail "generate-agents rejects the config of $cfg"
	done
else
	echo "note: no $BIN: the overlay's config not checked"
fi
pass
