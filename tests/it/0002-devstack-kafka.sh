#!/usr/bin/env bash
# The dev stack's Kafka (SPEC §13) as kcat sees it: the topics of
# --config-file with --partitions partitions, messages produced and
# consumed back exactly, a consumer group of two splitting a topic's
# partitions, a port in use refused with status 1, and SIGTERM ending it
# with status 0.
. "$(dirname "$0")/lib.sh"

command -v kcat >/dev/null || fail "kcat is not installed (make deps)"

# Unique topic names per run.
U="it2-$$-$RANDOM"
cat >"$TEST_TMP/config.yaml" <<EOF
aggregated_topics:
  - name: $U-agg-a
    filter:
      source_topics:
        - name: $U-src-a
        - name: $U-src-b
  - name: $U-agg-b
    filter:
      source_topics:
        - name: $U-src-b
EOF

start_ms=$(date +%s%3N)
KAFKA_GROUP_ID=$U-group "$BIN" dev-stack --kafka-port 0 --registry-port 0 \
	--env-file "$TEST_TMP/env" --config-file "$TEST_TMP/config.yaml" \
	--partitions 3 --topic "$U-extra:5" \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err" &
DEV=$!
KA_PIDS+=("$DEV")
for _ in $(seq 100); do
	[ -f "$TEST_TMP/env" ] && break
	kill -0 "$DEV" 2>/dev/null || fail "dev-stack died: $(cat "$TEST_TMP/err")"
	sleep 0.05
done
[ -f "$TEST_TMP/env" ] || fail "no env file after 5 s"
echo "ok: ready after $(($(date +%s%3N) - start_ms)) ms"
. "$TEST_TMP/env"
B=$KAFKA_BROKER_URL
[[ $B =~ ^127\.0\.0\.1:[0-9]+$ ]] || fail "KAFKA_BROKER_URL='$B'"
grep -qx "dev-stack: Kafka at $B (1 broker)" "$TEST_TMP/out" ||
	fail "no Kafka line on stdout: $(cat "$TEST_TMP/out")"
grep -qx "dev-stack: Schema Registry at $SCHEMA_REGISTRY_URL" "$TEST_TMP/out" ||
	fail "no registry line on stdout: $(cat "$TEST_TMP/out")"

# Every topic of the config, with 3 partitions; the workers' lease topic
# with one partition per aggregated topic; the --topic one with its 5.
kcat -b "$B" -m 10 -L -J >"$TEST_TMP/meta.json" || fail "kcat -L failed"
python3 - "$TEST_TMP/meta.json" "$U" <<'EOF' || fail "metadata: $(cat "$TEST_TMP/meta.json")"
import json, sys
meta = json.load(open(sys.argv[1]))
u = sys.argv[2]
got = {t["topic"]: len(t["partitions"]) for t in meta["topics"]}
want = {f"{u}-{n}": 3 for n in ("agg-a", "agg-b", "src-a", "src-b")}
want[f"{u}-group.agents"] = 2
want[f"{u}-extra"] = 5
assert got == want, (got, want)
EOF
echo "ok: config topics with 3 partitions, the lease topic, --topic"

# 20 keyed messages in, exactly those 20 out.
T=$U-src-a
for i in $(seq 1 20); do echo "key$i:value-$i"; done >"$TEST_TMP/sent"
kcat -b "$B" -m 10 -P -t "$T" -K: <"$TEST_TMP/sent" || fail "kcat -P failed"
timeout 20 kcat -b "$B" -m 10 -C -t "$T" -o beginning -e -q -f '%k:%s\n' \
	>"$TEST_TMP/got" || fail "kcat -C failed"
[ "$(sort "$TEST_TMP/got")" = "$(sort "$TEST_TMP/sent")" ] ||
	fail "consumed $(wc -l <"$TEST_TMP/got") messages, not the 20 sent: $(cat "$TEST_TMP/got")"
echo "ok: 20 messages produced and consumed back"

# A group of two consumers splits a topic auto-created with 4 partitions.
G=$U-grp
kcat -b "$B" -m 10 -L -t "$G" >/dev/null || fail "kcat -L -t $G failed"
kcat -b "$B" -m 10 -L -J -t "$G" | python3 -c '
import json, sys
t = json.load(sys.stdin)["topics"][0]
sys.exit(0 if len(t["partitions"]) == 4 else 1)' ||
	fail "$G was not auto-created with 4 partitions"
for c in 1 2; do
	kcat -b "$B" -G "$U-group" -X session.timeout.ms=6000 \
		-X auto.offset.reset=earliest -u -f '%p %s\n' "$G" \
		>"$TEST_TMP/c$c.out" 2>"$TEST_TMP/c$c.err" &
	KA_PIDS+=($!)
	eval "C$c=$!"
done

# settled: each consumer's latest event is an assignment, and together they
# hold the 4 partitions once.
settled() {
	python3 - "$TEST_TMP/c1.err" "$TEST_TMP/c2.err" <<'EOF'
import re, sys
sets = []
for path in sys.argv[1:]:
    events = re.findall(r"(assigned|revoked): ([^\n]*)", open(path).read())
    if not events or events[-1][0] != "assigned":
        sys.exit(1)
    sets.append(set(re.findall(r"\[(\d+)\]", events[-1][1])))
ok = sets[0] and sets[1] and not sets[0] & sets[1] and \
    sets[0] | sets[1] == {"0", "1", "2", "3"}
sys.exit(0 if ok else 1)
EOF
}
for _ in $(seq 300); do
	settled && break
	sleep 0.1
done
settled || fail "the group did not split the partitions in 30 s: $(cat "$TEST_TMP/c1.err" "$TEST_TMP/c2.err")"
echo "ok: the group split the 4 partitions"
for p in 0 1 2 3; do
	for k in 1 2 3 4 5; do echo "g$p-$k"; done |
		kcat -b "$B" -m 10 -P -t "$G" -p "$p" || fail "kcat -P -p $p failed"
done
for _ in $(seq 200); do
	[ "$(cat "$TEST_TMP/c1.out" "$TEST_TMP/c2.out" | wc -l)" -ge 20 ] && break
	sleep 0.1
done
sleep 0.5 # a duplicate would arrive now
kill -TERM "$C1" "$C2"
python3 - "$TEST_TMP/c1.out" "$TEST_TMP/c2.out" <<'EOF' || fail "group consumption: $(cat "$TEST_TMP"/c?.out)"
import sys
lines = [open(p).read().split("\n")[:-1] for p in sys.argv[1:]]
for i, got in enumerate(lines):
    assert got, f"consumer {i + 1} got nothing"
    print(f"consumer {i + 1}: {len(got)} messages from partitions",
          sorted({l.split()[0] for l in got}))
values = sorted(l.split()[1] for got in lines for l in got)
want = sorted(f"g{p}-{k}" for p in range(4) for k in range(1, 6))
assert values == want, values
# No partition was read by both.
parts = [{l.split()[0] for l in got} for got in lines]
assert not parts[0] & parts[1], parts
EOF
echo "ok: the group consumed the 20 messages exactly once"

# A port in use: status 1 and one line, for Kafka and for the registry.
# expect_port_in_use PORTS-REGEX ARGS...
expect_port_in_use() {
	local port=$1 rc
	shift
	"$BIN" dev-stack "$@" >"$TEST_TMP/o2" 2>"$TEST_TMP/e2" && rc=0 || rc=$?
	[ "$rc" -eq 1 ] || fail "dev-stack $* exited $rc, expected 1: $(cat "$TEST_TMP/e2")"
	[ "$(wc -l <"$TEST_TMP/e2")" -eq 1 ] || fail "dev-stack $*: $(cat "$TEST_TMP/e2")"
	grep -qxE "kafkaaggregator: dev-stack: port ($port) is already in use" \
		"$TEST_TMP/e2" || fail "dev-stack $*: $(cat "$TEST_TMP/e2")"
	echo "ok: $(cat "$TEST_TMP/e2")"
}
KPORT=${B##*:}
RPORT=${SCHEMA_REGISTRY_URL##*:}
expect_port_in_use "$KPORT" --kafka-port "$KPORT" --registry-port 0
expect_port_in_use "$RPORT" --kafka-port 0 --registry-port "$RPORT"
# Three brokers from KPORT - 1: the second one is taken (unless something
# else holds the first).
if [ "$KPORT" -gt 1024 ]; then
	expect_port_in_use "$((KPORT - 1))|$KPORT" --brokers 3 \
		--kafka-port $((KPORT - 1)) --registry-port 0
fi
kill -0 "$DEV" || fail "the first dev-stack died"
kcat -b "$B" -m 10 -L >/dev/null || fail "the first dev-stack stopped serving"

# Bad values: status 2, one line.
for args in "--brokers 0" "--partitions x" "--kafka-port 70000"; do
	# shellcheck disable=SC2086
	"$BIN" dev-stack $args 2>"$TEST_TMP/e3" && rc=0 || rc=$?
	[ "$rc" -eq 2 ] && [ "$(wc -l <"$TEST_TMP/e3")" -eq 1 ] ||
		fail "dev-stack $args: exit $rc: $(cat "$TEST_TMP/e3")"
done

# SIGTERM: exit 0 within 5 s, env file removed.
kill -TERM "$DEV"
for _ in $(seq 50); do
	kill -0 "$DEV" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$DEV" 2>/dev/null && fail "dev-stack still running 5 s after SIGTERM"
wait "$DEV" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "dev-stack exited $rc after SIGTERM: $(cat "$TEST_TMP/err")"
[ ! -e "$TEST_TMP/env" ] || fail "env file left behind"
echo "ok: SIGTERM -> exit 0"
pass
