#!/usr/bin/env bash
# `make demo`: the whole pipeline on the embedded dev stack, on free ports
# (whatever listens on 9092 or 8081 stays undisturbed): the dev stack
# writes its addresses to an env file (KAFKA_BROKER_URL,
# SCHEMA_REGISTRY_URL) that every later command reads from the
# environment. Then init-example, generate-agents, make, agents, the
# worker, 100 example messages per topic at 20 Hz, and the aggregated
# records of aggregated-example-000 decoded with consume. Everything it
# starts is stopped on every exit path; it takes about half a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./kafkaaggregator}
MAKE=${MAKE:-make}
tmp=$(mktemp -d /tmp/kafkaaggregator-demo.XXXXXX)
dev_pid= worker_pid=

die() {
	echo "demo: $*" >&2
	exit 1
}

stop_pid() {
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	stop_pid "$worker_pid"
	stop_pid "$dev_pid"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() {
	echo
	echo "== $*"
}

[ -x "$BIN" ] || die "$BIN not found: run 'make' first"

step "kafkaaggregator dev-stack --kafka-port 0 --registry-port 0 --env-file ENV --config-file example/aggregator-config.yaml"
"$BIN" dev-stack --kafka-port 0 --registry-port 0 --env-file "$tmp/env" \
	--config-file example/aggregator-config.yaml >"$tmp/dev-stack.log" 2>&1 &
dev_pid=$!
for _ in $(seq 100); do
	[ -s "$tmp/env" ] && break
	if ! kill -0 "$dev_pid" 2>/dev/null; then
		cat "$tmp/dev-stack.log" >&2
		dev_pid=
		die "the dev stack did not start"
	fi
	sleep 0.1
done
[ -s "$tmp/env" ] || die "the dev stack was not ready after 10 s"
cat "$tmp/dev-stack.log"
# Every later command finds the dev stack through these.
set -a
. "$tmp/env"
set +a
sed 's/^/  export /' "$tmp/env"

step "kafkaaggregator init-example"
"$BIN" init-example

step "kafkaaggregator generate-agents"
"$BIN" generate-agents

step "make"
"$MAKE" --no-print-directory -s BIN="$BIN" all
echo "built $BIN with $(ls agents/*.c | wc -l) generated files"

step "kafkaaggregator agents"
"$BIN" agents

step "kafkaaggregator worker (in the background)"
"$BIN" worker >"$tmp/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 200); do
	grep -q "assigned" "$tmp/worker.log" && break
	kill -0 "$worker_pid" 2>/dev/null ||
		{ cat "$tmp/worker.log" >&2; worker_pid=; die "the worker exited"; }
	sleep 0.1
done
grep -q "assigned" "$tmp/worker.log" ||
	die "the worker got no partitions within 20 s"
grep -E "assigned|web:" "$tmp/worker.log" | sed 's/^/  /'

step "kafkaaggregator produce --frequency 20 --max-messages 100"
"$BIN" produce --frequency 20 --max-messages 100

# The last window closes when the topics have been quiet for the idle
# timeout (window + expiration + 1 s = 2 s).
sleep 3
step "what the worker logged for aggregated-example-000"
grep "on aggregated-example-000 " "$tmp/worker.log" | sed 's/^/  /' || true

step "kafkaaggregator consume --topic aggregated-example-000 --from-beginning"
"$BIN" consume --topic aggregated-example-000 --from-beginning --timeout 3 |
	tee "$tmp/out.jsonl"
n=$(wc -l <"$tmp/out.jsonl")
[ "$n" -gt 0 ] || die "no aggregated records on aggregated-example-000"

step "stopping the worker and the dev stack"
stop_pid "$worker_pid"
worker_pid=
stop_pid "$dev_pid"
dev_pid=
echo "demo: $n aggregated records of aggregated-example-000 shown above"
