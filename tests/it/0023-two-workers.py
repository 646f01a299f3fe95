"""Scaling out (SPEC §11): 4 partitions read by 2 workers of one consumer
group. Every produced message is counted exactly once across the
aggregated records of both workers."""
import random
import time

from katest import (DevStack, Pipeline, avro, check, consume, fail,
                    one_source_config, produce, record_schema, topic)

T0 = 1_700_000_000_000
src, out = topic("scale"), topic("scale-out")
config = one_source_config(out, src)
stack = DevStack(partitions=4, config=config)
schema = record_schema("scale", [("time", "double"), ("v", "double")])
sid = stack.register(f"{src}-value", schema)
pipe = Pipeline(stack, config)
pipe.start_worker("w1")
pipe.start_worker("w2")

# Both must own partitions before anything is produced.
deadline = time.time() + 30
while time.time() < deadline:
    logs = [pipe.worker_log(n) for n in ("w1", "w2")]
    owned = [l.rsplit("assigned ", 1)[-1].split()[0] if "assigned " in l
             else "0" for l in logs]
    if all(o != "0" for o in owned) and sum(map(int, owned)) == 4:
        break
    time.sleep(0.5)
else:
    fail(f"the two workers did not share the 4 partitions: {owned}")
check(True, f"partitions shared between the workers: {owned}")

rng = random.Random(7)
n = 400
values = [rng.uniform(0, 100) for _ in range(n)]
produce(stack, src, [(i % 4, T0 + i * 10, None,
                      avro(sid, schema, {"time": 0, "v": v}))
                     for i, v in enumerate(values)])

deadline = time.time() + 40
total, recs = 0, []
while time.time() < deadline:
    recs = consume(stack, out, 1000, timeout=3)
    total = sum(r["count"] for r in recs)
    if total >= n:
        break
check(total == n, f"{total} of {n} messages counted across both workers")
check(abs(sum(r["sum_v"] if "sum_v" in r else r["mean_v"] * r["count"]
              for r in recs) - sum(values)) < 1e-6 * sum(values),
      "the values add up")
per_window = {}
for r in recs:
    per_window.setdefault(r["time"], []).append(r["count"])
check(all(len(c) <= 2 for c in per_window.values()),
      "each window comes at most once from each worker")
for name in ("w1", "w2"):
    check(" messages aggregated on " in pipe.worker_log(name),
          f"{name} emitted windows")
print("PASS")
