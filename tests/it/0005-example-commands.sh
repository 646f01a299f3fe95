#!/usr/bin/env bash
# 0005: the example commands of SPEC §3 on the dev stack. init-example
# registers the example schema of every source topic; produce writes
# Confluent Avro records that consume decodes back through the registry;
# consume prints JSON payloads as they are, skips garbage with a warning,
# prints NaN and infinities as strings, and fails on a missing topic; bad
# options exit 2 with one line.
. "$(dirname "$0")/lib.sh"

for tool in kcat curl python3; do
	command -v "$tool" >/dev/null || { echo "$tool is not installed"; exit 77; }
done
# The commands read these; the test sets what it means.
unset NFIELDS FREQUENCY MAX_MESSAGES TOPIC_PARTITIONS KAFKA_CONFIG_FILE \
	AGGREGATOR_CONFIG_FILE

id=$$-$RANDOM
# '.' and '-' show the mapping of topic names to Avro record names.
src_a=it5.src-a-$id
src_b=it5.src-b-$id
agg_a=it5-agg-a-$id
agg_b=it5-agg-b-$id
cat >"$TEST_TMP/config.yaml" <<EOF
aggregated_topics:
  - name: $agg_a
    filter:
      source_topics:
        - name: $src_a
  - name: $agg_b
    filter:
      source_topics:
        - name: $src_b
EOF

"$BIN" dev-stack --kafka-port 0 --registry-port 0 \
	--env-file "$TEST_TMP/env" --config-file "$TEST_TMP/config.yaml" \
	--partitions 2 >"$TEST_TMP/dev-stack.log" 2>&1 &
stack=$!
KA_PIDS+=("$stack")
for _ in $(seq 150); do
	grep -q '^SCHEMA_REGISTRY_URL=' "$TEST_TMP/env" 2>/dev/null &&
		grep -q '^KAFKA_BROKER_URL=' "$TEST_TMP/env" && break
	kill -0 "$stack" 2>/dev/null ||
		fail "dev-stack exited: $(cat "$TEST_TMP/dev-stack.log")"
	sleep 0.1
done
grep -q '^SCHEMA_REGISTRY_URL=' "$TEST_TMP/env" ||
	fail "dev-stack wrote no env file within 15 s"
set -a
. "$TEST_TMP/env"
set +a
export KAFKA_BROKER_URL SCHEMA_REGISTRY_URL
brokers=${KAFKA_BROKER_URL#kafka://}
cd "$TEST_TMP"

# Runs the binary with a time limit; stdout, stderr and status in files.
run() {
	local name=$1
	shift
	timeout 60 "$BIN" "$@" >"$name.out" 2>"$name.err" && rc=0 || rc=$?
	echo "$name: exit $rc"
}

# ---- init-example: topics and schemas --------------------------------
run init init-example --config-file config.yaml --nfields 3
[ "$rc" -eq 0 ] || fail "init-example exited $rc: $(cat init.err)"
# The dev stack made the topics with 2 partitions and cannot create more:
# init-example says so in one line and uses them.
for t in "$src_a" "$src_b"; do
	grep -q "^$t: .*(2 partitions)" init.out ||
		fail "init-example did not use the topic $t: $(cat init.out)"
done
[ "$(wc -l <init.out)" -eq 3 ] || fail "init-example printed: $(cat init.out)"
grep -q "$agg_a" init.out && fail "init-example touched the aggregated topic"
for t in "$src_a" "$src_b"; do
	curl -sf "$SCHEMA_REGISTRY_URL/subjects/$t-value/versions/latest" \
		>"schema-$t.json" || fail "no subject $t-value in the registry"
	python3 - "$t" "schema-$t.json" <<'EOF' || fail "schema of $t is wrong"
import json, re, sys
topic, path = sys.argv[1], sys.argv[2]
schema = json.loads(json.load(open(path))["schema"])
want = ["time", "value0", "value1", "value2"]
assert schema["type"] == "record", schema
assert schema["name"] == re.sub(r"[^A-Za-z0-9_]", "_", topic), schema["name"]
assert schema["namespace"] == "kafkaaggregator.example", schema
assert [f["name"] for f in schema["fields"]] == want, schema["fields"]
assert all(f["type"] == "double" for f in schema["fields"]), schema["fields"]
EOF
done
# Again: the same schemas keep their ids.
id_a=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "schema-$src_a.json")
run init2 init-example --config-file config.yaml --nfields 3
[ "$rc" -eq 0 ] || fail "second init-example exited $rc: $(cat init2.err)"
grep -q "^$src_a: .*schema id $id_a\b" init2.out ||
	fail "second init-example changed the schema id of $src_a: $(cat init2.out)"

# ---- produce, then consume what it wrote -----------------------------
start=$(date +%s.%N)
run produce produce --config-file config.yaml --frequency 50 --max-messages 20
end=$(date +%s.%N)
[ "$rc" -eq 0 ] || fail "produce exited $rc: $(cat produce.err)"
[ "$(wc -l <produce.out)" -eq 1 ] || fail "produce summary is not one line: $(cat produce.out)"
for t in "$src_a" "$src_b"; do
	grep -q "$t 20\b" produce.out || fail "produce summary lacks '$t 20': $(cat produce.out)"
done
# 20 ticks at 50 Hz are 19 periods apart: a schedule, not a burst.
python3 -c 'import sys; sys.exit(float(sys.argv[2]) - float(sys.argv[1]) < 0.35)' \
	"$start" "$end" || fail "produce sent 20 ticks at 50 Hz in under 0.35 s"

check_records() { # file count
	python3 - "$1" "$2" <<'EOF'
import json, sys, time
path, count = sys.argv[1], int(sys.argv[2])
lines = open(path).read().splitlines()
assert len(lines) == count, f"{len(lines)} lines, expected {count}"
now = time.time()
seen = set()
for line in lines:
    rec = json.loads(line)
    assert list(rec) == ["time", "value0", "value1", "value2"], rec
    assert now - 60 <= rec["time"] <= now + 1, rec
    for k in ("value0", "value1", "value2"):
        assert isinstance(rec[k], float) and 0 <= rec[k] < 1, rec
        seen.add(rec[k])
assert len(seen) > count, "values are not random"
EOF
}
for t in "$src_a" "$src_b"; do
	run consume consume --topic "$t" --from-beginning --max-messages 20 --timeout 10
	[ "$rc" -eq 0 ] || fail "consume $t exited $rc: $(cat consume.err)"
	check_records consume.out 20 || fail "consume $t printed wrong records"
done
# --max-messages stops early; --timeout ends a quiet topic.
run first5 consume --topic "$src_a" --from-beginning --max-messages 5 --timeout 10
[ "$rc" -eq 0 ] && check_records first5.out 5 || fail "consume --max-messages 5 did not print 5 records"
run quiet consume --topic "$src_b" --from-beginning --timeout 1.5
[ "$rc" -eq 0 ] && check_records quiet.out 20 || fail "consume --timeout 1.5 did not print the 20 records"

# ---- JSON is printed as is, garbage is skipped -----------------------
printf '{"time": 1.5,  "note":"as is"}' >m0
printf '\xff\xfe not a record' >m1
printf '{"a":\n  [1, 2]}\n' >m2
printf '\x00\x7f\xff\xff\xf0\x01\x02' >m3 # Avro with an unknown schema id
printf '\x00\x00\x00\x00%b\x01' "\\x$(printf %02x "$id_a")" >m4 # truncated
kcat -P -b "$brokers" -t "$agg_a" -p 0 m0 m1 m2 m3 m4 ||
	fail "kcat could not produce to $agg_a"
run mixed consume --topic "$agg_a" --from-beginning --max-messages 5 --timeout 10
[ "$rc" -eq 0 ] || fail "consume of a topic with garbage exited $rc: $(cat mixed.err)"
[ "$(sed -n 1p mixed.out)" = "$(cat m0)" ] ||
	fail "JSON was not printed as is: $(sed -n 1p mixed.out)"
python3 -c 'import json,sys; assert json.loads(sys.argv[1]) == {"a": [1, 2]}' \
	"$(sed -n 2p mixed.out)" || fail "multi-line JSON printed as '$(sed -n 2p mixed.out)'"
[ "$(wc -l <mixed.out)" -eq 2 ] || fail "consume printed more than the 2 JSON messages: $(cat mixed.out)"
for offset in 1 3 4; do
	grep -q "offset $offset:" mixed.err || fail "no warning for offset $offset: $(cat mixed.err)"
done
[ "$(grep -c 'skipped message' mixed.err)" -eq 3 ] || fail "expected 3 warnings: $(cat mixed.err)"

# ---- NaN and infinities print as strings ------------------------------
# Aggregated records carry NaN (a one-value stdev, an all-null field);
# avro-c's own JSON printer refuses them. Records built here by hand with
# a registered schema: NaN, +inf and -inf in a double, a float and a
# union, and finite doubles that must read back exactly.
python3 - >nan-schema.json <<'EOF'
import json
schema = {"type": "record", "name": "nanrec", "fields": [
    {"name": "time", "type": "double"},
    {"name": "x", "type": "double"},
    {"name": "y", "type": "float"},
    {"name": "z", "type": ["null", "double"]}]}
print(json.dumps({"schema": json.dumps(schema)}))
EOF
curl -sf -X POST -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
	--data @nan-schema.json "$SCHEMA_REGISTRY_URL/subjects/$agg_b-value/versions" \
	>nan-id.json || fail "could not register the NaN schema"
python3 - nan-id.json <<'EOF' || fail "could not build the NaN records"
import json, struct, sys
sid = json.load(open(sys.argv[1]))["id"]
def record(time, x, y, z):
    body = struct.pack("<ddf", time, x, y)
    # The union's branch index is a zigzag varint: 0 -> 0, 1 -> 2.
    body += b"\x00" if z is None else b"\x02" + struct.pack("<d", z)
    return b"\x00" + struct.pack(">i", sid) + body
nan, inf = float("nan"), float("inf")
open("nan0", "wb").write(record(1.5, nan, inf, -inf))
open("nan1", "wb").write(record(1700000000.1234567, 0.1, -inf, None))
open("nan2", "wb").write(record(5e-324, 1e300, nan, -0.0))
EOF
kcat -P -b "$brokers" -t "$agg_b" -p 0 nan0 nan1 nan2 ||
	fail "kcat could not produce to $agg_b"
run nan consume --topic "$agg_b" --from-beginning --max-messages 3 --timeout 10
[ "$rc" -eq 0 ] || fail "consume of NaN records exited $rc: $(cat nan.err)"
grep -q 'skipped' nan.err && fail "consume skipped a NaN record: $(cat nan.err)"
grep -q '"x": "NaN"' nan.out || fail "consume printed no \"x\": \"NaN\": $(cat nan.out)"
python3 - nan.out <<'EOF' || fail "consume printed NaN records wrong: $(cat nan.out)"
import json, struct, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 3, lines
recs = [json.loads(line) for line in lines]
assert recs[0] == {"time": 1.5, "x": "NaN", "y": "Infinity",
                   "z": {"double": "-Infinity"}}, recs[0]
assert recs[1] == {"time": 1700000000.1234567, "x": 0.1, "y": "-Infinity",
                   "z": None}, recs[1]
assert recs[2]["y"] == "NaN", recs[2]
# Doubles read back to the same bits, -0.0 included.
bits = lambda v: struct.pack("<d", v)
assert bits(recs[2]["time"]) == bits(5e-324), recs[2]
assert bits(recs[2]["x"]) == bits(1e300), recs[2]
assert bits(recs[2]["z"]["double"]) == bits(-0.0), recs[2]
EOF
echo "NaN records: $(cat nan.out)"

# ---- produce fills any schema --------------------------------------------
odd=it5-odd-$id
cat >odd.yaml <<EOF
aggregated_topics:
  - name: it5-agg-odd-$id
    filter:
      source_topics:
        - name: $odd
EOF
python3 - "$SCHEMA_REGISTRY_URL" "$odd" <<'EOF' || fail "could not register the odd schema"
import json, sys, urllib.request
url, topic = sys.argv[1:]
schema = {"type": "record", "name": "odd", "fields": [
    {"name": "private_sndStamp", "type": "double"},
    {"name": "private_seqNum", "type": "int"},
    {"name": "label", "type": "string"},
    {"name": "ok", "type": "boolean"},
    {"name": "n", "type": "int"},
    {"name": "big", "type": "long"},
    {"name": "f", "type": "float"},
    {"name": "sized", "type": {"type": "array", "items": "float"},
     "default": [0.0, 0.0, 0.0]},
    {"name": "unsized", "type": {"type": "array", "items": "long"}},
    {"name": "maybe", "type": ["null", "double"]},
    {"name": "color", "type": {"type": "enum", "name": "C",
                               "symbols": ["R", "G", "B"]}},
    {"name": "tags", "type": {"type": "map", "values": "int"}},
    {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
]}
req = urllib.request.Request(
    f"{url}/subjects/{topic}-value/versions",
    data=json.dumps({"schema": json.dumps(schema)}).encode(),
    headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
urllib.request.urlopen(req, timeout=10).read()
EOF
run odd produce --config-file odd.yaml --max-messages 5 --frequency 100
[ "$rc" -eq 0 ] || fail "produce of every type exited $rc: $(cat odd.err)"
run odd2 produce --config-file odd.yaml --max-messages 1 --array-length 2
[ "$rc" -eq 0 ] || fail "produce --array-length exited $rc: $(cat odd2.err)"
run oddc consume --topic "$odd" --from-beginning --max-messages 6 --timeout 10
[ "$rc" -eq 0 ] || fail "consume $odd exited $rc: $(cat oddc.err)"
python3 - oddc.out <<'EOF' || fail "produce wrote implausible records: $(cat oddc.out)"
import json, sys, time
recs = [json.loads(l) for l in open(sys.argv[1])]
assert len(recs) == 6, recs
# One partition each? Not necessarily: order by sequence number within
# each run (5 records of the first run, then the one of the second).
now = time.time()
seqs = sorted(r["private_seqNum"] for r in recs)
assert seqs == [0, 0, 1, 2, 3, 4], seqs
for r in recs:
    assert now - 60 <= r["private_sndStamp"] <= now + 1, r
    assert abs(r["ts"] / 1000 - r["private_sndStamp"]) < 1, r
    assert len(r["label"]) == 8 and r["label"].isalpha(), r
    assert r["ok"] in (True, False), r
    assert 0 <= r["n"] < 100 and 0 <= r["big"] < 1000000, r
    assert 0 <= r["f"] < 1, r
    assert (len(r["sized"]), len(r["unsized"])) in ((3, 10), (2, 2)), r
    assert all(0 <= v < 1 for v in r["sized"]), r
    assert all(0 <= v < 1000000 for v in r["unsized"]), r
    assert r["maybe"] is not None and 0 <= r["maybe"]["double"] < 1, r
    assert r["color"] in ("R", "G", "B"), r
    assert sorted(r["tags"]) == ["key0", "key1"], r
assert sum(len(r["sized"]) == 2 for r in recs) == 1, recs
EOF
echo "ok: produce filled every type: $(head -c 300 oddc.out)"

# ---- a missing topic ---------------------------------------------------
run missing consume --topic "it5-missing-$id" --timeout 1
[ "$rc" -eq 1 ] || fail "consume of a missing topic exited $rc"
[ "$(wc -l <missing.err)" -eq 1 ] && grep -q "it5-missing-$id" missing.err ||
	fail "consume of a missing topic printed: $(cat missing.err)"
run listed consume --topic "it5-missing-$id" --timeout 1
[ "$rc" -eq 1 ] || fail "looking at a missing topic created it"

# ---- usage errors: exit 2, one line ------------------------------------
expect_usage_error() {
	local err rc
	err=$("$BIN" "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "'$*' printed more than one line: $err"
	echo "ok: $* -> $err"
}
expect_usage_error consume
expect_usage_error consume --topic "$src_a" --max-messages 0
expect_usage_error consume --topic "$src_a" --timeout -1
expect_usage_error consume --topic "$src_a" extra
expect_usage_error produce --frequency fast
expect_usage_error produce --frequency 0
expect_usage_error produce --max-messages 1.5
expect_usage_error produce --array-length 0
expect_usage_error produce --array-length 65537
expect_usage_error init-example --nfields x
expect_usage_error init-example --partitions 0
expect_usage_error init-example --config-file
FREQUENCY=often expect_usage_error produce
NFIELDS=-3 expect_usage_error init-example
expect_usage_error init-example --config-file no-such-config.yaml
for cmd in init-example produce consume; do
	"$BIN" "$cmd" --help | grep -q "^usage: kafkaaggregator $cmd" ||
		fail "$cmd --help has no usage line"
done
pass
