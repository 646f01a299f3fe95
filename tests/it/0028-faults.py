"""Faults of Kafka (SPEC §10, §11), through the dev stack's fault controls:

- a record the producer refuses at once (larger than message.max.bytes) is
  counted and logged, its window dropped by the default policy, and every
  other agent's windows and commits go on; SIGTERM still exits 0;
- errors of the broker the aggregated topics live on: a transient one that
  librdkafka gives up on (no retries configured) is produced again by the
  worker, with backoff, and nothing is lost; a refusal (MSG_SIZE_TOO_LARGE)
  is counted and its records dropped, said so;
- every broker down: /health and /ready answer 503; brokers back: /health
  recovers with no message arriving, and the windows are complete;
- a broker that hangs (the dev stack stopped with SIGSTOP): SIGTERM ends
  the worker within 10 s.
Values are checked against CPython's statistics of what was produced."""
import os
import signal
import time

from katest import (TMP, DevStack, Pipeline, avro, check, check_window,
                    consume, fail, free_port, metrics, produce, record_schema,
                    status, stop, topic, wait_for, wait_status)

T0 = 1_700_000_000_000
src, small, big = topic("flt-src"), topic("flt-small"), topic("flt-big")
NBIG = 30  # fields: 7 statistics of 30 fields take more than 1000 bytes
fields = [("time", "double")] + [(f"f{i}", "double") for i in range(NBIG)]
config = f"""
aggregated_topics:
  - name: {small}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 30}}
    filter:
      source_topics:
        - name: {src}
          fields: [f0, f1]
  - name: {big}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 30}}
    filter:
      source_topics:
        - name: {src}
"""
stack = DevStack(partitions=2, config=config,
                 extra=["--control-port", "0", "--brokers", "2"])
# Sources on broker 1, aggregated topics on broker 2: faults of broker 2
# hit the worker's records and nothing the test produces.
for p_ in (0, 1):
    stack.control(f"/topics/{src}/{p_}/leader/1")
    stack.control(f"/topics/{small}/{p_}/leader/2")
    stack.control(f"/topics/{big}/{p_}/leader/2")
schema = record_schema("flt", fields)
sid = stack.register(f"{src}-value", schema)
pipe = Pipeline(stack, config)
sent = {}


def send(window, n=4):
    msgs = []
    for i in range(n):
        rec = {"time": 0.0}
        rec.update({f"f{k}": float(window * 100 + i * 7 + k)
                    for k in range(NBIG)})
        sent.setdefault(window, []).append(rec)
        msgs.append((i % 2, T0 + window * 1000 + i * 10, None,
                     avro(sid, schema, rec)))
    produce(stack, src, msgs)


def check_small(windows, label):
    recs = wait_for(stack, small, len(windows), timeout=40)
    by_time = {}
    for r in recs + consume(stack, small, 1000, timeout=2):
        by_time.setdefault(r["time"], []).append(r)
    for w in windows:
        got = by_time.get((2 * (T0 + w * 1000) + 1000) / 2000, [])
        if not got or any(g != got[0] for g in got):
            fail(f"{label}: window {w} of {small}: {got}")
        check_window(got[0], T0 + w * 1000, 1000, len(sent[w]),
                     {f: [r[f] for r in sent[w]] for f in ("f0", "f1")},
                     label=f"{label} window {w}", quiet=True)
    check(True, f"{label}: windows {list(windows)} of {small} complete "
          f"and exact")


def metric(port, name, **labels):
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return metrics(port).get(f"{name}{{{want}}}" if want else name, 0)


# ---- a record the producer refuses at once -------------------------------
props = os.path.join(TMP, "small-messages.properties")
with open(props, "w") as f:
    f.write("message.max.bytes=1000\n")
web = free_port()
w = pipe.start_worker("w1", web_port=web, KAFKA_CONFIG_FILE=props)
wait_status(web, "/ready", 200, timeout=40, label="start")
for win in range(0, 4):
    send(win)
check_small(range(0, 3), "message.max.bytes=1000")
refused = metric(web, "kafkaaggregator_produce_errors_total",
                 aggregated_topic=big, cause="msg_size_too_large")
check(refused >= 3, f"{big}: {refused:.0f} records refused by the producer, "
      f"counted by cause")
log = pipe.worker_log("w1")
check(log.count("a permanent error: the window is dropped") == 1,
      "the refusal is logged once, with its cause and what is done")
age = metric(web, "kafkaaggregator_last_commit_age_seconds",
             aggregated_topic=small)
check(age < 5, f"{small} still commits ({age:.1f} s since its last commit)")
check(consume(stack, big, 10, timeout=2) == [], f"{big}: nothing produced")
rc, took = stop(w)
check(rc == 0 and took < 10, f"SIGTERM: exit {rc} after {took:.1f} s")

# ---- errors of the broker: a transient one, then a refusal ----------------
props = os.path.join(TMP, "no-retries.properties")
with open(props, "w") as f:
    f.write("message.send.max.retries=0\n")
web = free_port()
w = pipe.start_worker("w2", web_port=web, KAFKA_CONFIG_FILE=props)
wait_status(web, "/ready", 200, timeout=40, label="restart")
stack.control("/brokers/2/requests/Produce/fail/2/NOT_ENOUGH_REPLICAS")
send(4)
send(5)
check_small(range(3, 5), "after NOT_ENOUGH_REPLICAS x2")
retried = sum(v for k, v in metrics(web).items() if k.startswith(
    "kafkaaggregator_produce_errors_total") and
    'cause="not_enough_replicas"' in k)
check(retried >= 1, f"{retried:.0f} transient failures counted, the records "
      f"produced again")
big_recs = consume(stack, big, 1000, timeout=2)
check(len(big_recs) == len({r["time"] for r in big_recs}) and
      {r["time"] for r in big_recs} >= {(2 * (T0 + w_ * 1000) + 1000) / 2000
                                        for w_ in (3, 4)},
      f"{big}: windows 3 and 4 there once each after the retries")
stack.control("/brokers/2/requests/Produce/fail/1/MSG_SIZE_TOO_LARGE")
send(6)
send(7)
time.sleep(2)
refused = sum(v for k, v in metrics(web).items() if k.startswith(
    "kafkaaggregator_produce_errors_total") and
    'cause="msg_size_too_large"' in k)
# Windows 5 and 6 of both agents closed: 4 records, of which the refused
# produce request held one or more.
mid = {(2 * (T0 + w_ * 1000) + 1000) / 2000: w_ for w_ in (5, 6)}
recs = [r for t_ in (small, big) for r in consume(stack, t_, 1000, timeout=2)
        if r["time"] in mid]
check(refused >= 1 and len(recs) + refused == 4 and
      len({(r["time"], len(r)) for r in recs}) == len(recs),
      f"windows 5 and 6: {refused:.0f} records refused by the broker, "
      f"counted and dropped; the other {len(recs)} produced once")
small_kept = [mid[r["time"]] for r in recs if "min_f2" not in r]

# ---- every broker down, then back ----------------------------------------
stack.control("/brokers/all/down")
took = wait_status(web, "/health", 503, timeout=30, label="brokers down")
check(True, f"brokers down: /health 503 after {took:.1f} s")
check(status(web, "/ready") == 503, "brokers down: /ready 503")
check(status(web, "/metrics") == 200, "brokers down: /metrics serves")
time.sleep(2)
stack.control("/brokers/all/up")
# Nothing is produced: health must come back on its own (quiet topics).
took = wait_status(web, "/health", 200, timeout=30, label="brokers back")
check(True, f"brokers back: /health 200 after {took:.1f} s, no message "
      f"needed")
wait_status(web, "/ready", 200, timeout=40, label="brokers back")
for win in (8, 9, 10):
    send(win)
check_small(small_kept + [7, 8, 9], "after the outage")

# ---- a broker that hangs --------------------------------------------------
stack.proc.send_signal(signal.SIGSTOP)
try:
    time.sleep(1)
    rc, took = stop(w, timeout=20)
    check(took < 10.5, f"SIGTERM with the broker hung: exit {rc} after "
          f"{took:.1f} s")
finally:
    stack.proc.send_signal(signal.SIGCONT)
print("PASS")
