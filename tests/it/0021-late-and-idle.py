"""Late messages and the idle flush (SPEC §6): a message whose window has
closed is counted in kafkaaggregator_late_messages_total and changes no
output; the last window of a quiet topic is emitted by the idle flush
within idle_timeout_seconds."""
import time

from katest import (DevStack, Pipeline, avro, check, check_window, consume,
                    free_port, metrics, one_source_config, produce,
                    record_schema, topic, wait_for)

T0 = 1_700_000_000_000
src, out = topic("late"), topic("late-out")
config = one_source_config(out, src)
stack = DevStack(partitions=1, config=config)
schema = record_schema("late", [("time", "double"), ("v", "double")])
sid = stack.register(f"{src}-value", schema)
pipe = Pipeline(stack, config)
web = free_port()
pipe.start_worker(web_port=web)


def msg(ts, v):
    return (0, ts, None, avro(sid, schema, {"time": 0, "v": v}))


produce(stack, src, [msg(T0 + 100, 1.0), msg(T0 + 200, 2.0),
                     msg(T0 + 1100, 3.0), msg(T0 + 2100, 4.0)])
recs = wait_for(stack, out, 3)
check_window(recs[0], T0, 1000, 2, {"v": [1.0, 2.0]}, label="window 0")
check_window(recs[2], T0 + 2000, 1000, 1, {"v": [4.0]},
             label="window 2, closed by the idle flush")

key = f'kafkaaggregator_late_messages_total{{aggregated_topic="{out}"}}'
check(metrics(web).get(key) == 0, "no late message yet")
produce(stack, src, [msg(T0 + 500, 100.0)])
deadline = time.time() + 10
while metrics(web).get(key) != 1 and time.time() < deadline:
    time.sleep(0.2)
check(metrics(web).get(key) == 1, "the late message is counted")

# The idle flush: a window alone after a quiet period goes out within
# idle_timeout_seconds (1 s) plus the worker's tick.
start = time.time()
produce(stack, src, [msg(T0 + 10_100, 5.0), msg(T0 + 10_300, 7.0)])
recs = wait_for(stack, out, 4)
elapsed = time.time() - start
check_window(recs[3], T0 + 10_000, 1000, 2, {"v": [5.0, 7.0]},
             label="idle-flushed window")
check(elapsed < 3.5, f"idle flush within 1 s + slack (took {elapsed:.2f} s)")
check(len(consume(stack, out, 10, timeout=3)) == 4,
      "the late message produced no window")
print("PASS")
