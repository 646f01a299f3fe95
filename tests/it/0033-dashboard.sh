#!/usr/bin/env bash
# 0033: the Grafana dashboard (deploy/grafana/dashboards/*.json) is what
# Grafana can load and shows only what the worker exports: its JSON has the
# shape of Grafana's own types with no unknown keys, the panels tile the
# grid, every query reads the `datasource` variable, every metric of
# deploy/metrics.yaml appears, and every PromQL expression (panels and
# variables) parses with Prometheus's own parser (`promtool check rules`
# on a rule file made of them) and reads only known metrics and labels.
# The checkers are shown to catch a misspelt metric, a misspelt key and a
# PromQL syntax error. The provisioning files point Grafana at those
# dashboards and at the Prometheus service of docker-compose.yaml.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-npm.sh"
cd "$(dirname "$0")/../.."

require_promtool
npm_setup

dashboards=(deploy/grafana/dashboards/*.json)
[ -e "${dashboards[0]}" ] || fail "no dashboard in deploy/grafana/dashboards"
for d in "${dashboards[@]}"; do
	python3 -m json.tool "$d" >/dev/null || fail "$d is not JSON"
	node tests/it/dashboard-check.cjs "$TEST_TMP/tsc" deploy/metrics.yaml \
		"$d" || fail "$d: see above"
	node tests/it/promql-check.cjs --promtool-rules "$TEST_TMP/exprs.json" \
		deploy/metrics.yaml --dashboard "$d" ||
		fail "$d reads metrics or labels the worker does not export"
	promtool check rules "$TEST_TMP/exprs.json" ||
		fail "$d: promtool rejects an expression (see above)"
done

# The checkers catch what they should.
d=${dashboards[0]}
python3 - "$d" "$TEST_TMP" <<'EOF'
import json, sys
src, tmp = sys.argv[1:]
d = json.load(open(src))
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
first = next(p for p in panels(d["panels"]) if p.get("targets"))
def mutant(name, change):
    m = json.loads(json.dumps(d))
    change(next(p for p in panels(m["panels"]) if p["id"] == first["id"]))
    json.dump(m, open(f"{tmp}/{name}.json", "w"))
def rename(p):
    p["targets"][0]["expr"] = p["targets"][0]["expr"].replace(
        "kafkaaggregator_", "kafkaaggregator_x_", 1)
mutant("metric", rename)
mutant("key", lambda p: p.update(titel=p.pop("title")))
mutant("syntax", lambda p: p["targets"][0].update(
    expr=p["targets"][0]["expr"] + " +"))
EOF
node tests/it/promql-check.cjs deploy/metrics.yaml \
	--dashboard "$TEST_TMP/metric.json" 2>"$TEST_TMP/err" &&
	fail "promql-check accepted a misspelt metric"
grep -q "unknown metric 'kafkaaggregator_x_" "$TEST_TMP/err" ||
	fail "promql-check: $(cat "$TEST_TMP/err")"
node tests/it/dashboard-check.cjs "$TEST_TMP/tsc" deploy/metrics.yaml \
	"$TEST_TMP/key.json" 2>"$TEST_TMP/err" &&
	fail "dashboard-check accepted an unknown key"
grep -q "'\"titel\"' does not exist" "$TEST_TMP/err" ||
	fail "dashboard-check: $(cat "$TEST_TMP/err")"
node tests/it/promql-check.cjs --promtool-rules "$TEST_TMP/syntax-rules.json" \
	deploy/metrics.yaml --dashboard "$TEST_TMP/syntax.json" \
	2>"$TEST_TMP/err" && fail "promql-check accepted a syntax error"
promtool check rules "$TEST_TMP/syntax-rules.json" >/dev/null 2>&1 &&
	fail "promtool accepted a syntax error"

# Provisioning: the data source is the compose Prometheus; the dashboard
# provider reads the directory docker-compose.yaml mounts the dashboards
# into (0030 checks the mounts).
python3 - <<'EOF' || fail "Grafana provisioning is wrong"
import yaml
ds = yaml.safe_load(open(
    "deploy/grafana/provisioning/datasources/prometheus.yaml"))["datasources"]
assert [d["type"] for d in ds] == ["prometheus"], ds
assert ds[0]["url"] == "http://prometheus:9090", ds[0]["url"]
pv = yaml.safe_load(open(
    "deploy/grafana/provisioning/dashboards/kafkaaggregator.yaml"))["providers"]
assert pv[0]["type"] == "file" and \
    pv[0]["options"]["path"] == "/var/lib/grafana/dashboards", pv
EOF
pass
