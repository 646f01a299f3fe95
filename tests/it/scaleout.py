"""Several workers sharing agents (SPEC §10, §11), for the scale-out tests:
six agents over three source topics of four partitions (some sources read
by two agents, with renames), workers with their own web ports, ownership
read from /agents, data produced window by window with explicit
timestamps, and the check that every window of every agent is present,
complete and exact (CPython's statistics over every message of the
window) and that repeats are identical.
"""
import json
import os
import random
import signal
import statistics
import time
import urllib.request

from katest import (GROUP, TMP, DevStack, Pipeline, avro, check, check_window,
                    consume, fail, free_port, produce, record_schema, stop,
                    topic)

T0 = 1_700_000_000_000
WINDOW_MS = 1000
PARTITIONS = 4
SOURCES = [topic(f"so-src{i}") for i in range(3)]
AGENT = [topic(f"so-agg{i}") for i in range(6)]
# agent -> [(source, {field: output name})]
AGENTS = {
    AGENT[0]: [(SOURCES[0], {"a": "a", "b": "b"})],
    AGENT[1]: [(SOURCES[1], {"a": "a", "b": "b"})],
    AGENT[2]: [(SOURCES[2], {"a": "a", "b": "b"})],
    AGENT[3]: [(SOURCES[0], {"a": "a", "b": "b"}),
               (SOURCES[1], {"a": "a1", "b": "b1"})],
    AGENT[4]: [(SOURCES[1], {"a": "a"})],
    AGENT[5]: [(SOURCES[2], {"a": "a", "b": "b"}),
               (SOURCES[0], {"a": "a0", "b": "b0"})],
}

# Partitions go idle after 10 s without data: longer than the gaps between
# the producer runs of one window (a process each) on a loaded machine,
# which would otherwise close windows before all their sources arrived.
#
# A 3 s session: the mock's group takes a crashed member's leases away
# after about twice that less a second (6 s, real brokers' minimum, gives
# about 10 s there).
SESSION_MS = int(os.environ.get("KA_TEST_SESSION_MS", "3000"))


def config():
    out = ["aggregated_topics:"]
    for agent, sources in AGENTS.items():
        out += [f"  - name: {agent}",
                "    window_aggregation: {window_size_seconds: 1, "
                "idle_timeout_seconds: 10}",
                "    filter:", "      source_topics:"]
        for src, fields in sources:
            out.append(f"        - name: {src}")
            out.append(f"          fields: [{', '.join(fields)}]")
            renames = {k: v for k, v in fields.items() if k != v}
            if renames:
                out.append("          map: {" + ", ".join(
                    f"{k}: {v}" for k, v in renames.items()) + "}")
    return "\n".join(out) + "\n"


class Cluster:
    """The dev stack, the agents built into one worker binary, and the
    workers started from it by name."""

    def __init__(self, kafka_extra="", session_ms=SESSION_MS):
        text = config()
        self.stack = DevStack(partitions=PARTITIONS, config=text)
        self.schema = record_schema("so", [("time", "double"),
                                           ("a", "double"), ("b", "double")])
        self.sid = {s: self.stack.register(f"{s}-value", self.schema)
                    for s in SOURCES}
        self.pipe = Pipeline(self.stack, text)
        self.kafka_config = os.path.join(TMP, "scaleout.properties")
        with open(self.kafka_config, "w") as f:
            f.write(f"session.timeout.ms={session_ms}\n"
                    "heartbeat.interval.ms=500\n" + kafka_extra)
        self.workers = {}  # name -> (proc, web port)
        self.sent = {}  # (source, window) -> [record dicts]
        self.rng = random.Random(int(os.environ.get("KA_TEST_SEED", "11")))

    def start(self, name):
        port = free_port()
        log = open(os.path.join(self.pipe.dir, f"{name}.log"), "a")
        env = self.stack.environ(KAFKA_GROUP_ID=GROUP,
                                 KAFKA_CONFIG_FILE=self.kafka_config)
        import subprocess
        from katest import _procs
        proc = subprocess.Popen(
            [self.pipe.worker_bin, "-l", "debug", "worker", "--web-port",
             str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
        _procs.append(proc)
        self.workers[name] = (proc, port)
        return proc

    def close(self):
        """Stops every worker and the dev stack."""
        for name in list(self.workers):
            self.kill(name, signal.SIGTERM)
        stop(self.stack.proc)

    def kill(self, name, sig=signal.SIGKILL):
        proc, _ = self.workers.pop(name)
        return stop(proc, sig)

    def owned(self, name):
        """Agents /agents of worker name says it owns (None: no answer)."""
        _, port = self.workers[name]
        try:
            rows = json.load(urllib.request.urlopen(
                f"http://127.0.0.1:{port}/agents", timeout=2))
        except OSError:
            return None
        return {r["output"] for r in rows if r.get("owned")}

    def ready(self, name):
        _, port = self.workers[name]
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/ready",
                                          timeout=2).status == 200
        except OSError:
            return False

    def wait_owned(self, timeout=60, label=""):
        """Waits until the live workers own every agent exactly once;
        returns the seconds it took."""
        start = time.time()
        while time.time() - start < timeout:
            sets = [self.owned(n) for n in self.workers]
            if all(s is not None for s in sets):
                union = set().union(*sets)
                if union == set(AGENTS) and \
                        sum(len(s) for s in sets) == len(AGENTS):
                    return time.time() - start
            time.sleep(0.1)
        states = []
        for n, (proc, _) in self.workers.items():
            tail = self.pipe.worker_log(n).splitlines()[-15:]
            states.append(f"{n}: exit {proc.poll()}, owns {self.owned(n)}; "
                          f"log ends:\n  " + "\n  ".join(tail))
        fail(f"{label}: the agents were not all owned once within "
             f"{timeout} s:\n" + "\n".join(states))

    def send(self, window, per_partition=3):
        """Messages of one window on every partition of every source."""
        for src in SOURCES:
            msgs = []
            for p in range(PARTITIONS):
                for j in range(per_partition):
                    rec = {"time": 0.0,
                           "a": self.rng.uniform(-100, 100),
                           "b": self.rng.choice([self.rng.random(), 1e6])}
                    ts = T0 + window * WINDOW_MS + p * 100 + j * 10
                    self.sent.setdefault((src, window), []).append(rec)
                    msgs.append((p, ts, None,
                                 avro(self.sid[src], self.schema, rec)))
            produce(self.stack, src, msgs)

    def expected(self, agent, window):
        """{output field: values} and the message count of a window."""
        fields, count = {}, 0
        for src, names in AGENTS[agent]:
            recs = self.sent.get((src, window), [])
            count += len(recs)
            for f, out in names.items():
                fields.setdefault(out, []).extend(r[f] for r in recs)
        return fields, count

    def verify(self, windows, label=""):
        """Every window of every agent present, complete, exact; repeats
        identical. Returns the number of repeated records."""
        repeats = 0
        for agent in AGENTS:
            deadline = time.time() + 60
            while True:
                recs = consume(self.stack, agent, 10000, timeout=2)
                times = {r["time"] for r in recs}
                want = {(2 * (T0 + w * WINDOW_MS) + WINDOW_MS) / 2000
                        for w in windows}
                if want <= times or time.time() > deadline:
                    break
            by_time = {}
            for r in recs:
                by_time.setdefault(r["time"], []).append(r)
            for w in windows:
                t = (2 * (T0 + w * WINDOW_MS) + WINDOW_MS) / 2000
                got = by_time.get(t, [])
                if not got:
                    fail(f"{label}: {agent} window {w} missing")
                if any(g != got[0] for g in got):
                    fail(f"{label}: {agent} window {w} emitted {len(got)} "
                         f"times, differently: {got}")
                repeats += len(got) - 1
                fields, count = self.expected(agent, w)
                check_window(got[0], T0 + w * WINDOW_MS, WINDOW_MS, count,
                             fields, label=f"{label} {agent} window {w}",
                             quiet=True)
            extra = set(by_time) - {(2 * (T0 + w * WINDOW_MS) + WINDOW_MS)
                                    / 2000 for (_, w) in self.sent}
            if extra:
                fail(f"{label}: {agent} emitted windows never sent: "
                     f"{sorted(extra)}")
        check(True, f"{label}: {len(AGENTS)} agents x {len(windows)} "
              f"windows present, complete and exact; {repeats} repeated "
              f"records, all identical")
        return repeats


    def flow(self, start=0, every_s=0.3):
        """Produces window after window from start in a thread of its
        own until the returned stop() is called; stop() returns the
        windows sent."""
        import threading
        state = {"stop": False, "next": start}

        def run():
            while not state["stop"]:
                self.send(state["next"])
                state["next"] += 1
                time.sleep(every_s)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()

        def stop_flow():
            state["stop"] = True
            thread.join()
            return range(start, state["next"])
        return stop_flow

    def wait_ready(self, name, timeout=60):
        deadline = time.time() + timeout
        while not self.ready(name):
            if time.time() > deadline:
                fail(f"{name} not ready within {timeout} s")
            time.sleep(0.1)


def sigkill_round(c, kills, rng, pause=(0.5, 3), restart_after=(0, 2)):
    """kills SIGKILLs of random workers of c while data flows, each started
    again after a random pause. Returns (takeover seconds per kill, the
    windows sent): a takeover is timed from the kill until the live
    workers own every agent."""
    stop_flow = c.flow()
    takeovers = []
    for k in range(kills):
        time.sleep(rng.uniform(*pause))
        victim = rng.choice(sorted(c.workers))
        start = time.time()
        c.kill(victim)
        if c.workers:
            c.wait_owned(label=f"kill {k + 1} ({victim})")
            takeovers.append(time.time() - start)
        time.sleep(rng.uniform(*restart_after))
        c.start(victim)
        c.wait_ready(victim)
    return takeovers, stop_flow()


def median(xs):
    return statistics.median(xs) if xs else float("nan")
