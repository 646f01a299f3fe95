"""A rolling restart (SPEC §10, §11): each of three workers in turn is
stopped with SIGTERM while data flows, then started again. A worker that
leaves hands its agents over: it waits for its deliveries and commits
before it leaves, and exits 0 within 10 s. No window is lost and none is
partial; repeats, if any, are identical."""
import signal
import time

from katest import check
from scaleout import Cluster

c = Cluster()
for name in ("w1", "w2", "w3"):
    c.start(name)
c.wait_owned(label="three workers")
stop_flow = c.flow()
handovers = []
for name in ("w1", "w2", "w3"):
    time.sleep(1.5)
    start = time.time()
    rc, took = c.kill(name, signal.SIGTERM)
    check(rc == 0 and took < 10,
          f"{name}: SIGTERM, exit {rc} after {took:.1f} s")
    c.wait_owned(label=f"{name} stopped")
    handovers.append(time.time() - start)
    c.start(name)
    c.wait_ready(name)
    c.wait_owned(label=f"{name} back")
windows = stop_flow()
check(len(windows) > 10, f"{len(windows)} windows produced during the restart")
repeats = c.verify(windows, "rolling restart")
check(True, f"handovers took {', '.join(f'{h:.1f}' for h in handovers)} s; "
      f"{repeats} repeated records")
print("PASS")
