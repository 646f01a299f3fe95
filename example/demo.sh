#!/usr/bin/env bash
# `make demo`: the embedded dev stack on its default ports (Kafka on
# 127.0.0.1:9092, Schema Registry on http://127.0.0.1:8081), shown with
# kcat and curl, then stopped. Bounded to about 30 s; whatever it started
# is stopped on every exit path.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-./kafkaaggregator}
KAFKA=127.0.0.1:9092
REGISTRY=http://127.0.0.1:8081

die() {
	echo "demo: $*" >&2
	exit 1
}

[ -x "$BIN" ] || die "$BIN not found: run 'make' first"
for tool in kcat curl; do
	command -v "$tool" >/dev/null || die "$tool is not installed (make deps)"
done

tmp=$(mktemp -d /tmp/kafkaaggregator-demo.XXXXXX)
dev_pid=
stop() {
	if [ -n "$dev_pid" ] && kill -0 "$dev_pid" 2>/dev/null; then
		kill -TERM "$dev_pid" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "$dev_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$dev_pid" 2>/dev/null || true
	fi
	[ -z "$dev_pid" ] || wait "$dev_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap stop EXIT
trap 'exit 130' INT TERM

echo "== starting the dev stack"
"$BIN" dev-stack --env-file "$tmp/env" 2>"$tmp/dev-stack.err" &
dev_pid=$!
for _ in $(seq 100); do
	[ -f "$tmp/env" ] && break
	if ! kill -0 "$dev_pid" 2>/dev/null; then
		cat "$tmp/dev-stack.err" >&2
		die "the dev stack did not start (is another dev stack, Kafka or" \
			"Schema Registry using ports 9092 and 8081?)"
	fi
	sleep 0.1
done
[ -f "$tmp/env" ] || die "the dev stack was not ready after 10 s"
echo "== $tmp/env:"
cat "$tmp/env"

echo
echo "== kcat -b $KAFKA -L"
timeout 10 kcat -b "$KAFKA" -m 5 -L

subject=demo-value
schema='{"type":"record","name":"demo","namespace":"kafkaaggregator","fields":[{"name":"time","type":"double"},{"name":"value0","type":"double"}]}'
body=$(python3 -c 'import json, sys; print(json.dumps({"schema": sys.argv[1]}))' "$schema")

echo
echo "== POST $REGISTRY/subjects/$subject/versions"
curl -sS --fail-with-body --max-time 5 -X POST \
	-H 'Content-Type: application/vnd.schemaregistry.v1+json' \
	--data "$body" "$REGISTRY/subjects/$subject/versions"
echo
echo "== GET $REGISTRY/subjects/$subject/versions/latest"
curl -sS --fail-with-body --max-time 5 \
	"$REGISTRY/subjects/$subject/versions/latest"
echo
echo "== GET $REGISTRY/schemas/ids/1"
curl -sS --fail-with-body --max-time 5 "$REGISTRY/schemas/ids/1"
echo
echo "== GET $REGISTRY/subjects"
curl -sS --fail-with-body --max-time 5 "$REGISTRY/subjects"
echo

echo
echo "== stopping the dev stack"
kill -TERM "$dev_pid"
status=0
wait "$dev_pid" || status=$?
dev_pid=
[ "$status" -eq 0 ] || die "the dev stack exited with status $status"
echo "demo: done"
