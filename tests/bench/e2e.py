"""End-to-end benchmark through the dev stack (SPEC §14: worker throughput
at least 0.8 of a plain librdkafka consumer reading the same messages in
the same run), with the peak RSS and CPU time of both.

One dev stack; one source topic of the example schema (time + value0..9)
filled once by bench_produce; then, alternating, RUNS times each:
- bench_consume: a plain consumer with the worker's settings
  (ka_kafka_conf), timed from its first message to its last;
- the real worker, built from generate-agents for a config of one
  aggregated topic over that source, timed from /metrics: its messages
  counter, updated every 50 ms tick, is polled every POLL_S and each change
  stamped, so that the rate between the first and the last tick of the run
  is known to about POLL_S.
Both join a fresh consumer group; the join (about 3 s on the mock) is left
out of both. The figure is the median over runs of the worker's rate over
that of the plain consumer run just before it (same machine load).

With E2E_PIN=1 (the default on 2 or more CPUs) the dev stack runs on CPU
0 and each consumer on CPU 1, as if the broker were another machine.

Both get the same KAFKA_CONFIG_FILE, queued.min.messages=1000000: with
librdkafka 2.0.2's default (100000) a consumer that is slower than its
fetcher stops fetching for about a second each time 100000 messages are
queued (fetch.queue.backoff.ms came in 2.1), and the run would measure
those pauses instead of the consumers.
"""
import os
import re
import shutil
import statistics
import time

import benchlib as bl

N_PER_PARTITION = int(os.environ.get("E2E_PER_PARTITION", "40000"))
PARTITIONS = int(os.environ.get("E2E_PARTITIONS", "16"))
RATE = 1000  # messages per 1 s window: a 1 kHz topic
RUNS = int(os.environ.get("E2E_RUNS", "7"))
POLL_S = 0.02
# The dev stack on CPU 0, the consumer under test on CPU 1, as a broker
# and a consumer would be on separate machines: else the mock's thread
# competes with the consumer and hides the consumer's own cost.
PIN = (os.environ.get("E2E_PIN", "1") == "1" and os.cpu_count() >= 2 and
       shutil.which("taskset") is not None)
PIN_BROKER = ["taskset", "-c", "0"] if PIN else []
PIN_CONSUMER = ["taskset", "-c", "1"] if PIN else []
MESSAGES = re.compile(rb"^kafkaaggregator_messages_total\{[^}]*\} (\S+)",
                      re.M)
OPEN = re.compile(rb"^kafkaaggregator_open_windows\{[^}]*\} (\S+)", re.M)
TARGET = 0.8
SOURCE = "bench-e2e-source"
AGGREGATED = "bench-e2e-aggregated"


def write_files():
    config = os.path.join(bl.TMP, "config.yaml")
    with open(config, "w") as f:
        f.write(f"""aggregated_topics:
  - name: {AGGREGATED}
    window_aggregation:
      window_size_seconds: 1
      operations: [min, q1, mean, median, stdev, q3, max]
    filter:
      source_topics:
        - name: {SOURCE}
""")
    kconf = os.path.join(bl.TMP, "kafka.conf")
    with open(kconf, "w") as f:
        f.write("# both consumers of the benchmark (see e2e.py)\n"
                "queued.min.messages=1000000\n")
    return config, kconf


def run_plain(stack, kconf, n, rep):
    log = os.path.join(bl.TMP, f"plain-{rep}.log")
    proc = bl.start(PIN_CONSUMER + [os.path.join(bl.BENCH_BIN,
                                                 "bench_consume"), SOURCE,
                     str(n), f"bench-plain-{os.getpid()}-{rep}", "120"],
                    log, env=stack.environ(KAFKA_CONFIG_FILE=kconf))
    # The same observer load as the worker's run gets from its poller,
    # here on the registry (another process, like the worker's own web
    # server thread would be).
    port = int(stack.registry.rsplit(":", 1)[1])
    deadline = time.monotonic() + 180
    while proc.poll() is None and time.monotonic() < deadline:
        bl.http_get(port, "/subjects")
        time.sleep(POLL_S)
    if bl.stop(proc) != 0:
        bl.broken(f"bench_consume exited {proc.returncode}:\n"
                  f"{bl.read_log(log)[-3000:]}")
    out = bl.read_log(log)
    kv = dict(re.findall(r"(\w+)=(\S+)", out.strip().splitlines()[-1]))
    if int(kv["messages"]) != n:
        bl.broken(f"bench_consume read {kv['messages']} of {n}")
    return {"rate": float(kv["rate"]), "seconds": float(kv["seconds"]),
            "cpu_us": float(kv["cpu_s"]) * 1e6 / n,
            "hwm_mb": int(kv["hwm_kb"]) / 1024.0,
            "join": float(kv["join_s"])}


def run_worker(stack, kconf, worker_bin, n, rep):
    log = os.path.join(bl.TMP, f"worker-{rep}.log")
    proc = bl.start(PIN_CONSUMER + [worker_bin, "-l", "info", "worker",
                                    "--web-port", "0"],
                    log, env=stack.environ(
                        KAFKA_CONFIG_FILE=kconf,
                        KAFKA_GROUP_ID=f"bench-worker-{os.getpid()}-{rep}"))
    t_start = time.monotonic()
    port = int(bl.wait_log(proc, log, r"web on http://[^:]+:(\d+)",
                           30).group(1))
    samples = []  # (time, messages, cpu seconds) at each change
    last = None
    max_open = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            bl.broken(f"worker exited {proc.returncode}:\n"
                      f"{bl.read_log(log)[-3000:]}")
        try:
            body = bl.http_get(port, "/metrics")
        except OSError:
            time.sleep(POLL_S)
            continue
        t = time.monotonic()
        c = sum(float(v) for v in MESSAGES.findall(body))
        max_open = max([max_open] + [float(v) for v in OPEN.findall(body)])
        if c != last:
            samples.append((t, c, bl.proc_cpu_s(proc.pid)))
            last = c
        if c >= n:
            break
        time.sleep(POLL_S)
    else:
        bl.broken(f"worker consumed {last} of {n} messages in 120 s")
    mem = bl.proc_status(proc.pid)
    m = bl.metrics(port)
    # Errors would mean the worker skipped the work being timed.
    errors = bl.metric_sum(m, "kafkaaggregator_decode_errors_total")
    emitted = bl.metric_sum(m, "kafkaaggregator_emitted_windows_total")
    rc = bl.stop(proc)
    if rc != 0:
        bl.broken(f"worker exited {rc} on SIGTERM:\n"
                  f"{bl.read_log(log)[-3000:]}")
    if errors:
        bl.broken(f"worker counted {errors:.0f} decode errors")
    nonzero = [s for s in samples if s[1] > 0]
    running = [s for s in nonzero if s[1] < n]
    first, end = nonzero[0], nonzero[-1]
    if first is end:
        bl.broken("the worker read everything within one 50 ms tick: too "
                  "few messages to time it")
    # Between two ticks while it was still consuming, when there are two;
    # else up to the tick that saw the last message (slightly low).
    last_run = running[-1] if len(running) >= 2 else end
    rate = (last_run[1] - first[1]) / (last_run[0] - first[0])
    return {"rate": rate, "seconds": end[0] - first[0],
            "cpu_us": (end[2] - first[2]) * 1e6 / (end[1] - first[1]),
            "hwm_mb": mem["VmHWM"] / 1024.0,
            "join": first[0] - t_start, "emitted": emitted,
            "max_open": max_open,
            "ticks": len(running)}


def main():
    n = N_PER_PARTITION * PARTITIONS
    config, kconf = write_files()
    stack = bl.DevStack(config, PARTITIONS, prefix=PIN_BROKER)
    with open(os.path.join(bl.ROOT, "tests", "golden", "example",
                           "schemas", "example-000.avsc")) as f:
        schema_id = stack.register(f"{SOURCE}-value", f.read())

    agents = os.path.join(bl.TMP, "agents")
    worker_bin = os.path.join(bl.TMP, "kafkaaggregator-e2e")
    bl.run([bl.BIN, "generate-agents", "--config-file", config,
            "--output-dir", agents, "--template-dir",
            os.path.join(bl.ROOT, "templates")], env=stack.environ())
    bl.build_worker(agents, worker_bin)

    base_ms = (int(time.time()) - 86400) * 1000
    out, _ = bl.run([os.path.join(bl.BENCH_BIN, "bench_produce"), SOURCE,
                     str(n), str(PARTITIONS), str(schema_id), str(RATE),
                     str(base_ms)], env=stack.environ(), timeout=180)
    print(f"End to end through the dev stack: {out.strip()}")
    print(f"  {PARTITIONS} partitions x {N_PER_PARTITION} messages (the "
          f"mock keeps ~5 MiB a partition), {RATE} messages per 1 s window;"
          f"\n  {RUNS} runs of each consumer, alternating, each in a new "
          f"consumer group; both with {os.path.basename(kconf)}: "
          f"queued.min.messages=1000000;\n  "
          + ("dev stack pinned to CPU 0, consumers to CPU 1 (E2E_PIN=0: "
             "no pinning)\n" if PIN else "no CPU pinning\n"))

    rows, plain, worker = [], [], []
    for rep in range(1, RUNS + 1):
        p = run_plain(stack, kconf, n, rep)
        plain.append(p)
        w = run_worker(stack, kconf, worker_bin, n, rep)
        worker.append(w)
        for name, r in (("plain librdkafka consumer", p),
                        ("kafkaaggregator worker", w)):
            rows.append([rep, name, f"{r['rate']:,.0f}",
                         f"{r['seconds']:.2f}", f"{r['cpu_us']:.2f}",
                         f"{r['hwm_mb']:.0f}", f"{r['join']:.1f}"])
        print(f"  run {rep}: plain {p['rate']:,.0f} msgs/s, worker "
              f"{w['rate']:,.0f} msgs/s ({w['emitted']:.0f} windows "
              f"emitted, up to {w['max_open']:.0f} open)", flush=True)
    print()
    bl.table(["run", "consumer", "msgs/s", "s first-last", "CPU us/msg",
              "peak RSS MB", "join s"], rows,
             ["r", "l", "r", "r", "r", "r", "r"])

    best_p = max(r["rate"] for r in plain)
    best_w = max(r["rate"] for r in worker)
    # Each worker run against the plain run just before it: the pair saw
    # the same machine load, so the median of those ratios is the figure.
    ratios = sorted(w["rate"] / p["rate"] for p, w in zip(plain, worker))
    ratio = statistics.median(ratios)
    cpu_ratio = (statistics.median(r["cpu_us"] for r in worker) /
                 statistics.median(r["cpu_us"] for r in plain))
    hwm_w = max(r["hwm_mb"] for r in worker)
    hwm_p = max(r["hwm_mb"] for r in plain)
    print(f"\nworker / plain, run by run: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; median {ratio:.2f} "
          f"(target >= {TARGET}); best of each: {best_w:,.0f} / "
          f"{best_p:,.0f} = {best_w / best_p:.2f}")
    print(f"CPU per message (median): worker / plain = {cpu_ratio:.2f}; "
          f"peak RSS: worker {hwm_w:.0f} MB, plain {hwm_p:.0f} MB (both "
          f"hold up to the whole prefetched topic, "
          f"{n * 93 / 1048576:.0f} MB of payloads)")
    bl.summary("end to end: worker / plain consumer throughput",
               f"{ratio:.2f} (median of {RUNS} paired runs; best "
               f"{best_w / 1e6:.2f} / {best_p / 1e6:.2f} M msgs/s)",
               f">= {TARGET}", "PASS" if ratio >= TARGET else "below target")
    bl.summary("end to end: peak RSS worker / plain consumer",
               f"{hwm_w:.0f} MB / {hwm_p:.0f} MB", "(reported)", "-")
    stack.stop()


if __name__ == "__main__":
    main()
