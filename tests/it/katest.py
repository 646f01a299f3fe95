"""Pipeline test harness: the dev stack, generated agents built into a
worker, messages produced with exact partitions and timestamps, and the
aggregated topic read back with `kafkaaggregator consume`.

Expectations come from CPython's statistics module, the definition SPEC §7
gives, never from the code under test. Everything started is stopped at exit.
"""
import atexit
import json
import math
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.path.join(ROOT, os.environ.get("BUILD", "build")))
BIN = os.environ.get("BIN", os.path.join(ROOT, "kafkaaggregator"))
PRODUCE_RAW = os.path.join(BUILD, "tests", "tools", "produce-raw")
RUN_ID = f"{os.getpid()}-{int(time.time() * 1000) % 100000}"
# The workers' group: the dev stack creates its lease topic from the config.
GROUP = f"ka-test-{RUN_ID}"

_procs = []
TMP = tempfile.mkdtemp(prefix="ka-it-")


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.terminate()
    for p in _procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if os.environ.get("KA_KEEP_TMP"):
        print(f"kept {TMP}")
    else:
        shutil.rmtree(TMP, ignore_errors=True)


atexit.register(_cleanup)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print(f"ok: {msg}", flush=True)


def topic(name):
    """A topic name unique to this run."""
    return f"{name}-{RUN_ID}"


def one_source_config(out, src, window="{window_size_seconds: 1, "
                      "idle_timeout_seconds: 1}"):
    """A config of one aggregated topic out over one source topic src."""
    return f"""
aggregated_topics:
  - name: {out}
    window_aggregation: {window}
    filter:
      source_topics:
        - name: {src}
"""


class DevStack:
    """The dev stack on free ports; with config (the text of a config),
    every topic it names is created with `partitions` partitions."""

    def __init__(self, partitions=None, config=None, extra=()):
        env_file = os.path.join(TMP, f"devstack-{len(_procs)}.env")
        args = [BIN, "dev-stack", "--kafka-port", "0", "--registry-port",
                "0", "--env-file", env_file, *extra]
        if config:
            path = os.path.join(TMP, f"devstack-{len(_procs)}.yaml")
            with open(path, "w") as f:
                f.write(config)
            args += ["--config-file", path]
        if partitions:
            args += ["--partitions", str(partitions)]
        self.log = open(os.path.join(TMP, "devstack.log"), "w")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     env=dict(os.environ, KAFKA_GROUP_ID=GROUP))
        _procs.append(self.proc)
        deadline = time.time() + 15
        while not os.path.exists(env_file):
            if self.proc.poll() is not None or time.time() > deadline:
                fail("dev-stack did not start")
            time.sleep(0.05)
        self.env = dict(line.strip().split("=", 1)
                        for line in open(env_file) if "=" in line)
        self.registry = self.env["SCHEMA_REGISTRY_URL"]
        self.control_url = self.env.get("KA_DEVSTACK_CONTROL_URL")

    def control(self, path):
        """A fault of the mock cluster (devstack/control.h)."""
        req = urllib.request.Request(f"{self.control_url}{path}", data=b"",
                                     method="POST")
        body = urllib.request.urlopen(req, timeout=5).read().decode()
        if body.strip() != "ok":
            fail(f"control {path}: {body}")

    def environ(self, **extra):
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def register(self, subject, schema):
        body = json.dumps({"schema": json.dumps(schema)}).encode()
        req = urllib.request.Request(
            f"{self.registry}/subjects/{subject}/versions", data=body,
            headers={"Content-Type":
                     "application/vnd.schemaregistry.v1+json"})
        return json.load(urllib.request.urlopen(req, timeout=10))["id"]


# ---- Avro binary, written by hand (the spec is short) -------------------

def _zigzag(n):
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _encode(t, v):
    if isinstance(t, list):  # union: the first branch that fits
        for i, b in enumerate(t):
            if (b == "null") == (v is None):
                return _zigzag(i) + _encode(b, v)
        raise ValueError(f"no branch of {t} for {v!r}")
    if isinstance(t, dict) and t["type"] == "array":
        # One block of every item, then the end block (as writers do
        # that know the length).
        items = b"".join(_encode(t["items"], x) for x in v)
        return (_zigzag(len(v)) + items if v else b"") + _zigzag(0)
    if isinstance(t, dict):
        return _encode(t["type"], v)
    if t == "null":
        return b""
    if t in ("int", "long"):
        return _zigzag(int(v))
    if t == "float":
        return struct.pack("<f", v)
    if t == "double":
        return struct.pack("<d", v)
    if t == "string":
        data = v.encode()
        return _zigzag(len(data)) + data
    if t == "boolean":
        return b"\x01" if v else b"\x00"
    raise ValueError(f"type {t} not supported by the test encoder")


def avro(schema_id, schema, record):
    """Confluent wire format of record (a dict) under schema."""
    body = b"".join(_encode(f["type"], record.get(f["name"]))
                    for f in schema["fields"])
    return b"\x00" + struct.pack(">i", schema_id) + body


def record_schema(name, fields):
    """A record schema from [(name, type)]."""
    return {"type": "record", "name": name.replace("-", "_"),
            "namespace": "test",
            "fields": [{"name": n, "type": t} for n, t in fields]}


# ---- generate, build, run ------------------------------------------------

class Pipeline:
    """One config: generated agents, built into a worker binary."""

    def __init__(self, stack, config_text):
        self.stack = stack
        self.dir = tempfile.mkdtemp(dir=TMP)
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(config_text)
        agents = os.path.join(self.dir, "agents")
        # What generate-agents printed (what topic patterns matched).
        self.generated = run([BIN, "generate-agents", "--config-file",
                              self.config, "--output-dir", agents,
                              "--template-dir",
                              os.path.join(ROOT, "templates")],
                             env=stack.environ())
        self.worker_bin = os.path.join(self.dir, "worker")
        run(["make", "-s", "--no-print-directory", "-C", ROOT,
             f"BUILD={BUILD}", f"AGENTS_DIR={agents}",
             f"BIN={self.worker_bin}",
             f"CFLAGS={os.environ.get('KA_CFLAGS', '-O2 -g')}",
             f"LDFLAGS={os.environ.get('KA_LDFLAGS', '')}",
             self.worker_bin])

    def start_worker(self, name="worker", web_port=0, group=None, **env_extra):
        log = open(os.path.join(self.dir, f"{name}.log"), "a")
        env = self.stack.environ(KAFKA_GROUP_ID=group or GROUP, **env_extra)
        args = [self.worker_bin, "-l", "debug", "worker"]
        args += ["--web-port", str(web_port)] if web_port else \
            ["--without-web"]
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                env=env)
        _procs.append(proc)
        return proc

    def worker_log(self, name="worker"):
        with open(os.path.join(self.dir, f"{name}.log")) as f:
            return f.read()


def run(args, env=None, timeout=120):
    p = subprocess.run(args, env=env, capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode:
        fail(f"{' '.join(args[:3])} exited {p.returncode}:\n"
             f"{p.stdout}\n{p.stderr}")
    return p.stdout


def stop(proc, sig=signal.SIGTERM, timeout=15):
    """Stops proc; returns its exit status and the seconds it took."""
    start = time.time()
    proc.send_signal(sig)
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        fail(f"process did not stop within {timeout} s")
    return rc, time.time() - start


def produce(stack, topic_name, messages):
    """messages: [(partition, timestamp_ms, key bytes or None, payload)]."""
    lines = "".join(
        f"{p} {ts} {key.hex() if key is not None else '-'} {payload.hex()}\n"
        for p, ts, key, payload in messages)
    p = subprocess.run([PRODUCE_RAW, topic_name], input=lines, text=True,
                       capture_output=True, env=stack.environ(), timeout=60)
    if p.returncode:
        fail(f"produce-raw failed: {p.stderr}")


def consume(stack, topic_name, count, timeout=30):
    """The first `count` records of topic_name, decoded by `consume`; fewer
    when they do not come within timeout seconds (then the test says)."""
    p = subprocess.run(
        [BIN, "consume", "--topic", topic_name, "--from-beginning",
         "--max-messages", str(count), "--timeout", str(timeout)],
        capture_output=True, text=True, env=stack.environ(),
        timeout=timeout + 30)
    return [json.loads(line) for line in p.stdout.splitlines() if line]


def wait_for(stack, topic_name, count, timeout=30):
    records = consume(stack, topic_name, count, timeout)
    if len(records) < count:
        fail(f"{topic_name}: {len(records)} of {count} aggregated records "
             f"within {timeout} s: {records}")
    return records


def status(port, path):
    """The HTTP status of a worker endpoint (None: no answer)."""
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                      timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_status(port, path, want, timeout=30, label=""):
    """Waits until path answers want; returns the seconds it took."""
    start = time.time()
    while time.time() - start < timeout:
        if status(port, path) == want:
            return time.time() - start
        time.sleep(0.2)
    fail(f"{label}: {path} did not answer {want} within {timeout} s "
         f"(last {status(port, path)})")


def metrics(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                  timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---- expectations --------------------------------------------------------

OPS = ["min", "q1", "mean", "median", "stdev", "q3", "max"]


def expected_stats(values, ops=OPS, min_sample_size=2, count=None):
    """What SPEC §7 says a window yields for one field's values (None and
    NaN skipped); count is the window's message count."""
    count = len(values) if count is None else count
    vals = [v for v in values if v is not None and not math.isnan(v)]
    out = {}
    for op in ops:
        if count < min_sample_size:
            out[op] = vals[0] if vals else math.nan
        elif not vals:
            out[op] = math.nan
        elif op == "min":
            out[op] = min(vals)
        elif op == "max":
            out[op] = max(vals)
        elif op == "mean":
            out[op] = statistics.mean(vals)
        elif op == "median":
            out[op] = statistics.median(vals)
        elif op == "sum":
            out[op] = math.fsum(vals)
        elif op == "stdev":
            out[op] = statistics.stdev(vals) if len(vals) > 1 else math.nan
        elif op in ("q1", "q3"):
            if len(vals) < 2:
                out[op] = math.nan
            else:
                q = statistics.quantiles(vals, n=4)
                out[op] = q[0] if op == "q1" else q[2]
    return out


def same(a, b, rel=1e-12):
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):  # avro-c JSON: NaN
        return str(a).lower() == str(b).lower() or (
            _isnan(a) and _isnan(b))
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b or abs(a - b) <= rel * max(abs(a), abs(b))


def _isnan(v):
    try:
        return math.isnan(float(v))
    except (TypeError, ValueError):
        return False


def check_window(record, start_ms, size_ms, count, fields, ops=OPS,
                 min_sample_size=2, label="", quiet=False):
    """fields: {output name: values}; asserts one aggregated record (says
    only what fails when quiet)."""
    say = (lambda cond, msg: cond or fail(msg)) if quiet else check
    say(same(record["time"], (2 * start_ms + size_ms) / 2000.0),
        f"{label} window time {record['time']}")
    say(record["window_size"] == size_ms / 1000.0,
        f"{label} window_size {record['window_size']}")
    say(record["count"] == count,
        f"{label} count {record['count']} == {count}")
    for name, values in fields.items():
        exp = expected_stats(values, ops, min_sample_size, count)
        for op in ops:
            got = record[f"{op}_{name}"]
            if not same(got, exp[op]):
                fail(f"{label} {op}_{name}: got {got!r}, expected "
                     f"{exp[op]!r} from {values}")
        if not quiet:
            print(f"ok: {label} {name}: {', '.join(ops)} as CPython "
                  f"computes", flush=True)
