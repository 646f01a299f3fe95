"""Transient failures never stop the worker (SPEC §11): with the broker
unreachable it keeps retrying, /health answers 503 and /metrics still
serves; with the Schema Registry down at start it waits for it; SIGTERM
stops it cleanly in both cases."""
import os
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from katest import (DevStack, Pipeline, check, fail, free_port,
                    record_schema, stop, topic, _procs)

src, out = topic("down"), topic("down-out")
config = f"""
aggregated_topics:
  - name: {out}
    filter:
      source_topics:
        - name: {src}
"""
cfg = os.path.join(tempfile.mkdtemp(), "config.yaml")
open(cfg, "w").write(config)
stack = DevStack(partitions=1, config=cfg)
stack.register(f"{src}-value", record_schema("down", [("time", "double"),
                                                      ("v", "double")]))
pipe = Pipeline(stack, config)


def status(port, path):
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                      timeout=5).status
    except urllib.error.HTTPError as e:
        return e.code


def start(env):
    web = free_port()
    log = open(os.path.join(pipe.dir, "w.log"), "a")
    proc = subprocess.Popen([pipe.worker_bin, "worker", "--web-port",
                             str(web)], stdout=log, stderr=subprocess.STDOUT,
                            env=stack.environ(**env))
    _procs.append(proc)
    return proc, web


# No broker listens on a closed port.
s = socket.socket()
s.bind(("127.0.0.1", 0))
dead = s.getsockname()[1]
s.close()
proc, web = start({"KAFKA_BROKER_URL": f"127.0.0.1:{dead}"})
deadline = time.time() + 20
code = None
while time.time() < deadline:
    try:
        code = status(web, "/health")
    except OSError:
        code = None
    if code == 503:
        break
    time.sleep(0.5)
check(code == 503, "broker down: /health answers 503")
check(status(web, "/metrics") == 200, "broker down: /metrics still serves")
check(proc.poll() is None, "broker down: the worker keeps running")
rc, took = stop(proc)
check(rc == 0 and took < 10, f"SIGTERM with the broker down: exit {rc} "
      f"after {took:.1f} s")

# The registry is down at start: the worker waits for it.
proc, web = start({"SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{dead}",
                   "INTERNAL_SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{dead}"})
time.sleep(3)
check(proc.poll() is None, "registry down: the worker keeps retrying")
rc, took = stop(proc)
check(rc == 0 and took < 10, f"SIGTERM while waiting for the registry: "
      f"exit {rc} after {took:.1f} s")
log = open(os.path.join(pipe.dir, "w.log")).read()
check("retrying" in log, "the retries are logged")
print("PASS")
