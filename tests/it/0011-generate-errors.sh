#!/usr/bin/env bash
# generate-agents on bad input (SPEC §4, §12): config errors that need the
# schema come as FILE:LINE:COL with exit 2; a missing subject or a registry
# that is down is one line with exit 1; an aggregated schema the registry
# finds incompatible (409) names the subject and the change, and
# --compatibility NONE lets it through.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-devstack.sh"

start_devstack
src=gen-src-$$
cat >"$TEST_TMP/schema.avsc" <<EOS
{"type": "record", "name": "src", "fields": [
  {"name": "time", "type": "double"}, {"name": "a", "type": "double"},
  {"name": "label", "type": "string"}]}
EOS
register_schema "$src-value" "$TEST_TMP/schema.avsc" >/dev/null

# gen CONFIG [OPTIONS]: generate-agents into $TEST_TMP/out.
gen() {
	"$BIN" -l "${LOG_LEVEL:-info}" generate-agents --config-file "$1" --output-dir "$TEST_TMP/out" \
		"${@:2}"
}
# expect_error STATUS REGEX CONFIG [OPTIONS]: one line on stderr, matching.
expect_error() {
	local status=$1 pattern=$2 err rc
	shift 2
	err=$(gen "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[ "$rc" -eq "$status" ] || fail "exit $rc, expected $status: $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "more than one line: $err"
	[[ $err =~ $pattern ]] || fail "'$err' does not match '$pattern'"
	echo "ok: $err"
}

config() {
	cat >"$TEST_TMP/$1.yaml"
	echo "$TEST_TMP/$1.yaml"
}

f=$(config missing-field <<EOF2
aggregated_topics:
  - name: gen-out-$$
    filter:
      source_topics:
        - name: $src
          fields: [a, nope]
EOF2
)
expect_error 2 "^$f:6:23: error: field 'nope' is not in the schema of topic '$src'" "$f"

f=$(config not-numeric <<EOF2
aggregated_topics:
  - name: gen-out-$$
    filter:
      source_topics:
        - name: $src
          fields: [label]
EOF2
)
expect_error 2 "^$f:6:20: error: field 'label' of topic '$src' is of type string, not a number" "$f"

f=$(config bad-time <<EOF2
aggregated_topics:
  - name: gen-out-$$
    window_aggregation:
      time_field: label
    filter:
      source_topics:
        - name: $src
EOF2
)
expect_error 2 "^$f:4:19: error: time_field 'label'" "$f"

# Arrays: an array of numbers is numeric, one of booleans is not, and an
# array cannot be the event time.
arr=gen-arr-$$
cat >"$TEST_TMP/arrays.avsc" <<EOS
{"type": "record", "name": "arr", "fields": [
  {"name": "time", "type": "double"},
  {"name": "v", "type": {"type": "array", "items": "float"}},
  {"name": "flags", "type": {"type": "array", "items": "boolean"}}]}
EOS
register_schema "$arr-value" "$TEST_TMP/arrays.avsc" >/dev/null
f=$(config array-of-booleans <<EOF2
aggregated_topics:
  - name: gen-out-$$
    filter:
      source_topics:
        - name: $arr
          fields: [v, flags]
EOF2
)
expect_error 2 "^$f:6:23: error: field 'flags' of topic '$arr' is of type array of boolean, not a number" "$f"
f=$(config array-time <<EOF2
aggregated_topics:
  - name: gen-out-$$
    window_aggregation: {time_field: v}
    filter:
      source_topics:
        - name: $arr
EOF2
)
expect_error 2 "^$f:3:38: error: time_field 'v' of topic '$arr' must be a double" "$f"

# Topic patterns against the registry's subjects: what matched is
# printed; a pattern matching nothing, or a listed field that is a number
# in none of the matched topics, is a config error.
f=$(config pattern <<EOF2
aggregated_topics:
  - name: "{source_topic_name}-agg"
    window_aggregation: {operations: [max]}
    filter:
      source_topics:
        - regex: "gen-(src|arr)-$$"
EOF2
)
gen "$f" >"$TEST_TMP/pattern.out" 2>&1 || fail "pattern: $(cat "$TEST_TMP/pattern.out")"
grep -q "^$f:6:18: regex 'gen-(src|arr)-$$' matched 2 of [0-9]* topics (0 excluded, 0 aggregated topics of this config skipped)$" \
	"$TEST_TMP/pattern.out" || fail "pattern report: $(cat "$TEST_TMP/pattern.out")"
grep -q "^  $arr -> $arr-agg$" "$TEST_TMP/pattern.out" &&
	grep -q "^  $src -> $src-agg$" "$TEST_TMP/pattern.out" ||
	fail "pattern matches: $(cat "$TEST_TMP/pattern.out")"
# The aggregated schema registered for it has the array's statistics.
curl -sf "$SCHEMA_REGISTRY_URL/subjects/$arr-agg-value/versions/latest" |
	python3 -c 'import json, sys
s = json.loads(json.load(sys.stdin)["schema"])
t = {f["name"]: f["type"] for f in s["fields"]}
assert t["max_v"] == {"type": "array", "items": "double"}, t
assert "max_flags" not in t, t' || fail "no array statistics registered for $arr"
echo "ok: the pattern matched $src and $arr"
# A rerun does not take the aggregated subjects just registered for
# sources (gen-src-N-agg-value would match "gen-src-N.*").
f=$(config pattern-rerun <<EOF2
aggregated_topics:
  - name: "{source_topic_name}-agg"
    window_aggregation: {operations: [max]}
    filter:
      source_topics:
        - regex: "gen-(src|arr)-$$.*"
EOF2
)
gen "$f" >"$TEST_TMP/pattern.out" 2>&1 || fail "pattern rerun: $(cat "$TEST_TMP/pattern.out")"
grep -q "matched 2 of [0-9]* topics (0 excluded, 2 aggregated topics of this config skipped)" \
	"$TEST_TMP/pattern.out" || fail "pattern rerun report: $(cat "$TEST_TMP/pattern.out")"
echo "ok: a rerun skips its own aggregated topics"
f=$(config pattern-nothing <<EOF2
aggregated_topics:
  - name: "{source_topic_name}-agg"
    filter:
      source_topics:
        - regex: "gen-nothing-$$"
EOF2
)
expect_error 2 "^$f:5:18: error: regex 'gen-nothing-$$' matches no topic among the [0-9]+ of the <topic>-value subjects of the registry http://127.0.0.1:[0-9]+$" "$f"
f=$(config pattern-field <<EOF2
aggregated_topics:
  - name: "{source_topic_name}-agg"
    filter:
      source_topics:
        - regex: "gen-(src|arr)-$$"
          fields: [v, label]
EOF2
)
expect_error 2 "^$f:6:23: error: field 'label' is a number in none of the 2 topics the pattern matched" "$f"
f=$(config pattern-regex <<EOF2
aggregated_topics:
  - name: "{source_topic_name}-agg"
    filter:
      source_topics:
        - regex: "gen-(src"
EOF2
)
expect_error 2 "^$f:5:18: error: invalid regular expression 'gen-\(src' in 'regex'" "$f"

f=$(config unknown-subject <<EOF2
aggregated_topics:
  - name: gen-out-$$
    filter:
      source_topics:
        - name: no-such-topic-$$
EOF2
)
expect_error 1 "source topic 'no-such-topic-$$'.*40401" "$f"

# The aggregated schema changes incompatibly: one more operation adds
# fields without defaults, which BACKWARD refuses.
f=$(config v1 <<EOF2
aggregated_topics:
  - name: gen-out-$$
    window_aggregation:
      operations: [mean]
    filter:
      source_topics:
        - name: $src
EOF2
)
gen "$f" >/dev/null || fail "the first generation failed"
f=$(config v2 <<EOF2
aggregated_topics:
  - name: gen-out-$$
    window_aggregation:
      operations: [mean, max]
    filter:
      source_topics:
        - name: $src
EOF2
)
expect_error 1 "subject 'gen-out-$$-value' \(fields added: max_a\).*409" "$f"
gen "$f" --compatibility NONE >/dev/null ||
	fail "--compatibility NONE did not let the new schema through"
echo "ok: --compatibility NONE registers it"

# The registry is down: a clear line after bounded retries (each retry is
# a warning, hidden here with -l error).
stop_devstack
LOG_LEVEL=error SCHEMA_REGISTRY_URL=http://127.0.0.1:9 expect_error 1 \
	"schema registry http://127.0.0.1:9: .*gave up after" "$f"
pass
