"""Failover under fire (SPEC §10, §11): workers are killed with SIGKILL at
random while data flows, each started again after a random pause, with at
least one always alive. Every window of every agent is then present,
complete and exact, and repeated windows are identical. Prints the
repeats and the takeover times (from the kill until the live workers own
every agent). KA_SOAK_KILLS sets the number of kills (3 here; `make soak`
runs 30)."""
import os
import random

from katest import check
from scaleout import Cluster, median, sigkill_round

kills = int(os.environ.get("KA_SOAK_KILLS", "3"))
rng = random.Random(int(os.environ.get("KA_TEST_SEED", "5")))
c = Cluster()
names = ["w1", "w2", "w3"]
for name in names:
    c.start(name)
c.wait_owned(label="three workers")
takeovers, windows = sigkill_round(c, kills, rng)
repeats = c.verify(windows, f"{kills} SIGKILLs")
check(True, f"{kills} kills over {len(windows)} windows: {repeats} repeated "
      f"records; takeover median {median(takeovers):.1f} s, max "
      f"{max(takeovers):.1f} s")
print("PASS")
