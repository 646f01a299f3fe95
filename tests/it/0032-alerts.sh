#!/usr/bin/env bash
# 0032: the Prometheus side of deploy/. The alert rules pass `promtool check
# rules` and their unit tests (deploy/prometheus/alerts_test.yaml), which
# test every alert both firing and not firing, and the unit tests fail when
# any one alert is made to never fire or to always fire. Every expression
# reads only metrics and labels of deploy/metrics.yaml. The Prometheus
# config of docker-compose.yaml passes `promtool check config`, and the
# Kubernetes PrometheusRule holds exactly the groups of alerts.yaml.
#
# UPDATE=1 rewrites the PrometheusRule from alerts.yaml instead of
# comparing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-npm.sh"
cd "$(dirname "$0")/../.."

require_promtool
prom=deploy/prometheus
rule=deploy/kubernetes/components/prometheus-operator/prometheusrule.yaml

# ---- the PrometheusRule: a header, then alerts.yaml under spec ---------
{
	cat <<'EOF'
# Generated from deploy/prometheus/alerts.yaml by
# `UPDATE=1 tests/it/0032-alerts.sh`. DO NOT EDIT: edit alerts.yaml.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: kafkaaggregator
spec:
EOF
	# alerts.yaml without its header comment, two spaces in.
	sed -n '/^[^#]/,$p' "$prom/alerts.yaml" | sed '/./s/^/  /'
} >"$TEST_TMP/prometheusrule.yaml"
if [ -n "${UPDATE:-}" ]; then
	cp "$TEST_TMP/prometheusrule.yaml" "$rule"
	echo "updated $rule"
fi
diff -u "$rule" "$TEST_TMP/prometheusrule.yaml" ||
	fail "$rule is not alerts.yaml: run UPDATE=1 $0"

# ---- promtool -----------------------------------------------------------
promtool check rules "$prom/alerts.yaml" || fail "promtool check rules failed"
(cd "$prom" && promtool test rules alerts_test.yaml) ||
	fail "the alert unit tests failed"
promtool check config "$prom/prometheus.yml" ||
	fail "promtool check config failed"

# ---- every alert tested both ways, and the tests bite ------------------
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
"$PY" - "$prom" "$TEST_TMP" <<'EOF' || fail "the alert tests miss cases"
import copy, os, subprocess, sys
import yaml

prom, tmp = sys.argv[1:]
rules = yaml.safe_load(open(os.path.join(prom, "alerts.yaml")))
tests = yaml.safe_load(open(os.path.join(prom, "alerts_test.yaml")))
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"]
          if "alert" in r]
errors = []
fires, quiet = set(), set()
for t in tests["tests"]:
    for case in t.get("alert_rule_test", []):
        (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
for a in alerts:
    if a not in fires:
        errors.append(f"{a}: no test where it fires")
    if a not in quiet:
        errors.append(f"{a}: no test where it does not fire")
for a in sorted((fires | quiet) - set(alerts)):
    errors.append(f"alerts_test.yaml tests '{a}', which alerts.yaml lacks")

# Mutants: each alert made to never fire, then to always fire (with the
# labels its tests expect), must fail the unit tests.
def run_with(mutated):
    path = os.path.join(tmp, "mutant.yaml")
    with open(path, "w") as f:
        yaml.safe_dump(mutated, f)
    t = copy.deepcopy(tests)
    t["rule_files"] = [path]
    tpath = os.path.join(tmp, "mutant_test.yaml")
    with open(tpath, "w") as f:
        yaml.safe_dump(t, f)
    return subprocess.run(["promtool", "test", "rules", tpath],
                          capture_output=True).returncode

for a in alerts:
    for name, expr in (("never fires", "vector(1) > 2"),
                       ("always fires", "vector(1)")):
        m = copy.deepcopy(rules)
        for g in m["groups"]:
            for r in g["rules"]:
                if r.get("alert") == a:
                    r["expr"] = expr
        if run_with(m) == 0:
            errors.append(f"{a}: the unit tests pass when it {name}")
if errors:
    sys.exit("\n".join(errors))
print(f"ok: {len(alerts)} alerts, each tested firing and not firing; "
      f"{2 * len(alerts)} mutants caught")
EOF

# ---- metric and label names ----------------------------------------------
npm_setup
node tests/it/promql-check.cjs deploy/metrics.yaml \
	--rules "$prom/alerts.yaml" ||
	fail "the alert rules read metrics or labels the worker does not export"
# ... and the checker catches what it should.
sed 's/(kafkaaggregator_agent_owned)/(kafkaaggregator_agents_owned)/' \
	"$prom/alerts.yaml" >"$TEST_TMP/typo.yaml"
node tests/it/promql-check.cjs deploy/metrics.yaml \
	--rules "$TEST_TMP/typo.yaml" 2>"$TEST_TMP/typo.err" &&
	fail "promql-check accepted an unknown metric"
grep -q "unknown metric 'kafkaaggregator_agents_owned'" "$TEST_TMP/typo.err" ||
	fail "promql-check: $(cat "$TEST_TMP/typo.err")"
pass
