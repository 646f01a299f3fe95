#!/usr/bin/env bash
# 0034: the generate-at-start image's entrypoint
# (deploy/docker/generate-entrypoint.sh), run here as the image runs it but
# on the host: the runtime prebuilt as the Dockerfile's runtime-build stage
# makes it, a cache directory, the dev stack as Kafka and registry.
#
# At first start it seeds the cache with the prebuilt runtime, generates
# the config's agents, compiles only them and execs the worker, which
# serves /health, lists the agents and aggregates; SIGTERM stops it with
# status 0. A restart with the same config compiles nothing. A changed
# config recompiles only the changed agent and drops a removed one. A bad
# config exits 2 at once; an unreachable registry is retried, then exits
# 1; commands other than worker and agents run without generating.
#
# Its /metrics is held to deploy/metrics.yaml: every kafkaaggregator_ and
# process_ family it exports is listed there with that type and those
# labels, the core families are present, and `promtool check metrics` is
# clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-devstack.sh"
cd "$(dirname "$0")/../.."
repo=$PWD
entry=$repo/deploy/docker/generate-entrypoint.sh

for tool in curl python3 flock; do
	command -v "$tool" >/dev/null || { echo "skip: no $tool"; exit 77; }
done
unset NFIELDS FREQUENCY MAX_MESSAGES TOPIC_PARTITIONS KAFKA_CONFIG_FILE \
	AGGREGATOR_CONFIG_FILE GENERATE_AGENTS_OPTIONS

# ---- the image's prebuilt tree -------------------------------------------
# As the Dockerfile's runtime-build stage: every layer's library and a
# binary without agents, with the flags of this test run.
export CFLAGS=${KA_CFLAGS:--O2 -g} LDFLAGS=${KA_LDFLAGS:-}
prebuilt=$TEST_TMP/prebuilt
mkdir -p "$TEST_TMP/noagents"
make -C "$repo" --no-print-directory -j2 BUILD="$prebuilt" \
	BIN="$prebuilt/kafkaaggregator" AGENTS_DIR="$TEST_TMP/noagents" \
	"$prebuilt/kafkaaggregator" >"$TEST_TMP/prebuilt.log" 2>&1 ||
	fail "building the prebuilt runtime failed: $(tail "$TEST_TMP/prebuilt.log")"

id=$$-$RANDOM
src_a=it34-src-a-$id src_b=it34-src-b-$id
agg_a=it34-agg-a-$id agg_b=it34-agg-b-$id
ident_a=${agg_a//-/_} ident_b=${agg_b//-/_}
config() { # config WINDOW_B [with_a]
	{
		echo "aggregated_topics:"
		if [ "${2:-1}" = 1 ]; then
			cat <<-EOF
			  - name: $agg_a
			    window_aggregation: {window_size_seconds: 1}
			    filter: {source_topics: [{name: $src_a}]}
			EOF
		fi
		cat <<-EOF
		  - name: $agg_b
		    window_aggregation: {window_size_seconds: $1}
		    filter: {source_topics: [{name: $src_b}]}
		EOF
	} >"$TEST_TMP/config.yaml"
}
config 1
start_devstack --config-file "$TEST_TMP/config.yaml" --partitions 2
"$BIN" init-example --config-file "$TEST_TMP/config.yaml" --nfields 3 \
	>"$TEST_TMP/init.log" 2>&1 || fail "init-example: $(cat "$TEST_TMP/init.log")"

export KAFKAAGGREGATOR_SOURCE_DIR=$repo
export KAFKAAGGREGATOR_PREBUILT_DIR=$prebuilt
export KAFKAAGGREGATOR_CACHE_DIR=$TEST_TMP/cache
export AGGREGATOR_CONFIG_FILE=$TEST_TMP/config.yaml
export KAFKA_GROUP_ID=it34-$id
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
web=http://127.0.0.1:$port

# start_worker LOG: the entrypoint in the background, until /health is 200.
start_worker() {
	"$entry" worker --web-port "$port" >"$TEST_TMP/$1" 2>&1 &
	WORKER=$!
	KA_PIDS+=("$WORKER")
	for _ in $(seq 600); do
		curl -sf "$web/health" >/dev/null 2>&1 && return 0
		kill -0 "$WORKER" 2>/dev/null ||
			fail "the entrypoint exited: $(tail -20 "$TEST_TMP/$1")"
		sleep 0.2
	done
	fail "no /health within 120 s: $(tail -20 "$TEST_TMP/$1")"
}
stop_worker() {
	local rc=0
	kill -TERM "$WORKER"
	wait "$WORKER" || rc=$?
	[ "$rc" -eq 0 ] || fail "the worker exited $rc on SIGTERM"
}
compiled() { # the sources make compiled, from a log
	sed -n 's/^ *CC *//p' "$TEST_TMP/$1" | xargs -r -n1 basename | sort |
		tr '\n' ' '
}

# ---- first start ----------------------------------------------------------
start_worker start1.log
grep -q "seeding the prebuilt runtime" "$TEST_TMP/start1.log" ||
	fail "the cache was not seeded: $(cat "$TEST_TMP/start1.log")"
[ "$(compiled start1.log)" = "agents_table.c $ident_a.c $ident_b.c " ] ||
	fail "first start compiled '$(compiled start1.log)', not the agents alone"
grep -q "LINK .*cache/kafkaaggregator" "$TEST_TMP/start1.log" ||
	fail "no worker linked in the cache"
curl -sf "$web/agents" >"$TEST_TMP/agents.json" || fail "no /agents"
for t in "$agg_a" "$agg_b"; do
	grep -q "$t" "$TEST_TMP/agents.json" ||
		fail "/agents lacks $t: $(cat "$TEST_TMP/agents.json")"
done

# It aggregates.
"$BIN" produce --config-file "$TEST_TMP/config.yaml" --frequency 20 \
	--max-messages 60 >"$TEST_TMP/produce.log" 2>&1 ||
	fail "produce: $(cat "$TEST_TMP/produce.log")"
"$BIN" consume --topic "$agg_a" --from-beginning --max-messages 1 \
	--timeout 30 >"$TEST_TMP/consume.out" 2>"$TEST_TMP/consume.err" ||
	fail "consume: $(cat "$TEST_TMP/consume.err")"
grep -q '"count": [1-9]' "$TEST_TMP/consume.out" ||
	fail "no aggregated record from the generated worker: $(cat "$TEST_TMP/consume.out")"

# /metrics against deploy/metrics.yaml, and clean under promtool.
curl -sf "$web/metrics" >"$TEST_TMP/metrics.txt" || fail "no /metrics"
python3 - "$TEST_TMP/metrics.txt" deploy/metrics.yaml <<'EOF' ||
import re, sys
import yaml
text, catalog = open(sys.argv[1]).read(), yaml.safe_load(open(sys.argv[2]))
metrics = catalog["metrics"]
errors = []
types = dict(re.findall(r"^# TYPE (\S+) (\S+)", text, re.M))
for name, typ in types.items():
    if not name.startswith(("kafkaaggregator_", "process_")):
        continue
    m = metrics.get(name)
    if m is None:
        errors.append(f"{name} is exported but not in deploy/metrics.yaml")
    elif m["type"] != typ:
        errors.append(f"{name} is a {typ}, deploy/metrics.yaml says {m['type']}")
for line in text.splitlines():
    if line.startswith("#") or not line.strip():
        continue
    mo = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s", line)
    name, labels = mo.group(1), mo.group(2) or ""
    base = re.sub(r"_(bucket|sum|count)$", "", name) \
        if name not in metrics else name
    if base not in metrics:
        continue
    have = set(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', labels))
    want = set(metrics[base]["labels"]) | ({"le"} if name.endswith("_bucket")
                                           else set())
    if have != want:
        errors.append(f"{line.strip()}: labels {sorted(have)}, "
                      f"deploy/metrics.yaml says {sorted(want)}")
for core in ("kafkaaggregator_build_info", "kafkaaggregator_ready",
             "kafkaaggregator_agent_owned", "kafkaaggregator_messages_total",
             "kafkaaggregator_emitted_windows_total",
             "kafkaaggregator_consumer_lag", "kafkaaggregator_commits_total",
             "kafkaaggregator_last_commit_age_seconds",
             "kafkaaggregator_event_time_lag_seconds",
             "kafkaaggregator_emit_latency_seconds",
             "process_cpu_seconds_total", "process_resident_memory_bytes",
             "process_start_time_seconds"):
    if core not in types:
        errors.append(f"{core} is not exported")
if errors:
    sys.exit("\n".join(sorted(set(errors))))
print("ok: /metrics matches deploy/metrics.yaml")
EOF
	fail "/metrics does not match deploy/metrics.yaml"
promtool check metrics <"$TEST_TMP/metrics.txt" ||
	fail "promtool check metrics finds problems in /metrics"
echo "ok: promtool check metrics is clean"
stop_worker

# ---- a restart compiles nothing -------------------------------------------
start_worker start2.log
grep -q "seeding" "$TEST_TMP/start2.log" && fail "the cache was seeded again"
[ -z "$(compiled start2.log)" ] ||
	fail "a restart compiled '$(compiled start2.log)'"
grep -q "LINK" "$TEST_TMP/start2.log" && fail "a restart linked again"
stop_worker

# ---- a changed config: only that agent; a removed one goes ----------------
config 2 0
"$entry" agents >"$TEST_TMP/agents.out" 2>"$TEST_TMP/change.log" ||
	fail "agents after a config change: $(cat "$TEST_TMP/change.log")"
cp "$TEST_TMP/change.log" "$TEST_TMP/change-cc.log"
case "$(compiled change-cc.log)" in
*"$ident_a.c"* | *"runtime"*) fail "a config change compiled '$(compiled change-cc.log)'" ;;
*"$ident_b.c"*) ;;
*) fail "the changed agent was not compiled: '$(compiled change-cc.log)'" ;;
esac
grep -q "$agg_b" "$TEST_TMP/agents.out" && ! grep -q "$agg_a" "$TEST_TMP/agents.out" ||
	fail "after removing $agg_a the worker has: $(cat "$TEST_TMP/agents.out")"
[ ! -e "$TEST_TMP/cache/agents/$ident_a.c" ] || fail "$ident_a.c was kept"

# ---- failures ----------------------------------------------------------------
echo "aggregated_topics: [{name: x, filter: {source_topics: [{nam: y}]}}]" \
	>"$TEST_TMP/bad.yaml"
rc=0
AGGREGATOR_CONFIG_FILE=$TEST_TMP/bad.yaml timeout 20 "$entry" worker \
	>"$TEST_TMP/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "a bad config exited $rc, not 2: $(cat "$TEST_TMP/bad.log")"
grep -q "bad.yaml:1:" "$TEST_TMP/bad.log" ||
	fail "no config error shown: $(cat "$TEST_TMP/bad.log")"
grep -q "generate-agents failed" "$TEST_TMP/bad.log" &&
	fail "a bad config was retried"

rc=0
SCHEMA_REGISTRY_URL=http://127.0.0.1:1 GENERATE_RETRIES=2 timeout 60 \
	"$entry" worker >"$TEST_TMP/noreg.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "an unreachable registry exited $rc, not 1: $(cat "$TEST_TMP/noreg.log")"
[ "$(grep -c 'generate-agents failed (try 1 of 2); retrying in 5 s' \
	"$TEST_TMP/noreg.log")" -eq 1 ] ||
	fail "expected one retry: $(cat "$TEST_TMP/noreg.log")"

rc=0
env -u AGGREGATOR_CONFIG_FILE "$entry" worker >"$TEST_TMP/nocfg.log" 2>&1 ||
	rc=$?
[ "$rc" -eq 2 ] && grep -q "AGGREGATOR_CONFIG_FILE is not set" "$TEST_TMP/nocfg.log" ||
	fail "no config: exit $rc, $(cat "$TEST_TMP/nocfg.log")"

KAFKAAGGREGATOR_CACHE_DIR=$TEST_TMP/unused "$entry" --version \
	>"$TEST_TMP/version.out" 2>&1 || fail "--version: $(cat "$TEST_TMP/version.out")"
grep -q "^kafkaaggregator " "$TEST_TMP/version.out" &&
	[ ! -e "$TEST_TMP/unused" ] ||
	fail "--version generated or printed: $(cat "$TEST_TMP/version.out")"
pass
