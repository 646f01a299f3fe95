"""The pipeline end to end (SPEC §6-§9): generate-agents, a worker built
from the agents, messages with explicit timestamps, and the aggregated
records decoded with `consume`, checked against CPython's statistics:
exact statistics over several windows, the min_sample_size fallback, two
sources into one aggregated topic with map, nullable fields carrying nulls,
JSON source messages, corrupt messages counted and skipped, group_by_key.
"""
import json
import random
import struct
import subprocess

from katest import (DevStack, Pipeline, avro, check, check_window, consume,
                    expected_stats, fail, free_port, metrics, produce,
                    record_schema, same, topic, wait_for)

T0 = 1_700_000_000_000  # ms, a whole second
rng = random.Random(20261122)


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


names = {k: topic(k) for k in [
    "exact", "exact-out", "fallback", "fallback-out", "temp", "pressure",
    "plant-out", "nullable", "nullable-out", "json", "json-out", "corrupt",
    "corrupt-out", "keyed", "keyed-out"]}

config = f"""
aggregated_topics:
  - name: {names['exact-out']}
    window_aggregation: {{window_size_seconds: 1, min_sample_size: 1,
                          idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {names['exact']}
  - name: {names['fallback-out']}
    window_aggregation: {{window_size_seconds: 1, min_sample_size: 3,
                          idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {names['fallback']}
  - name: {names['plant-out']}
    window_aggregation: {{window_size_seconds: 2, idle_timeout_seconds: 1,
                          operations: [min, median, max, sum]}}
    filter:
      source_topics:
        - name: {names['temp']}
          fields: [value, rate]
          map: {{value: temperature, rate: temperature_rate}}
        - name: {names['pressure']}
          fields: [value, rate]
          map: {{value: pressure, rate: pressure_rate}}
  - name: {names['nullable-out']}
    window_aggregation: {{idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {names['nullable']}
  - name: {names['json-out']}
    window_aggregation: {{idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {names['json']}
          fields: [value]
  - name: {names['corrupt-out']}
    window_aggregation: {{idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {names['corrupt']}
  - name: {names['keyed-out']}
    window_aggregation: {{idle_timeout_seconds: 1, group_by_key: true}}
    filter:
      source_topics:
        - name: {names['keyed']}
"""

stack = DevStack(partitions=1, config=config)

schemas = {
    "exact": record_schema("exact", [("time", "double"), ("value0", "double"),
                                     ("value1", "int"), ("value2", "float")]),
    "fallback": record_schema("fallback", [("time", "double"),
                                           ("x", "double")]),
    "temp": record_schema("temp", [("time", "double"), ("value", "double"),
                                   ("sensor", "string"), ("rate", "float")]),
    "pressure": record_schema("pressure", [("time", "double"),
                                           ("value", "double"),
                                           ("rate", "int")]),
    "nullable": record_schema("nullable", [("time", "double"),
                                           ("a", ["null", "double"]),
                                           ("b", ["long", "null"])]),
    "json": record_schema("json", [("time", "double"), ("value", "double")]),
    "corrupt": record_schema("corrupt", [("time", "double"),
                                         ("v", "double")]),
    "keyed": record_schema("keyed", [("time", "double"), ("v", "double")]),
}
ids = {k: stack.register(f"{names[k]}-value", s) for k, s in schemas.items()}

pipe = Pipeline(stack, config)
web = free_port()
worker = pipe.start_worker(web_port=web)


def msg(k, ts, rec, key=None):
    return (0, ts, key, avro(ids[k], schemas[k], rec))


# --- exact statistics over several windows ---------------------------------
exact_windows = []
batch = []
for w, n in enumerate([5, 8, 1, 12]):
    rows = []
    for i in range(n):
        ts = T0 + w * 1000 + int(i * 1000 / n)
        rec = {"time": ts / 1000, "value0": rng.gauss(10, 3),
               "value1": rng.randint(-1000, 1000),
               "value2": f32(rng.uniform(-1, 1))}
        rows.append(rec)
        batch.append(msg("exact", ts, rec))
    exact_windows.append(rows)
produce(stack, names["exact"], batch)

# --- min_sample_size fallback: 2 messages < 3 give the first value ----------
fb = [[3.5, 1.25], [2.0, 8.0, 4.0]]
produce(stack, names["fallback"], [
    msg("fallback", T0 + w * 1000 + i * 100, {"time": 0, "x": x})
    for w, xs in enumerate(fb) for i, x in enumerate(xs)])

# --- two sources with map -------------------------------------------------------
temp = [(T0 + 100, 20.5, 0.5), (T0 + 900, 21.0, 0.25), (T0 + 1500, 19.75, 1.5)]
pres = [(T0 + 300, 1013.0, 2), (T0 + 1700, 1009.5, -3)]
produce(stack, names["temp"], [
    msg("temp", ts, {"time": 0, "value": v, "sensor": "s1", "rate": r})
    for ts, v, r in temp])
produce(stack, names["pressure"], [
    msg("pressure", ts, {"time": 0, "value": v, "rate": r})
    for ts, v, r in pres])

# --- nullable fields carrying nulls -----------------------------------------
nul = [[(1.5, None), (None, 7), (2.5, 9)], [(None, None), (None, None)]]
produce(stack, names["nullable"], [
    msg("nullable", T0 + w * 1000 + i * 10, {"time": 0, "a": a, "b": b})
    for w, rows in enumerate(nul) for i, (a, b) in enumerate(rows)])

# --- JSON messages ------------------------------------------------------------
json_vals = [1.0, 2.0, 4.5]
produce(stack, names["json"], [
    (0, T0 + i * 10, None,
     ('{"time": %f, "value": %r, "note": "x"}' % (T0 / 1000, v)).encode())
    for i, v in enumerate(json_vals)])

# --- a corrupt message between good ones --------------------------------------
good = [1.0, 3.0, 5.0, 7.0]
corrupt_batch = [msg("corrupt", T0 + 10, {"time": 0, "v": good[0]}),
                 (0, T0 + 20, None, b"\x00\x00\x00"),          # truncated
                 msg("corrupt", T0 + 30, {"time": 0, "v": good[1]}),
                 (0, T0 + 40, None, b"garbage"),               # no format
                 msg("corrupt", T0 + 50, {"time": 0, "v": good[2]}),
                 (0, T0 + 60, None,
                  avro(ids["corrupt"], schemas["corrupt"],
                       {"time": 0, "v": 9.0}) + b"\x01"),      # trailing
                 msg("corrupt", T0 + 70, {"time": 0, "v": good[3]})]
produce(stack, names["corrupt"], corrupt_batch)

# --- group_by_key ---------------------------------------------------------------
keyed = {b"alpha": [1.0, 2.0, 3.0], b"beta": [10.0, 20.0]}
kb = []
for i in range(3):
    for key, vals in keyed.items():
        if i < len(vals):
            kb.append(msg("keyed", T0 + i * 100, {"time": 0, "v": vals[i]},
                          key))
produce(stack, names["keyed"], kb)

# ---- checks ------------------------------------------------------------------
recs = wait_for(stack, names["exact-out"], 4)
for w, rows in enumerate(exact_windows):
    check_window(recs[w], T0 + w * 1000, 1000, len(rows), {
        "value0": [r["value0"] for r in rows],
        "value1": [float(r["value1"]) for r in rows],
        "value2": [r["value2"] for r in rows]}, min_sample_size=1,
        label=f"exact window {w}")

recs = wait_for(stack, names["fallback-out"], 2)
check_window(recs[0], T0, 1000, 2, {"x": fb[0]}, min_sample_size=3,
             label="fallback (2 < 3 messages)")
check(recs[0]["stdev_x"] == 3.5 and recs[0]["q3_x"] == 3.5,
      "fallback: every operation is the first value")
check_window(recs[1], T0 + 1000, 1000, 3, {"x": fb[1]}, min_sample_size=3,
             label="fallback (3 messages)")

recs = wait_for(stack, names["plant-out"], 1)
ops = ["min", "median", "max", "sum"]
check_window(recs[0], T0, 2000, 5, {
    "temperature": [v for _, v, _ in temp],
    "temperature_rate": [r for _, _, r in temp],
    "pressure": [v for _, v, _ in pres],
    "pressure_rate": [float(r) for _, _, r in pres]}, ops=ops,
    label="two sources with map")
check(list(recs[0])[:3] == ["time", "window_size", "count"] and
      list(recs[0])[3:7] == ["min_temperature", "median_temperature",
                             "max_temperature", "sum_temperature"],
      "aggregated record fields in SPEC §8 order")

recs = wait_for(stack, names["nullable-out"], 2)
check_window(recs[0], T0, 1000, 3, {
    "a": [a for a, _ in nul[0]], "b": [b for _, b in nul[0]]},
    label="nullable with nulls")
check_window(recs[1], T0 + 1000, 1000, 2, {"a": [None, None],
                                           "b": [None, None]},
             label="nullable, all null (NaN everywhere)")

recs = wait_for(stack, names["json-out"], 1)
check_window(recs[0], T0, 1000, 3, {"value": json_vals}, label="JSON source")

recs = wait_for(stack, names["corrupt-out"], 1)
check_window(recs[0], T0, 1000, 4, {"v": good},
             label="corrupt messages skipped")
m = metrics(web)
for reason, n in [("truncated", 1), ("format", 1), ("corrupt", 1)]:
    key = ('kafkaaggregator_decode_errors_total{source_topic="%s",reason="%s"}'
           % (names["corrupt"], reason))
    check(m.get(key) == n, f"{key} == {n} (got {m.get(key)})")

recs = wait_for(stack, names["keyed-out"], 2)
by_count = {r["count"]: r for r in recs}
check(sorted(by_count) == [2, 3], "group_by_key: one window per key")
check_window(by_count[3], T0, 1000, 3, {"v": keyed[b"alpha"]},
             label="key alpha")
check_window(by_count[2], T0, 1000, 2, {"v": keyed[b"beta"]},
             label="key beta")
keys = subprocess.run(
    ["kcat", "-b", stack.env["KAFKA_BROKER_URL"], "-C", "-t",
     names["keyed-out"], "-o", "beginning", "-e", "-q", "-f", "%k\n"],
    capture_output=True, text=True, timeout=30).stdout.split()
check(sorted(keys) == ["alpha", "beta"], f"group_by_key: record keys {keys}")

listed = json.loads(subprocess.run(
    [pipe.worker_bin, "agents", "--json"], capture_output=True, text=True,
    timeout=10).stdout)
rows = {(a["name"], a["topic"]) for a in listed}
check((f"@{names['plant-out']}.process_source_topic", names["temp"]) in rows
      and (f"@{names['plant-out']}.process_source_topic",
           names["pressure"]) in rows and len(rows) == 8,
      "agents --json: one row per source topic of each agent")
table = subprocess.run([pipe.worker_bin, "agents"], capture_output=True,
                       text=True, timeout=10).stdout
check(f"│ {names['exact']} " in table and "Process incoming messages for the"
      in table, "agents: the table")

log = pipe.worker_log()
check(" messages aggregated on " in log, "worker logs emitted windows")
print("PASS")
