"""Transient failures never stop the worker (SPEC §11): with the broker
unreachable it keeps retrying, /health answers 503 and /metrics still
serves; with the Schema Registry down at start it waits for it; SIGTERM
stops it cleanly in both cases. A message whose writer schema cannot be
fetched is read again once the registry is back, not dropped."""
import os
import socket
import subprocess
import time
from katest import (DevStack, Pipeline, _procs, check, fail, free_port,
                    one_source_config, record_schema, status, stop, topic)

src, out = topic("down"), topic("down-out")
config = one_source_config(out, src, "{}")
stack = DevStack(partitions=1, config=config)
stack.register(f"{src}-value", record_schema("down", [("time", "double"),
                                                      ("v", "double")]))
pipe = Pipeline(stack, config)


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
    code = status(web, "/health")
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


# The source registry goes away while a message with a new schema id waits:
# the worker reads it again once the registry is back; nothing is lost.
import threading
from katest import avro, check_window, produce, wait_for


def forward(port, target):
    """A TCP forwarder from 127.0.0.1:port to target (host, port)."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)

    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (a, b):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            u = socket.create_connection(target)
            threading.Thread(target=pipe, args=(c, u), daemon=True).start()
            threading.Thread(target=pipe, args=(u, c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv


T0 = 1_700_000_000_000
v1 = record_schema("down", [("time", "double"), ("v", "double")])
v2 = record_schema("down", [("time", "double"), ("v", "double")])
v2["fields"].append({"name": "extra", "type": "string", "default": ""})
id1 = stack.register(f"{src}-value", v1)
id2 = stack.register(f"{src}-value", v2)
reg_host, reg_port = stack.registry.rsplit("/", 1)[1].split(":")
proxy_port = free_port()
proc, web = start({"SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{proxy_port}",
                   "INTERNAL_SCHEMA_REGISTRY_URL": stack.registry})
produce(stack, src, [
    (0, T0 + 100, None, avro(id1, v1, {"time": 0, "v": 1.0})),
    (0, T0 + 200, None, avro(id2, v2, {"time": 0, "v": 2.0, "extra": "x"})),
    (0, T0 + 300, None, avro(id1, v1, {"time": 0, "v": 4.0})),
    (0, T0 + 1100, None, avro(id1, v1, {"time": 0, "v": 8.0}))])
deadline = time.time() + 30
while "its partitions wait" not in open(os.path.join(pipe.dir, "w.log")).read():
    if time.time() > deadline:
        fail("the worker did not report the unreachable registry")
    time.sleep(0.5)
check(True, "registry down: the message waits to be read again")
forwarder = forward(proxy_port, (reg_host, int(reg_port)))
recs = wait_for(stack, out, 1, timeout=40)
check_window(recs[0], T0, 1000, 3, {"v": [1.0, 2.0, 4.0]},
             label="registry back: the window has every message")
forwarder.close()
rc, took = stop(proc)
check(rc == 0, f"SIGTERM: exit {rc}")
print("PASS")
