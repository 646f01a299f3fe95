"""Scale-out with the cooperative-sticky assignor set in KAFKA_CONFIG_FILE
(issue 10): the lease consumer assigns and revokes incrementally. Two
workers share the agents while data flows; one leaves with SIGTERM and
comes back, the other is killed: every window is present, complete and
exact, and repeats are identical."""
import signal
import time

from katest import check
from scaleout import Cluster

c = Cluster("partition.assignment.strategy=cooperative-sticky\n")
c.start("w1")
c.start("w2")
c.wait_owned(label="two workers, cooperative-sticky")
stop_flow = c.flow()
time.sleep(2)
rc, took = c.kill("w1", signal.SIGTERM)
check(rc == 0 and took < 10, f"w1: SIGTERM, exit {rc} after {took:.1f} s")
c.wait_owned(label="w1 left")
c.start("w1")
c.wait_ready("w1")
c.wait_owned(label="w1 back")
time.sleep(2)
c.kill("w2")
c.wait_owned(label="w2 killed")
time.sleep(2)
windows = stop_flow()
check(len(windows) > 5, f"{len(windows)} windows produced")
repeats = c.verify(windows, "cooperative-sticky")
check(True, f"{repeats} repeated records, all identical")
c.kill("w1", signal.SIGTERM)
check("assignor cooperative-sticky (incremental rebalancing)"
      in c.pipe.worker_log("w1"), "the worker rebalanced incrementally")
print("PASS")
