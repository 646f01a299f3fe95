"""A Schema Registry that misbehaves (SPEC §9, §11): between the worker and
the dev registry stands a proxy, at a URL whose path holds "40403" (once
taken for the registry's "schema not found"), that answers each way a
broken registry or a proxy in front of one does: no answer at all, HTTP
500, an HTML page with status 200, a bare 404, 401. A message with a writer
schema id the worker has not seen waits for all of it: only its partition
stalls, with backoff (a few requests, not a dozen a second), logs once a
minute, the stalled-partitions gauge and /ready saying so; another agent
goes on. Once the registry answers, the message is read and its window is
complete and exact. Nothing is dropped."""
import http.server
import socketserver
import threading
import time
import urllib.request

from katest import (DevStack, Pipeline, avro, check, check_window, consume,
                    fail, free_port, metrics, produce, record_schema, status,
                    topic, wait_for, wait_status)

T0 = 1_700_000_000_000
src, out = topic("rf-src"), topic("rf-out")
other_src, other_out = topic("rf-other"), topic("rf-other-out")
config = f"""
aggregated_topics:
  - name: {out}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 60}}
    filter:
      source_topics:
        - name: {src}
  - name: {other_out}
    window_aggregation: {{window_size_seconds: 1, idle_timeout_seconds: 60}}
    filter:
      source_topics:
        - name: {other_src}
"""
stack = DevStack(partitions=1, config=config)
v1 = record_schema("rf", [("time", "double"), ("v", "double")])
v2 = record_schema("rf", [("time", "double"), ("v", "double")])
v2["fields"].append({"name": "note", "type": "string", "default": ""})
id1 = stack.register(f"{src}-value", v1)
oid = stack.register(f"{other_src}-value", v1)
pipe = Pipeline(stack, config)
id2 = stack.register(f"{src}-value", v2)  # new to the worker

mode = {"now": "pass"}
counts = {}


class Proxy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        m = mode["now"]
        counts[m] = counts.get(m, 0) + 1
        if m == "stall":
            time.sleep(30)
            return
        if m == "pass":
            path = self.path.removeprefix("/40403")
            try:
                body = urllib.request.urlopen(stack.registry + path,
                                              timeout=5).read()
                code = 200
            except urllib.error.HTTPError as e:
                body, code = e.read(), e.code
            ctype = "application/vnd.schemaregistry.v1+json"
        else:
            code, body, ctype = {
                "500": (500, b'{"error_code":50001,"message":"down"}',
                        "application/json"),
                "html": (200, b"<html><body>Sign in</body></html>",
                         "text/html"),
                "404": (404, b"<html>Not Found</html>", "text/html"),
                "401": (401, b'{"error_code":401,"message":"Unauthorized"}',
                        "application/json"),
            }[m]
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


port = free_port()
proxy = Server(("127.0.0.1", port), Proxy)
threading.Thread(target=proxy.serve_forever, daemon=True).start()

web = free_port()
w = pipe.start_worker("w", web_port=web,
                      SCHEMA_REGISTRY_URL=f"http://127.0.0.1:{port}/40403",
                      INTERNAL_SCHEMA_REGISTRY_URL=stack.registry,
                      KA_READY_STALL_SECONDS="3")
wait_status(web, "/ready", 200, timeout=40, label="start")

values = {0: [], 1: []}


def send_other(window):
    produce(stack, other_src, [(0, T0 + window * 1000 + 5, None,
                                avro(oid, v1, {"time": 0, "v": 1.0 + window}))])


# Window 0 holds a message of the id the worker has not seen.
msgs = []
for i, (sid, schema, v) in enumerate([(id1, v1, 1.0), (id2, v2, 2.0),
                                      (id1, v1, 4.0)]):
    rec = {"time": 0, "v": v, "note": "n"}
    values[0].append(v)
    msgs.append((0, T0 + 100 * (i + 1), None, avro(sid, schema, rec)))
msgs.append((0, T0 + 1100, None, avro(id1, v1, {"time": 0, "v": 8.0})))
values[1].append(8.0)

stalled_key = f'kafkaaggregator_stalled_partitions{{aggregated_topic="{out}"}}'
window = 0
for m in ("stall", "500", "html", "404", "401"):
    mode["now"] = m
    counts[m] = 0
    if m == "stall":
        produce(stack, src, msgs)
    start = time.time()
    seconds = 8
    while time.time() - start < seconds:
        send_other(window)
        window += 1
        time.sleep(0.5)
    check(w.poll() is None, f"registry answers {m}: the worker runs on")
    rate = counts[m] / seconds
    check(counts[m] <= 12, f"registry answers {m}: {counts[m]} requests in "
          f"{seconds} s (backoff)")
    check(metrics(web).get(stalled_key) == 1,
          f"registry answers {m}: the partition counts as stalled")
    check(status(web, "/ready") == 503 and status(web, "/health") == 200,
          f"registry answers {m}: /ready 503, /health 200")
    got = consume(stack, other_out, 1000, timeout=2)
    check(len(got) >= window - 2, f"registry answers {m}: the other agent "
          f"goes on ({len(got)} windows)")
    check(consume(stack, out, 10, timeout=1) == [],
          f"registry answers {m}: the waiting window is not emitted")

log = pipe.worker_log("w")
check("refused the credentials" in log, "401 is said as a credentials error")
warnings = log.count(f"writer schema id {id2}:")
check(warnings <= 6, f"{warnings} log lines about the id over 40 s")

mode["now"] = "pass"
recs = wait_for(stack, out, 1, timeout=90)
check_window(recs[0], T0, 1000, 3, {"v": values[0]},
             label="the registry back: window 0 has every message")
wait_status(web, "/ready", 200, timeout=30, label="the registry back")
check(metrics(web).get(stalled_key) == 0, "no partition stalled any more")
proxy.shutdown()
print("PASS")
