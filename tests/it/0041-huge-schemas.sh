#!/usr/bin/env bash
# A source of 15k fields through generate-agents against the dev registry
# (issue #10): the aggregated schema it registers has 105k fields, which
# the registry parses, normalizes and checks for compatibility. With
# pairwise duplicate checks that took minutes and the client gave up
# after its retries; linear, it takes seconds. A second, evolved version
# of the source (one field added with a default) is then registered, as
# a compatibility check of 15k fields against 15k fields.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-devstack.sh"

N=15000
start_devstack
src=huge-$$
python3 - "$N" "$TEST_TMP" <<'PY'
import json, sys
n, tmp = int(sys.argv[1]), sys.argv[2]
fields = [{"name": "time", "type": "double"}] + [
    {"name": "v%d" % i, "type": "double"} for i in range(n)]
json.dump({"type": "record", "name": "huge", "fields": fields},
          open(tmp + "/v1.avsc", "w"))
fields.append({"name": "added", "type": "string", "default": ""})
json.dump({"type": "record", "name": "huge", "fields": fields},
          open(tmp + "/v2.avsc", "w"))
PY
register_schema "$src-value" "$TEST_TMP/v1.avsc" >/dev/null
cat >"$TEST_TMP/config.yaml" <<EOC
aggregated_topics:
  - name: $src-agg
    window_aggregation: {window_size_seconds: 1}
    filter:
      source_topics:
        - name: $src
EOC
start=$SECONDS
timeout 120 "$BIN" generate-agents --config-file "$TEST_TMP/config.yaml" \
	--output-dir "$TEST_TMP/out" >"$TEST_TMP/gen.log" 2>&1 ||
	fail "generate-agents: $(tail -3 "$TEST_TMP/gen.log")"
elapsed=$((SECONDS - start))
echo "generate-agents with $N fields: ${elapsed} s"
[ "$elapsed" -le 60 ] || fail "generate-agents took $elapsed s"
# The aggregated schema is registered, 7 operations of every field.
n=$(curl -sf "$SCHEMA_REGISTRY_URL/subjects/$src-agg-value/versions/latest" |
	python3 -c 'import json,sys; print(len(json.loads(json.load(sys.stdin)["schema"])["fields"]))')
[ "$n" -eq $((3 + 7 * N)) ] || fail "aggregated schema has $n fields"

start=$SECONDS
id=$(register_schema "$src-value" "$TEST_TMP/v2.avsc") ||
	fail "the evolved source was refused"
echo "evolved source registered as id $id in $((SECONDS - start)) s"
[ $((SECONDS - start)) -le 20 ] || fail "registering took too long"
pass
