"""Event times a window must not take (SPEC §6, issue 10): a record stamped
in year 9999, or more than max_future_seconds ahead of the worker's clock,
or with a time_field that is NaN, infinite, +-1e308 or at or before 1970,
is skipped and counted with reason "time"; it moves no watermark, so every
normal window around it is emitted, exact, before and after a restart."""
import math
import time

from katest import (DevStack, Pipeline, avro, check, check_window, consume,
                    free_port, metrics, produce, record_schema, stop, topic,
                    wait_for)

T0 = 1_700_000_000_000  # ms, a whole second
YEAR_9999_MS = 253_402_214_400_000  # 9999-12-31T00:00:00Z

kts, kts_out = topic("kafka-times"), topic("kafka-times-out")
pts, pts_out = topic("payload-times"), topic("payload-times-out")
config = f"""
aggregated_topics:
  - name: {kts_out}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 1}}
    filter:
      source_topics:
        - name: {kts}
  - name: {pts_out}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 1,
                          time_field: time, max_future_seconds: 60}}
    filter:
      source_topics:
        - name: {pts}
"""
stack = DevStack(partitions=1, config=config)
schema = record_schema("times", [("time", "double"), ("v", "double")])
sid_k = stack.register(f"{kts}-value", schema)
sid_p = stack.register(f"{pts}-value", schema)
pipe = Pipeline(stack, config)
web = free_port()
worker = pipe.start_worker(web_port=web)


def kafka_msg(ts, v):
    return (0, ts, None, avro(sid_k, schema, {"time": 0.0, "v": v}))


def payload_msg(ts, v):
    # The Kafka timestamp is a normal one: only the payload's time is bad.
    return (0, T0, None, avro(sid_p, schema, {"time": ts / 1000.0, "v": v}))


def payload_bad(seconds):
    return (0, T0, None, avro(sid_p, schema, {"time": seconds, "v": 1e9}))


def window_values(w):
    """Three values in window w, at 100, 400 and 700 ms into it."""
    return [(T0 + w * 1000 + d, w * 10.0 + d / 100.0) for d in (100, 400, 700)]


def wall_ms():
    return int(time.time() * 1000)


# Windows 0..5, with records of impossible times between them.
kafka_batch, payload_batch = [], []
for w in range(6):
    kafka_batch += [kafka_msg(ts, v) for ts, v in window_values(w)]
    payload_batch += [payload_msg(ts, v) for ts, v in window_values(w)]
    if w == 1:
        kafka_batch.append(kafka_msg(YEAR_9999_MS, 1e9))
        payload_batch += [payload_bad(YEAR_9999_MS / 1000.0),
                          payload_bad(math.nan), payload_bad(math.inf)]
    if w == 3:
        # An hour ahead of the clock: past any plausible skew.
        kafka_batch.append(kafka_msg(wall_ms() + 3_600_000, 1e9))
        payload_batch += [payload_bad(-math.inf), payload_bad(1e308),
                          payload_bad(-1e308), payload_bad(0.0),
                          payload_bad(-5.0),
                          payload_bad((wall_ms() + 600_000) / 1000.0)]
produce(stack, kts, kafka_batch)
produce(stack, pts, payload_batch)


def counter(name, source, reason=None):
    """The sum of the series of name for source (and reason)."""
    total = 0.0
    for key, value in metrics(web).items():
        if key.startswith(name + "{") and f'source_topic="{source}"' in key \
                and (reason is None or f'reason="{reason}"' in key):
            total += value
    return total


def check_windows(records, windows, label):
    by_time = {}
    for r in records:
        if r["time"] in by_time:
            check(by_time[r["time"]] == r, f"{label}: a repeat is identical")
        by_time[r["time"]] = r
    check(len(by_time) == len(windows),
          f"{label}: {len(by_time)} windows == {len(windows)}")
    for w in windows:
        mid = (T0 + w * 1000 + 500) / 1000.0
        if mid not in by_time:
            check(False, f"{label}: window {w} emitted")
        check_window(by_time[mid], T0 + w * 1000, 1000, 3,
                     {"v": [v for _, v in window_values(w)]},
                     label=f"{label} window {w}", quiet=True)
    check(True, f"{label}: windows {windows[0]}..{windows[-1]} complete and "
          "exact as CPython computes")


check_windows(wait_for(stack, kts_out, 6), range(6), "Kafka timestamps")
check_windows(wait_for(stack, pts_out, 6), range(6), "payload times")
errors = "kafkaaggregator_decode_errors_total"
late = "kafkaaggregator_late_messages_total"
check(counter(errors, kts, "time") == 2,
      "Kafka timestamps: year 9999 and an hour ahead counted as time")
check(counter(errors, pts, "time") == 9,
      "payload times: NaN, +-Inf, +-1e308, 0, -5, 9999 and 10 minutes "
      "ahead (max_future_seconds 60) counted as time")
check(counter(errors, kts) == 2 and counter(errors, pts) == 9,
      "no other decode error (nothing counted as corrupt)")
time.sleep(1.5)
check(sum(v for k, v in metrics(web).items() if k.startswith(late + "{"))
      == 0, "no message was late")
check("max_future_seconds ahead" in pipe.worker_log(),
      "the skip is logged with its cause")

# A restart resumes from the committed progress: its closed-through
# watermark is that of window 5, not year 9999.
rc, _ = stop(worker)
check(rc == 0, "SIGTERM: clean exit")
produce(stack, kts, [kafka_msg(ts, v) for w in (6, 7)
                     for ts, v in window_values(w)])
produce(stack, pts, [payload_msg(ts, v) for w in (6, 7)
                     for ts, v in window_values(w)])
worker = pipe.start_worker(web_port=web)
check_windows(wait_for(stack, kts_out, 8), range(8),
              "Kafka timestamps after a restart")
check_windows(wait_for(stack, pts_out, 8), range(8),
              "payload times after a restart")
check(len(consume(stack, kts_out, 20, timeout=3)) == 8
      and len(consume(stack, pts_out, 20, timeout=3)) == 8,
      "no window emitted twice")
print("PASS")
