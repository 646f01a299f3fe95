"""0008: consume's options against the dev stack, with data written by kcat
and by produce-raw (exact partitions, timestamps and keys), and kcat -J as
the second opinion on partitions, offsets, timestamps and keys:
--print-key and --print-metadata wrap each line in one JSON object;
--partition and --offset (beginning, end, an offset, -N from the end)
choose what is read; -e exits at the end of every partition, empty ones
included, without waiting for --timeout; numbers print in their shortest
text; librdkafka's own log lines come in our log format; bad options exit 2
with one line."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import katest  # noqa: E402
from katest import BIN, check, fail  # noqa: E402

if not shutil.which("kcat"):
    print("kcat is not installed")
    sys.exit(77)

stack = katest.DevStack()
env = stack.environ()
brokers = env["KAFKA_BROKER_URL"].removeprefix("kafka://")
topic = katest.topic("it13")



def kcat_produce(partition, lines, extra=()):
    p = subprocess.run(["kcat", "-P", "-b", brokers, "-t", topic, "-p",
                        str(partition), "-K", "\t", *extra],
                       input="".join(f"{k}\t{v}\n" for k, v in lines),
                       text=True, capture_output=True, timeout=60)
    if p.returncode:
        fail(f"kcat -P failed: {p.stderr}")


def f32(x):
    """x as a float holds it, as a double."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def consume(*args, timeout=30):
    """consume's lines (parsed), its stderr, status and seconds taken."""
    start = time.time()
    p = subprocess.run([BIN, "consume", "--topic", topic,
                        "--timeout", str(timeout), *args],
                       capture_output=True, text=True, env=env,
                       timeout=timeout + 30)
    took = time.time() - start
    lines = p.stdout.splitlines()
    try:
        recs = [json.loads(line) for line in lines]
    except ValueError as e:
        fail(f"consume {' '.join(args)} printed a line that is not JSON "
             f"({e}): {p.stdout}")
    return recs, lines, p.stderr, p.returncode, took


# ---- the data -------------------------------------------------------------

# The dev stack auto-creates a topic with 4 partitions on first use.
kcat_produce(0, [("k0", '{"i": 0}'), ("k1", '{"i": 1}'),
                 ("k2", '{"i": 2}'), ("k3", '{"i": 3}')])
kcat_produce(1, [("a", '{"i": 10}'), ("b", '{"i": 11}')])
# A null value (kcat -Z sends an empty one as null).
kcat_produce(1, [("gone", "")], ["-Z"])

schema = katest.record_schema("it13", [("x", "double"), ("third", "double"),
                                       ("two", "double"), ("f", "float")])
value_id = stack.register(f"{topic}-value", schema)
key_schema = "string"
key_id = stack.register(f"{topic}-key", key_schema)
avro_key = b"\x00" + struct.pack(">i", key_id) + katest._encode("string",
                                                                "station-7")
avro_value = katest.avro(value_id, schema, {"x": 0.1, "third": 1 / 3,
                                            "two": 2.0, "f": 0.1})
ts0 = 1700000000123
katest.produce(stack, topic, [
    (1, ts0, avro_key, avro_value),
    (1, ts0 + 1, b"\xff\xfebin", b'{"raw": true}'),
    (1, ts0 + 2, b'{"id": 5}', b"[1, 2]"),
])
# Partition 1: a, b, gone (null value), then offsets 3, 4, 5 from above.

# kcat's view of everything, the second opinion (no payloads: binary).
p = subprocess.run(["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q",
                    "-f", "%p %o %T %K\\n"], capture_output=True, text=True,
                   timeout=60)
if p.returncode:
    fail(f"kcat -C failed: {p.stderr}")
theirs = sorted(tuple(int(x) for x in line.split())
                for line in p.stdout.splitlines())
check(len(theirs) == 10, f"kcat reads the 10 messages back ({len(theirs)})")
nparts = len(json.loads(subprocess.run(
    ["kcat", "-L", "-b", brokers, "-t", topic, "-J"], capture_output=True,
    text=True, timeout=60).stdout)["topics"][0]["partitions"])
check(nparts > 2, f"the topic has partitions left empty ({nparts})")

# ---- -e with keys and metadata ---------------------------------------------

recs, lines, err, rc, took = consume("--from-beginning", "-e", "--print-key",
                                     "--print-metadata")
check(rc == 0, f"consume -e exits 0 ({rc}: {err})")
check(took < 10, f"-e exits at the end, not after --timeout 30 ({took:.1f} s)")
check(len(recs) == 10, f"-e prints every message once ({len(recs)})")
for line, rec in zip(lines, recs):
    if list(rec) != ["partition", "offset", "timestamp", "key", "value"]:
        fail(f"wrapped line has keys {list(rec)}: {line}")
ours = sorted(recs, key=lambda r: (r["partition"], r["offset"]))
for o, t in zip(ours, theirs):
    if (o["partition"], o["offset"], o["timestamp"]) != t[:3]:
        fail(f"metadata {o} differs from kcat's {t}")
check(True, "partition, offset and timestamp are kcat's")
by_pos = {(r["partition"], r["offset"]): r for r in recs}
for off, i in enumerate(range(4)):
    r = by_pos[(0, off)]
    if r["key"] != f"k{i}" or r["value"] != {"i": i}:
        fail(f"partition 0 offset {off}: {r}")
check(by_pos[(1, 0)]["key"] == "a" and by_pos[(1, 1)]["value"] == {"i": 11},
      "kcat's keys and JSON values as they were written")
check(by_pos[(1, 2)]["key"] == "gone" and by_pos[(1, 2)]["value"] is None,
      "a null value prints null")
r = by_pos[(1, 3)]
check(r["key"] == "station-7" and r["timestamp"] == ts0,
      f"a Confluent Avro key is decoded, the timestamp is the one set: {r}")
v = r["value"]
check(list(v) == ["x", "third", "two", "f"] and v["x"] == 0.1 and
      v["third"] == 1 / 3 and v["two"] == 2.0 and v["f"] == f32(0.1),
      f"the Avro value reads back to the values written, a float as its "
      f"double: {v}")
text = lines[recs.index(r)]
check('"x": 0.1, "third": 0.3333333333333333, "two": 2.0, '
      '"f": 0.10000000149011612}' in text,
      f"numbers print in their shortest text: {text}")
r = by_pos[(1, 4)]
check(r["key"] == "\ufffd\ufffdbin" and r["value"] == {"raw": True},
      f"a binary key is a string with U+FFFD for bytes that are not UTF-8: "
      f"{lines[recs.index(r)]}")
r = by_pos[(1, 5)]
check(r["key"] == {"id": 5} and r["value"] == [1, 2],
      f"a JSON key prints as JSON: {r}")

# ---- only what was asked for ------------------------------------------------

recs, lines, err, rc, _ = consume("--from-beginning", "-e", "--print-key",
                                  "--partition", "0")
check(rc == 0 and recs == [{"key": f"k{i}", "value": {"i": i}}
                           for i in range(4)],
      f"--print-key alone: key and value, in order: {lines}")
recs, lines, err, rc, _ = consume("--offset", "beginning", "-e",
                                  "--print-metadata", "--partition", "0")
check(rc == 0 and [list(r) for r in recs] ==
      [["partition", "offset", "timestamp", "value"]] * 4,
      f"--print-metadata alone: no key: {lines}")
recs, lines, err, rc, _ = consume("--from-beginning", "-e", "--partition",
                                  "0")
check(rc == 0 and recs == [{"i": i} for i in range(4)],
      f"neither: the values as they are: {lines}")

# ---- where to start ---------------------------------------------------------


def positions(*args):
    recs, lines, err, rc, took = consume("-e", "--print-metadata", *args)
    if rc != 0:
        fail(f"consume {' '.join(args)} exited {rc}: {err}")
    if took > 10:
        fail(f"consume -e {' '.join(args)} took {took:.1f} s")
    return sorted((r["partition"], r["offset"]) for r in recs)


check(positions("--partition", "1", "--offset", "2") ==
      [(1, 2), (1, 3), (1, 4), (1, 5)], "--offset 2 starts at offset 2")
check(positions("--offset", "-2") == [(0, 2), (0, 3), (1, 4), (1, 5)],
      "--offset -2: the last two of every partition")
check(positions("--offset", "-100", "--partition", "1") ==
      [(1, o) for o in range(6)], "--offset -100: as many as there are")
check(positions("--offset", "1000") == [],
      "--offset past the end: nothing, and -e still exits")
check(positions("--offset", "end") == [], "--offset end -e: nothing")
check(positions() == [], "the default start is the end")
check(positions("--from-beginning") == positions("--offset", "0"),
      "--from-beginning is --offset 0")

# Without -e librdkafka's logical offsets: -N of any size.
recs, lines, err, rc, _ = consume("--offset", "-9223372036854775807",
                                  "--partition", "1", "--print-metadata",
                                  "--max-messages", "6", timeout=10)
check(rc == 0 and [r["offset"] for r in recs] == list(range(6)),
      f"--offset -9223372036854775807 without -e: from the beginning: "
      f"{[r['offset'] for r in recs]} {err}")
recs, lines, err, rc, _ = consume("--offset", "-1", "--partition", "0",
                                  "--max-messages", "1", timeout=10)
check(rc == 0 and recs == [{"i": 3}], f"--offset -1 without -e: {lines}")

# Without -e, --timeout ends it and --max-messages counts.
recs, lines, err, rc, took = consume("--offset", "3", "--partition", "1",
                                     "--max-messages", "2", timeout=10)
check(rc == 0 and len(recs) == 2 and recs[0]["third"] == 1 / 3 and
      recs[1] == {"raw": True}, f"--offset 3 --max-messages 2: {lines}")

# ---- errors -----------------------------------------------------------------

recs, lines, err, rc, _ = consume("--partition", "99", "-e")
check(rc == 1 and len(err.splitlines()) == 1 and
      re.search(rf"topic '{topic}' has no partition 99", err),
      f"a partition that does not exist: exit 1, one line: {err.strip()}")
for args in (["--offset", "soon"], ["--offset", "1.5"],
             ["--partition", "-1"], ["--partition", "x"],
             ["--from-beginning", "--offset", "3"], ["--print-key=yes"]):
    recs, lines, err, rc, _ = consume(*args)
    if rc != 2 or len(err.splitlines()) != 1:
        fail(f"consume {' '.join(args)}: exit {rc}, stderr {err!r}")
    print(f"ok: {' '.join(args)} -> {err.strip()}")

# ---- librdkafka's lines in our log format -----------------------------------

p = subprocess.run(["timeout", "-s", "KILL", "3", BIN, "consume", "--topic",
                    topic], capture_output=True, text=True,
                   env=dict(env, KAFKA_BROKER_URL="127.0.0.1:1"))
log = p.stderr.splitlines()
check(any(re.match(r"^\[[-0-9 :,]+\] \[\d+\] \[ERROR\] kafka: FAIL: ", x)
          for x in log) and not any(x.startswith("%") for x in log),
      f"consume's librdkafka errors are in the log format: {log[:1]}")
print("PASS: 0008-consume-options")
