"""Arrays and topic patterns end to end (SPEC §4, §5): real SAL telemetry
schemas (the sample pinned in tests/golden/sal-topics-by-pattern: arrays
of every numeric item type, up to MTCamera.focal_plane_Segment's 3024
doubles and WeatherForecast.hourlyTrend's 29 arrays of 336) registered in
the dev stack, one pattern entry generating an agent per matching topic,
`produce` writing plausible records to them, and every element of every
aggregated array read back with `consume` and compared with CPython's
statistics over the source messages, which `consume` reads back too.

Then arrays a producer need not keep to one length: hand-made messages
with arrays of differing lengths, null and empty arrays, NaN elements and
a window below min_sample_size, checked element by element the same way.
"""
import glob
import itertools
import json
import math
import os
import time

from katest import (BIN, ROOT, DevStack, Pipeline, avro, check, consume,
                    expected_stats, fail, produce, run, same, topic)

OPS = ["min", "q1", "mean", "median", "stdev", "q3", "max", "sum"]
MIN_SAMPLE = 3
SAL = os.path.join(ROOT, "tests", "golden", "sal-topics-by-pattern",
                   "schemas")
T0 = 1_700_000_000_000  # ms, a whole second

mixed = topic("arrays-mixed")
mixed_out = topic("arrays-mixed-agg")
window = (f"{{window_size_seconds: 1, min_sample_size: {MIN_SAMPLE}, "
          f"operations: [{', '.join(OPS)}]")
pattern_entry = f"""
  - name: "{{source_topic_name}}-agg"
    window_aggregation: {window}, time_field: private_sndStamp}}
    filter:
      source_topics:
        - regex: "lsst\\\\.sal\\\\..*"
          exclude: [".*\\\\.ATDome\\\\..*", "lsst\\\\.sal\\\\.Test\\\\.scalars"]
"""
config = f"""
aggregated_topics:{pattern_entry}
  - name: {mixed_out}
    window_aggregation: {window}, idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {mixed}
"""
# produce drives the SAL topics only.
produce_config = f"aggregated_topics:{pattern_entry}"

stack = DevStack(partitions=2, config=config)
schemas = {}
for path in sorted(glob.glob(os.path.join(SAL, "lsst.sal.*.avsc"))):
    name = os.path.basename(path)[:-len(".avsc")]
    with open(path) as f:
        schemas[name] = json.load(f)
    stack.register(f"{name}-value", schemas[name])
sal = sorted(n for n in schemas
             if ".ATDome." not in n and n != "lsst.sal.Test.scalars")
check(len(sal) == 5, f"{len(sal)} SAL topics to aggregate: {sal}")
mixed_schema = {"type": "record", "name": "mixed", "fields": [
    {"name": "time", "type": "double"},
    {"name": "v", "type": {"type": "array", "items": "double"}},
    {"name": "label", "type": "string"},
    {"name": "w", "type": ["null", {"type": "array", "items": "int"}]}]}
mixed_id = stack.register(f"{mixed}-value", mixed_schema)

pipe = Pipeline(stack, config)
for name in sal:
    if f"  {name} -> {name}-agg" not in pipe.generated:
        fail(f"generate-agents did not report {name}:\n{pipe.generated}")
# Of the 7 SAL subjects and the hand-made topic's.
check("matched 5 of 8 topics (2 excluded, 0 aggregated topics of this "
      "config skipped)" in pipe.generated, "generate-agents reported the "
      "pattern's matches")

produce_path = os.path.join(pipe.dir, "produce.yaml")
with open(produce_path, "w") as f:
    f.write(produce_config)
out = run([BIN, "produce", "--config-file", produce_path, "--frequency",
           "10", "--max-messages", "25"], env=stack.environ(), timeout=60)
check("(125 messages delivered)" in out, f"produce: {out.strip()}")


def records_of(name, count, timeout=60):
    """The first count records of name, decoded by `consume`. The topics
    of a pattern's agents are created when the worker first writes to
    them: until then `consume` finds no topic, and is asked again."""
    deadline = time.time() + timeout
    got = []
    while time.time() < deadline:
        got = consume(stack, name, count, timeout=5)
        if len(got) >= count:
            return got
        time.sleep(0.5)
    fail(f"{name}: {len(got)} of {count} records within {timeout} s")


def numeric(schema):
    """{field: is_array} of the fields the agent aggregates by default."""
    nums = {"int", "long", "float", "double"}
    out = {}
    for f in schema["fields"]:
        t = f["type"]
        if isinstance(t, list):
            t = next((b for b in t if b != "null"), None)
        if isinstance(t, dict) and t.get("type") == "array":
            if t["items"] in nums:
                out[f["name"]] = True
        elif t in nums and f["name"] not in ("time", "window_size",
                                             "count"):
            out[f["name"]] = False
    return out


def windows_of(messages, when):
    """{window start ms: [messages]} in arrival (offset) order."""
    out = {}
    for m in messages:
        start = math.floor(when(m) * 1000) // 1000 * 1000
        out.setdefault(start, []).append(m)
    return out


def array_errors(rec, name, msgs, label):
    """Mismatches of every element of every <op>_<name> of rec against
    CPython over element i of the window's messages that have one; and
    the number of elements."""
    count = len(msgs)
    arrays = [m[name] or [] for m in msgs]  # null: no elements
    longest = max((len(a) for a in arrays), default=0)
    for op in OPS:
        got = rec[f"{op}_{name}"]
        if len(got) != longest:
            return [f"{label} {op}_{name}: {len(got)} elements, the longest "
                    f"array has {longest}"], longest
    for i in range(longest):
        col = [a[i] for a in arrays if len(a) > i]
        exp = expected_stats(col, OPS, MIN_SAMPLE, count)
        for op in OPS:
            if not same(rec[f"{op}_{name}"][i], exp[op]):
                return [f"{label} {op}_{name}[{i}]: got "
                        f"{rec[f'{op}_{name}'][i]!r}, expected {exp[op]!r} "
                        f"from {col}"], longest
    return [], longest


def record_errors(rec, msgs, fields, label):
    """Mismatches of rec against its window's messages in this order."""
    elements = 0
    for name, is_array in fields.items():
        if is_array:
            errors, n = array_errors(rec, name, msgs, label)
            elements += n
            if errors:
                return errors, elements
            continue
        exp = expected_stats([m[name] for m in msgs], OPS, MIN_SAMPLE,
                             len(msgs))
        for op in OPS:
            if not same(rec[f"{op}_{name}"], exp[op]):
                return [f"{label} {op}_{name}: got {rec[f'{op}_{name}']!r}, "
                        f"expected {exp[op]!r}"], elements
    return [], elements


def check_record(rec, start, msgs, fields, label):
    check(same(rec["time"], (start + 500) / 1000)
          and rec["window_size"] == 1.0 and rec["count"] == len(msgs),
          f"{label}: time, window_size, count {rec['count']}")
    # Below min_sample_size a window yields its first values, and messages
    # of one window on different partitions arrive in any interleaving:
    # some order of them must explain the record (at or above, the
    # statistics do not depend on the order).
    orders = (itertools.permutations(msgs) if len(msgs) < MIN_SAMPLE
              else [msgs])
    first = None
    for order in orders:
        errors, elements = record_errors(rec, list(order), fields, label)
        if not errors:
            break
        first = first or errors
    else:
        fail(first[0])
    print(f"ok: {label}: {len(fields)} fields, {elements} array elements "
          f"x {len(OPS)} operations as CPython computes", flush=True)


# --- the hand-made topic: its messages go in before the worker starts -----
def mixed_msg(ts, v, w):
    rec = {"time": ts / 1000, "v": v, "label": "x", "w": w}
    return rec, (0, ts, None, avro(mixed_id, mixed_schema, rec))


nan = float("nan")
mixed_plan = [
    # Five messages of differing lengths, NaN, null and empty arrays.
    (T0 + 10, [1.5, -2.0, 3.25], [1, 2]),
    (T0 + 20, [4.0, 5.0, nan, 6.0, 7.5], None),
    (T0 + 30, [], [3]),
    (T0 + 40, [0.5, 9.0], []),
    (T0 + 50, [2.0, 2.0, 2.0, 2.0, -1e300], [4, 5, 6]),
    # Two messages, below min_sample_size: first values, element-wise.
    (T0 + 1100, [nan, 2.0], None),
    (T0 + 1200, [7.0, 8.0, 9.0], [10]),
    # One message with nothing in its arrays: empty statistics.
    (T0 + 2500, [], None),
]
mixed_recs = []
batch = []
for ts, v, w in mixed_plan:
    rec, m = mixed_msg(ts, v, w)
    mixed_recs.append((ts, rec))
    batch.append(m)
produce(stack, mixed, batch)

worker = pipe.start_worker()

# --- SAL: what produce wrote, read back from the source topics ------------
for name in sal:
    source = records_of(name, 25)
    fields = numeric(schemas[name])
    wins = windows_of(source, lambda m: m["private_sndStamp"])
    records = records_of(f"{name}-agg", len(wins))
    by_time = {r["time"]: r for r in records}
    check(len(by_time) == len(wins),
          f"{name}: {len(records)} aggregated records for {len(wins)} "
          f"windows")
    for start, msgs in sorted(wins.items()):
        rec = by_time.get((start + 500) / 1000)
        if rec is None:
            fail(f"{name}: no record for window {start}: "
                 f"{sorted(by_time)}")
        check_record(rec, start, msgs, fields,
                     f"{name} window {start} ({len(msgs)} messages)")

# --- the hand-made arrays ----------------------------------------------------
records = records_of(mixed_out, 3)
by_time = {r["time"]: r for r in records}
wins = windows_of([r for _, r in mixed_recs], lambda m: m["time"])
check(sorted(by_time) == sorted((s + 500) / 1000 for s in wins),
      f"{mixed_out}: one record per window: {sorted(by_time)}")
for start, msgs in sorted(wins.items()):
    rec = by_time[(start + 500) / 1000]
    check_record(rec, start, msgs, {"v": True, "w": True},
                 f"{mixed_out} window {start} ({len(msgs)} messages)")
check(len(by_time[(T0 + 500) / 1000]["max_v"]) == 5
      and len(by_time[(T0 + 500) / 1000]["max_w"]) == 3
      and by_time[(T0 + 2500) / 1000]["mean_v"] == [],
      "arrays as long as the window's longest, empty for no elements")

worker.terminate()
check(worker.wait(timeout=15) == 0, "worker stopped cleanly")
log = pipe.worker_log()
check("decode error" not in log.lower() and "skipped the message" not in log,
      "no message was skipped")
print("PASS: 0012-sal-arrays")
