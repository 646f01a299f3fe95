"""Shared helpers of the `make bench` scripts: the dev stack, processes
that are always stopped, Schema Registry calls, /proc readings and table
printing. Benchmarks report numbers; they fail (exit 1) only when
something broke, never because the machine is slow.
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.path.join(ROOT, os.environ.get("BUILD", "build")))
BIN = os.path.abspath(os.environ.get("BIN", os.path.join(ROOT,
                                                         "kafkaaggregator")))
BENCH_BIN = os.path.join(BUILD, "bench")
KA_CFLAGS = os.environ.get("KA_CFLAGS", "-O2 -g")
KA_LDFLAGS = os.environ.get("KA_LDFLAGS", "")
TMP = tempfile.mkdtemp(prefix="ka-bench-")
KEEP = os.environ.get("KEEP_TMP") == "1"

_procs = []


def _cleanup():
    for p in _procs:
        if p.poll() is None:
            p.terminate()
    for p in _procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if KEEP:
        print(f"(kept {TMP})")
    else:
        shutil.rmtree(TMP, ignore_errors=True)


atexit.register(_cleanup)


def _on_signal(sig, frame):
    sys.exit(128 + sig)


signal.signal(signal.SIGTERM, _on_signal)


def broken(msg):
    """Something failed that is not slowness: say so and exit 1."""
    print(f"ERROR: {msg}", flush=True)
    sys.exit(1)


def start(args, log_path, env=None):
    """Starts a process whose output goes to log_path; stopped at exit."""
    log = open(log_path, "w")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    _procs.append(proc)
    return proc


def stop(proc, timeout=15):
    """SIGTERM, then SIGKILL after timeout; returns the exit status."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def run_timed(args, env=None, timeout=300, cwd=None):
    """Runs a command to completion; returns (stdout+stderr, wall seconds,
    CPU seconds of it and its children). On a shared machine the CPU time
    says what the wall time would be without the neighbours."""
    t0, c0 = time.monotonic(), os.times()
    try:
        p = subprocess.run(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        broken(f"{' '.join(args[:3])} did not finish within {timeout} s")
    dt, c1 = time.monotonic() - t0, os.times()
    if p.returncode:
        broken(f"{' '.join(args[:3])} exited {p.returncode}:\n{p.stdout}")
    cpu = (c1.children_user - c0.children_user +
           c1.children_system - c0.children_system)
    return p.stdout, dt, cpu


def run(args, env=None, timeout=300, cwd=None):
    """Runs a command to completion; returns (stdout+stderr, seconds)."""
    out, dt, _ = run_timed(args, env=env, timeout=timeout, cwd=cwd)
    return out, dt


def read_log(path):
    with open(path, errors="replace") as f:
        return f.read()


def wait_log(proc, path, pattern, timeout):
    """Waits until pattern (a regex) appears in the log of proc; returns
    the match."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(pattern, read_log(path), re.M)
        if m:
            return m
        if proc.poll() is not None:
            broken(f"{os.path.basename(path)}: exited {proc.returncode} "
                   f"before '{pattern}':\n{read_log(path)[-3000:]}")
        time.sleep(0.05)
    broken(f"{os.path.basename(path)}: no '{pattern}' within {timeout} s:"
           f"\n{read_log(path)[-3000:]}")


class DevStack:
    """`kafkaaggregator dev-stack` on free ports, with the topics of
    config (when not None) created with `partitions` partitions."""

    def __init__(self, config=None, partitions=4, name="devstack",
                 prefix=(), start_s=60):
        env_file = os.path.join(TMP, f"{name}.env")
        self.log_path = os.path.join(TMP, f"{name}.log")
        args = list(prefix) + [BIN, "dev-stack", "--kafka-port", "0", "--registry-port",
                "0", "--env-file", env_file]
        if config:
            args += ["--config-file", config, "--partitions",
                     str(partitions)]
        self.proc = start(args, self.log_path)
        deadline = time.monotonic() + start_s
        while not os.path.exists(env_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                broken(f"dev-stack did not start:\n"
                       f"{read_log(self.log_path)}")
            time.sleep(0.05)
        time.sleep(0.05)  # the file is written in one go; be safe
        self.env = dict(line.strip().split("=", 1)
                        for line in open(env_file) if "=" in line)
        self.registry = self.env["SCHEMA_REGISTRY_URL"]

    def environ(self, **extra):
        env = dict(os.environ)
        env.update(self.env)
        env.update(extra)
        return env

    def register(self, subject, schema_text):
        body = json.dumps({"schema": schema_text}).encode()
        req = urllib.request.Request(
            f"{self.registry}/subjects/{subject}/versions", data=body,
            headers={"Content-Type":
                     "application/vnd.schemaregistry.v1+json"})
        try:
            return json.load(urllib.request.urlopen(req, timeout=10))["id"]
        except Exception as e:  # noqa: BLE001 - any failure is fatal here
            broken(f"registering {subject}: {e}")

    def stop(self):
        stop(self.proc)


def proc_status(pid):
    """VmRSS and VmHWM of pid in kB (None when gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    out[k] = int(v.split()[0])
    except OSError:
        return None
    return out


def proc_cpu_s(pid):
    """User + system CPU seconds of pid (all threads)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def http_get(port, path):
    """The body of GET path on 127.0.0.1:port, through a bare socket: a
    poller in a benchmark must cost as little CPU as it can."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                  .encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    data = b"".join(chunks)
    return data[data.find(b"\r\n\r\n") + 4:]


def metrics(port):
    """/metrics of a worker as {name{labels}: value}."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics",
                                  timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def metric_sum(m, name):
    return sum(v for k, v in m.items()
               if k == name or k.startswith(name + "{"))


def build_worker(agents_dir, worker_bin, build=BUILD, jobs=1, timeout=300):
    """make of a worker with the agents of agents_dir; returns (output,
    wall seconds, CPU seconds)."""
    return run_timed(["make", f"-j{jobs}", "--no-print-directory", "-C", ROOT,
                f"BUILD={build}", f"AGENTS_DIR={agents_dir}",
                f"BIN={worker_bin}", f"CFLAGS={KA_CFLAGS}",
                f"LDFLAGS={KA_LDFLAGS}", worker_bin], timeout=timeout)


def table(headers, rows, aligns=None):
    """Prints rows under headers, columns padded; aligns: 'l' or 'r' per
    column (text left, numbers right by default)."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells])
              for i, h in enumerate(headers)]
    if aligns is None:
        aligns = ["l"] + ["r"] * (len(headers) - 1)

    def fmt(r):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(r, widths, aligns)).rstrip()
    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(fmt(r))
    sys.stdout.flush()


def summary(what, value, target, verdict):
    """A line run.sh collects into the final summary."""
    print(f"SUMMARY|{what}|{value}|{target}|{verdict}", flush=True)
