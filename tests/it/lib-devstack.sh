# Starting the embedded dev stack from a test: on free ports, its addresses
# exported as KAFKA_BROKER_URL and SCHEMA_REGISTRY_URL. Source after lib.sh.

# start_devstack [dev-stack options...]: waits (bounded) until it serves.
start_devstack() {
	local env=$TEST_TMP/devstack.env
	rm -f "$env"
	"$BIN" dev-stack --kafka-port 0 --registry-port 0 --env-file "$env" \
		"$@" >"$TEST_TMP/devstack.log" 2>&1 &
	DEVSTACK_PID=$!
	KA_PIDS+=("$DEVSTACK_PID")
	for _ in $(seq 100); do
		[ -s "$env" ] && break
		kill -0 "$DEVSTACK_PID" 2>/dev/null ||
			fail "dev-stack exited: $(cat "$TEST_TMP/devstack.log")"
		sleep 0.1
	done
	[ -s "$env" ] || fail "dev-stack did not start within 10 s"
	set -a
	. "$env"
	set +a
}

stop_devstack() {
	kill -TERM "$DEVSTACK_PID" 2>/dev/null || true
	wait "$DEVSTACK_PID" 2>/dev/null || true
}

# register_schema SUBJECT FILE: prints the schema id.
register_schema() {
	python3 - "$SCHEMA_REGISTRY_URL" "$1" "$2" <<'PY'
import json, sys, urllib.request
url, subject, path = sys.argv[1:]
body = json.dumps({"schema": open(path).read()}).encode()
req = urllib.request.Request(
    f"{url}/subjects/{subject}/versions", data=body,
    headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["id"])
PY
}
