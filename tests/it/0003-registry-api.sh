#!/usr/bin/env bash
# The dev stack's Schema Registry over HTTP (SPEC §13): every endpoint,
# Confluent's error codes, schema identity across versions and subjects,
# and compatibility under BACKWARD, FORWARD, FULL, NONE and a transitive
# level. Status codes and JSON bodies are checked with python3.
. "$(dirname "$0")/lib.sh"

"$BIN" dev-stack --kafka-port 0 --registry-port 0 \
	--env-file "$TEST_TMP/env" >"$TEST_TMP/dev-stack.log" 2>&1 &
KA_PIDS+=($!)
for _ in $(seq 100); do
	[ -f "$TEST_TMP/env" ] && break
	kill -0 "${KA_PIDS[0]}" 2>/dev/null || fail "dev-stack died: $(cat "$TEST_TMP/dev-stack.log")"
	sleep 0.1
done
[ -f "$TEST_TMP/env" ] || fail "no env file after 10 s"
. "$TEST_TMP/env"
R=$SCHEMA_REGISTRY_URL
[[ $R =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "SCHEMA_REGISTRY_URL='$R'"

# req METHOD PATH [BODY]: sets STATUS and BODY.
req() {
	local out
	WHAT="$1 $2"
	if [ $# -ge 3 ]; then
		out=$(curl -sS --max-time 10 -X "$1" \
			-H 'Content-Type: application/vnd.schemaregistry.v1+json' \
			--data-binary "$3" -w '\n%{http_code}' "$R$2") ||
			fail "$WHAT: curl failed"
	else
		out=$(curl -sS --max-time 10 -X "$1" -w '\n%{http_code}' "$R$2") ||
			fail "$WHAT: curl failed"
	fi
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# expect STATUS PYTHON-EXPRESSION [ARG]: the status now; the expression,
# over the body parsed as j (and ARG as a), must be true. Expressions are
# gathered and checked by one python3 at the end (check_bodies): a python
# start per request would make the test slow.
expect() {
	[ "$STATUS" = "$1" ] || fail "$WHAT: HTTP $STATUS, expected $1: $BODY"
	printf '%s\0%s\0%s\0%s\0' "$WHAT" "$BODY" "$2" "${3-}" >>"$TEST_TMP/checks"
	echo "ok: $WHAT -> $STATUS $BODY" | cut -c1-200
}

check_bodies() {
	python3 - "$TEST_TMP/checks" <<'EOF'
import json, sys
f = open(sys.argv[1]).read().split("\0")[:-1]
bad = 0
for what, body, expr, a in zip(f[0::4], f[1::4], f[2::4], f[3::4]):
    try:
        j = json.loads(body)
        ok = eval(expr)
    except Exception as e:
        ok = False
        expr += f" ({e!r})"
    if not ok:
        print(f"FAIL: {what}: body {body} does not satisfy: {expr} {a}")
        bad += 1
print(f"{len(f) // 4} bodies checked, {bad} wrong")
sys.exit(1 if bad else 0)
EOF
}

# An error answer: HTTP status, Confluent error_code, a part of the message.
expect_error() {
	expect "$1" "j['error_code'] == $2 and set(j) == {'error_code', 'message'} and a in j['message']" "$3"
}

# The id of the last body, {"id":N}.
id_of() {
	[[ $BODY =~ ^\{\"id\":([0-9]+)\}$ ]] || fail "$WHAT: no id in $BODY"
	echo "${BASH_REMATCH[1]}"
}

# A register/lookup body holding the schema text $1 (JSON-escaped here:
# backslashes, quotes and newlines are all the schemas below hold).
body() {
	local s=${1//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\n'/\\n}
	printf '{"schema": "%s"}' "$s"
}

rec() {
	echo "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"it\",\"fields\":[$1]}"
}
A='{"name":"a","type":"int"}'
B_REQ='{"name":"b","type":"int"}'
B_OPT='{"name":"b","type":"int","default":0}'
V1=$(rec "$A")
V1_SPACED='{ "type": "record", "name": "R", "namespace": "it", "doc": "same as v1",
  "fields": [ { "name": "a", "type": {"type": "int"} } ] }'
V2_REQ=$(rec "$A,$B_REQ")
V2_OPT=$(rec "$A,$B_OPT")

# Content type and the empty registry.
curl -sS -D "$TEST_TMP/headers" -o /dev/null "$R/subjects" || fail "GET /subjects"
grep -qi '^content-type: application/vnd.schemaregistry.v1+json' "$TEST_TMP/headers" ||
	fail "content type: $(cat "$TEST_TMP/headers")"
req GET /subjects
expect 200 'j == []'

# Registration, identity by canonical form, ids shared across subjects.
req POST /subjects/orders-value/versions "$(body "$V1")"
expect 200 'isinstance(j["id"], int) and j["id"] >= 1'
ID1=$(id_of)
req POST /subjects/orders-value/versions "$(body "$V1_SPACED")"
expect 200 "j == {'id': $ID1}"
req POST /subjects/orders-value/versions \
	'{"schema": "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"it\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}", "schemaType": "AVRO"}'
expect 200 "j == {'id': $ID1}"
req GET /subjects/orders-value/versions
expect 200 'j == [1]'
req POST /subjects/shipments-value/versions "$(body "$V1")"
expect 200 "j == {'id': $ID1}"
req GET /subjects
expect 200 'j == ["orders-value", "shipments-value"]'
req GET "/schemas/ids/$ID1/versions"
expect 200 'sorted((v["subject"], v["version"]) for v in j) == [("orders-value", 1), ("shipments-value", 1)]'

# BACKWARD (the default): a new field needs a default.
req GET /config
expect 200 'j == {"compatibilityLevel": "BACKWARD"}'
req POST /subjects/orders-value/versions "$(body "$V2_REQ")"
expect_error 409 409 "'b'"
req POST /subjects/orders-value/versions "$(body "$V2_OPT")"
expect 200 "j['id'] != $ID1"
ID2=$(id_of)
req GET /subjects/orders-value/versions
expect 200 'j == [1, 2]'

# Reading back by version and by id.
req GET /subjects/orders-value/versions/latest
expect 200 "j == {'subject': 'orders-value', 'version': 2, 'id': $ID2, 'schema': '''$V2_OPT'''}"
req GET /subjects/orders-value/versions/1
expect 200 "j['version'] == 1 and j['id'] == $ID1 and json.loads(j['schema']) == json.loads('''$V1''')"
req GET "/schemas/ids/$ID2"
expect 200 "j == {'schema': '''$V2_OPT'''}"
out=$(curl -sS "$R/subjects/orders-value/versions/2/schema")
[ "$out" = "$V2_OPT" ] || fail "GET .../versions/2/schema: $out"

# Lookup.
req POST /subjects/orders-value "$(body "$V1_SPACED")"
expect 200 "j['subject'] == 'orders-value' and j['version'] == 1 and j['id'] == $ID1 and 'schema' in j"
req POST /subjects/orders-value "$(body "$(rec '{"name":"z","type":"string"}')")"
expect_error 404 40403 "not found"
req POST /subjects/no-such-subject "$(body "$V1")"
expect_error 404 40401 "no-such-subject"

# Errors of versions, ids and schemas.
req GET /subjects/orders-value/versions/99
expect_error 404 40402 "99"
req GET /subjects/orders-value/versions/abc
expect_error 422 42202 "abc"
req GET /subjects/orders-value/versions/0
expect_error 422 42202 "version"
req GET /subjects/no-such-subject/versions/1
expect_error 404 40401 "Subject 'no-such-subject' not found."
req GET /subjects/no-such-subject/versions
expect_error 404 40401 "no-such-subject"
req GET /schemas/ids/99999
expect_error 404 40403 "99999"
req POST /subjects/bad-value/versions "$(body '{"type":"nonsense"}')"
expect_error 422 42201 "nonsense"
req POST /subjects/bad-value/versions "$(body "$(rec '{"name":"a","type":"int","default":"x"}')")"
expect_error 422 42201 "default"
req POST /subjects/bad-value/versions '{"schema": '
expect_error 400 400 "JSON"
req POST /subjects/bad-value/versions '{"schema": "\"int\"", "schemaType": "PROTOBUF"}'
expect_error 422 42201 "AVRO"
req GET /no/such/path
expect_error 404 404 "Not Found"
req PUT /subjects
expect_error 405 405 "Not Allowed"

# Per-subject levels fall back to the global one.
req PUT /config/inventory-value '{"compatibility": "FORWARD"}'
expect 200 'j == {"compatibility": "FORWARD"}'
req GET /config/inventory-value
expect 200 'j == {"compatibilityLevel": "FORWARD"}'
req GET /config/orders-value
expect 200 'j == {"compatibilityLevel": "BACKWARD"}'
req PUT /config/inventory-value '{"compatibility": "SIDEWAYS"}'
expect_error 422 42203 "compatibility level"
req PUT /config '{"compatibility": "sideways"}'
expect_error 422 42203 "compatibility level"

# FORWARD: the latest must read the new one; dropping a required field
# fails, adding one does not.
req POST /subjects/inventory-value/versions "$(body "$V2_REQ")"
expect 200 '"id" in j'
req POST /subjects/inventory-value/versions "$(body "$V1")"
expect_error 409 409 "'b'"
req POST /subjects/inventory-value/versions "$(body "$(rec "$A,$B_REQ"',{"name":"c","type":"string"}')")"
expect 200 '"id" in j'

# FULL: both directions.
req PUT /config/full-value '{"compatibility": "FULL"}'
expect 200 'j == {"compatibility": "FULL"}'
req POST /subjects/full-value/versions "$(body "$V1")"
expect 200 "j == {'id': $ID1}"
req POST /subjects/full-value/versions "$(body "$V2_REQ")"
expect_error 409 409 "'b'"
req POST /subjects/full-value/versions "$(body "$V2_OPT")"
expect 200 "j == {'id': $ID2}"

# NONE: anything goes.
req PUT /config/none-value '{"compatibility": "NONE"}'
expect 200 'j == {"compatibility": "NONE"}'
req POST /subjects/none-value/versions "$(body "$V1")"
expect 200 '"id" in j'
req POST /subjects/none-value/versions "$(body "$(rec '{"name":"a","type":"string"}')")"
expect 200 '"id" in j'
req GET /subjects/none-value/versions
expect 200 'j == [1, 2]'
# A default makes another schema (the canonical form alone would not).
req POST /subjects/none-value/versions "$(body "$V2_REQ")"
expect 200 "j['id'] != $ID2"
req POST /subjects/none-value/versions "$(body "$V2_OPT")"
expect 200 "j == {'id': $ID2}"
req GET /subjects/none-value/versions
expect 200 'j == [1, 2, 3, 4]'

# BACKWARD_TRANSITIVE looks past the latest version.
req PUT /config/trans-value '{"compatibility": "BACKWARD_TRANSITIVE"}'
expect 200 'j == {"compatibility": "BACKWARD_TRANSITIVE"}'
req POST /subjects/trans-value/versions "$(body "$V1")"
expect 200 '"id" in j'
req POST /subjects/trans-value/versions "$(body "$(rec '')")"
expect 200 '"id" in j'
req POST /subjects/trans-value/versions "$(body "$(rec '{"name":"a","type":"string","default":""}')")"
expect_error 409 409 "version 1"

# The compatibility test endpoint.
req POST /compatibility/subjects/orders-value/versions/latest "$(body "$(rec "$A,$B_OPT"',{"name":"c","type":"int"}')")"
expect 200 'j["is_compatible"] is False'
req POST /compatibility/subjects/orders-value/versions/latest "$(body "$V2_OPT")"
expect 200 'j["is_compatible"] is True'

# The global level.
req PUT /config '{"compatibility": "NONE"}'
expect 200 'j == {"compatibility": "NONE"}'
req GET /config
expect 200 'j == {"compatibilityLevel": "NONE"}'
req GET /config/orders-value
expect 200 'j == {"compatibilityLevel": "NONE"}'
req PUT /config '{"compatibility": "BACKWARD"}'
expect 200 'j == {"compatibility": "BACKWARD"}'

# Percent-encoded subject names.
req POST /subjects/team%2Fsensors-value/versions "$(body "$V1")"
expect 200 "j == {'id': $ID1}"
req GET /subjects
expect 200 '"team/sensors-value" in j'
req GET /subjects/team%2Fsensors-value/versions/latest
expect 200 'j["subject"] == "team/sensors-value"'

# DELETE returns the versions; then the subject is gone, its ids stay.
req DELETE /subjects/orders-value
expect 200 'j == [1, 2]'
req GET /subjects/orders-value/versions
expect_error 404 40401 "orders-value"
req DELETE /subjects/orders-value
expect_error 404 40401 "orders-value"
req GET /subjects
expect 200 '"orders-value" not in j and "shipments-value" in j'
req GET "/schemas/ids/$ID2"
expect 200 "j == {'schema': '''$V2_OPT'''}"

check_bodies || fail "wrong bodies"

# A clean stop (under ASan this also checks that nothing leaked).
kill -TERM "${KA_PIDS[0]}"
wait "${KA_PIDS[0]}" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "dev-stack exited $rc: $(cat "$TEST_TMP/dev-stack.log")"
pass
