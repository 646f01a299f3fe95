"""Scale out and fail over with complete windows (SPEC §10, §11): three
workers share six agents over twelve source partitions, each agent owned
by exactly one of them; every window comes out once and complete. One
worker is killed (SIGKILL) while data flows: its agents move to the others
from its last commit; it is started again later. Every window of every
agent is then present, complete and exact, and repeats are identical."""
import time

from katest import check, metrics
from scaleout import AGENTS, Cluster

c = Cluster()
for name in ("w1", "w2", "w3"):
    c.start(name)
took = c.wait_owned(label="three workers")
sets = {n: c.owned(n) for n in c.workers}
check(all(1 <= len(s) <= 3 for s in sets.values()),
      f"agents balanced across the workers: "
      f"{ {n: len(s) for n, s in sets.items()} }")

for w in range(0, 6):
    c.send(w)
repeats = c.verify(range(0, 5), "three workers")
check(repeats == 0, "no window emitted twice while nothing failed")

victim = max(sets, key=lambda n: len(sets[n]))
killed_at = time.time()
c.kill(victim)
for w in range(6, 10):  # data flows during the takeover
    c.send(w)
took = c.wait_owned(label="after the kill")
check(True, f"the killed worker's agents taken over in "
      f"{time.time() - killed_at:.1f} s")
for w in range(10, 13):
    c.send(w)
c.start(victim)
c.wait_owned(label="the killed worker back")
for w in range(13, 16):
    c.send(w)
# The last windows close once the partitions go idle.
c.verify(range(0, 16), "after kill and restart")

# Each worker's lag series are those of the agents it owns now: a moved
# agent's series went with it.
for name in c.workers:
    lagged = {k.split('aggregated_topic="')[1].split('"')[0]
              for k in metrics(c.workers[name][1])
              if k.startswith("kafkaaggregator_consumer_lag{")}
    check(lagged == c.owned(name), f"{name}: lag series of exactly its "
          f"{len(lagged)} agents")
print("PASS")
