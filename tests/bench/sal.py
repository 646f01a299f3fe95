"""Scale benchmark on the real workload (SPEC §14): the 402 Rubin SAL
telemetry schemas of ../shared/data/sal-telemetry/.

In one dev stack: register every <CSC>/<topic>.avsc as subject
`lsst.sal.<CSC>.<topic>-value`, write a config of one topic pattern,
`lsst\\.sal\\..*` into `{source_topic_name}-aggregated` (defaults: 1 s
windows, the seven default operations, every numeric field, arrays
element-wise), then time
- generate-agents into a new directory (402 agents),
- make -j2 of a worker from a new, empty build tree (the runtime, then
  the agents and the link, timed apart; the target is their sum plus
  generate-agents),
then check that a second generate-agents writes no file (the aggregated
subjects it registered are not taken for sources) and that the make after
it compiles nothing, run the worker against the stack until it has been
idle for IDLE_S and read its RSS (target: under 100 MB), and count what
`clang-format --dry-run` (the repository's .clang-format) would change in
the generated agents.

Then the replay: `produce` processes feed every topic at the rate of its
CSC (RATES below: 50 Hz for the fast ones, at least 1 Hz for all), and
after WARMUP_S the worker's CPU time (as % of one core) and RSS are read
over REPLAY_S seconds of steady state (SPEC §14: under 5% of one core and
100 MB), with what it consumed and emitted meanwhile (from /metrics) to
show that it kept up.

Partitions (SAL_PARTITIONS, default 1): Rubin's SAL topics have one
partition each. ts_salobj creates every topic of a CSC itself
(SalInfo: NewTopic(num_partitions=topic_info.partitions)), and ts_xml's
TopicInfo has partitions=1 unless told otherwise, which neither of its
constructors (from the XML, from the Avro schemas) does. So the dev stack
creates the 402 source topics and their aggregated topics with 1
partition before the worker starts (the mock takes about four minutes for
these 805 topics: its topic creation slows down with the number of
topics). SAL_PARTITIONS=0 leaves them to be auto-created on first use with
the mock's default of 4 (1608 source partitions): each Fetch request then
names four times the partitions. Measured on 2 shared cores (40 s
replays): 1 partition 5.6% of one core (2.2 worker thread, 3.4 librdkafka),
59 MB; 4 auto-created 8.8% (2.7, 6.1), 84 MB.
"""
import glob
import os
import re
import time

import benchlib as bl

SAL_DIR = os.environ.get("SAL_DIR", os.path.join(bl.ROOT, "..", "shared",
                                                 "data", "sal-telemetry"))
JOBS = int(os.environ.get("SAL_JOBS", "2"))
IDLE_S = float(os.environ.get("SAL_IDLE_S", "10"))
GEN_MAKE_TARGET_S = 60
RSS_TARGET_MB = 100
REPLAY_S = float(os.environ.get("SAL_REPLAY_S", "60"))
WARMUP_S = float(os.environ.get("SAL_WARMUP_S", "20"))
CPU_TARGET_PCT = 5.0
PARTITIONS = int(os.environ.get("SAL_PARTITIONS", "1"))
TEMPLATE = "{source_topic_name}-aggregated"

# Replay rates by CSC. The schemas carry no rates: these are what each
# CSC publishes in operation, rounded up to four classes, so that the
# worker sees at least the summit's load.
#  - 50 Hz, the fast ones: M1M3's force balance runs at 50 Hz and
#    publishes its actuator, hardpoint, inclinometer, IMS, gyro and
#    accelerometer telemetry each cycle; the mount (TMA) axes, drives and
#    cabinets are taken in the same band.
#  - 20 Hz: M2, the camera rotator and the hexapods, whose controllers
#    send telemetry at 20 Hz.
#  - 10 Hz: pointing kernels (MTPtg, ATPtg: mount demands and status),
#    domes (MTDome, ATDome), the auxiliary telescope's hexapod and
#    pneumatics: a few Hz in operation.
#  - 1 Hz: everything else: environment (ESS, HVAC, weather, DIMM),
#    thermal systems (MTM1M3TS), power and the cameras' housekeeping
#    (MTCamera, CCCamera, ATCamera), calibration hardware; these publish
#    once a second or less (ESS's airFlow and airTurbulence "over a period
#    on the order of a minute", its spectrumAnalyzer and
#    lightningStrikeStatus "once per second"). ATMCS packs 100 Hz samples
#    into 100-element arrays sent once a second ("at 100Hz beginning at
#    the specified time"), as ESS's accelerometers pack 400.
RATES = [
    (50, ["MTM1M3", "MTMount"]),
    (20, ["MTM2", "MTRotator", "MTHexapod"]),
    (10, ["MTPtg", "ATPtg", "MTDome", "ATDome", "ATHexapod",
          "ATPneumatics"]),
    (1, None),  # every other CSC
]


def schemas():
    """[(csc, topic, path)] of every telemetry schema."""
    out = []
    for path in sorted(glob.glob(os.path.join(SAL_DIR, "*", "*.avsc"))):
        csc = os.path.basename(os.path.dirname(path))
        out.append((csc, os.path.basename(path)[:-len(".avsc")], path))
    return out


def csc_regex(cscs):
    return "lsst\\\\.sal\\\\.(" + "|".join(cscs) + ")\\\\..*"


def write_config(name, regex, exclude=()):
    """A config of one topic pattern; returns its path."""
    path = os.path.join(bl.TMP, name)
    with open(path, "w") as f:
        f.write("# One aggregated topic per SAL telemetry topic "
                "(make bench).\naggregated_topics:\n"
                f"  - name: \"{TEMPLATE}\"\n"
                "    filter:\n"
                "      source_topics:\n"
                f"        - regex: \"{regex}\"\n")
        if exclude:
            f.write("          exclude: [" +
                    ", ".join(f'"{e}"' for e in exclude) + "]\n")
    return path


def rate_classes(items):
    """[(hz, config path, topics)] for produce, one per class of RATES."""
    out, fixed = [], []
    for hz, cscs in RATES:
        if cscs is None:
            regex, exclude = "lsst\\\\.sal\\\\..*", [csc_regex(c) for c in fixed]
            cscs = sorted({c for c, _, _ in items} - set(sum(fixed, [])))
        else:
            regex, exclude = csc_regex(cscs), ()
            fixed.append(cscs)
        topics = [f"lsst.sal.{c}.{t}" for c, t, _ in items if c in cscs]
        out.append((hz, write_config(f"sal-{hz}hz.yaml", regex, exclude),
                    topics))
    return out


def numeric_values(items):
    """{topic: numbers in one message} from MANIFEST.tsv (None: absent)."""
    path = os.path.join(SAL_DIR, "MANIFEST.tsv")
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        for line in f:
            row = dict(zip(head, line.rstrip("\n").split("\t")))
            out[row["kafka_topic"]] = int(row["n_numeric_values"])
    return out


def thread_cpu_s(pid):
    """{thread kind: CPU seconds}: the worker's own thread (decoding,
    windows, statistics, its bookkeeping) apart from librdkafka's."""
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(os.path.join(task, "comm")) as f:
                comm = f.read().strip()
            with open(os.path.join(task, "stat")) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "librdkafka" if comm.startswith("rdk:") else (
            "worker" if os.path.basename(task) == str(pid) else "other")
        out[kind] = out.get(kind, 0.0) + (int(fields[11]) + int(
            fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def run_replay(items, stack, proc, port):
    """Feeds every topic at its CSC's rate and measures the worker over
    REPLAY_S seconds of steady state; returns the figures."""
    classes = rate_classes(items)
    values = numeric_values(items) or {}
    feeders = []
    for hz, config, topics in classes:
        log = os.path.join(bl.TMP, f"sal-produce-{hz}hz.log")
        feeders.append((bl.start([bl.BIN, "produce", "--config-file", config,
                                  "--frequency", str(hz), "--max-messages",
                                  "0"], log, env=stack.environ()), log))
    time.sleep(WARMUP_S)
    for p, log in feeders:
        if p.poll() is not None:
            bl.broken(f"produce exited {p.returncode}:\n"
                      f"{bl.read_log(log)[-2000:]}")
    m0, c0, t0 = bl.metrics(port), bl.proc_cpu_s(proc.pid), time.monotonic()
    th0 = thread_cpu_s(proc.pid)
    rss = []
    while time.monotonic() - t0 < REPLAY_S:
        time.sleep(1)
        st = bl.proc_status(proc.pid)
        if st is None:
            bl.broken("the SAL worker exited during the replay")
        rss.append(st["VmRSS"] / 1024.0)
    c1, t1 = bl.proc_cpu_s(proc.pid), time.monotonic()
    th1 = thread_cpu_s(proc.pid)
    m1 = bl.metrics(port)
    hwm = bl.proc_status(proc.pid)["VmHWM"] / 1024.0
    summaries = []
    for p, log in feeders:
        bl.stop(p)
        out = bl.read_log(log).strip().splitlines()
        summaries.append(out[-1] if out else "?")
    dt = t1 - t0

    def delta(name):
        return (bl.metric_sum(m1, name) - bl.metric_sum(m0, name)) / dt

    return {
        "classes": [(hz, len(topics), hz * len(topics),
                     hz * sum(values.get(t, 0) for t in topics))
                    for hz, _, topics in classes],
        "cpu_pct": 100.0 * (c1 - c0) / dt,
        "threads": {k: 100.0 * (th1.get(k, 0) - v) / dt
                    for k, v in th0.items()},
        "rss_mean": sum(rss) / len(rss),
        "rss_max": max(rss),
        "hwm": hwm,
        "consumed": delta("kafkaaggregator_messages_total"),
        "bytes": delta("kafkaaggregator_bytes_total"),
        "windows": delta("kafkaaggregator_emitted_windows_total"),
        "errors": bl.metric_sum(m1, "kafkaaggregator_decode_errors_total"),
        "late": delta("kafkaaggregator_late_messages_total"),
        "lag": bl.metric_sum(m1, "kafkaaggregator_consumer_lag"),
        "seconds": dt,
        "feeders": summaries,
    }


def compiled(make_output):
    """Files make compiled or linked, from its `  CC`/`  LINK` lines."""
    return re.findall(r"^\s+(?:CC|LINK)\s+(\S+)", make_output, re.M)


def clang_format_report(agents):
    """(files not clean, lines flagged, an example) for the agents."""
    files = sorted(glob.glob(os.path.join(agents, "*.c")))
    bad_files, flagged, example = 0, 0, None
    # The repository's style: generated code is formatted like the rest.
    style = f"--style=file:{os.path.join(bl.ROOT, '.clang-format')}"
    for i in range(0, len(files), 50):
        out, _ = bl.run(["clang-format", "--dry-run", style] +
                        files[i:i + 50], timeout=300)
        per_file = {}
        lines = out.splitlines()
        for j, line in enumerate(lines):
            m = re.match(r"^(\S+\.c):(\d+):\d+: warning:", line)
            if not m:
                continue
            per_file[m.group(1)] = per_file.get(m.group(1), 0) + 1
            if example is None and j + 1 < len(lines):
                example = (f"{os.path.basename(m.group(1))}:{m.group(2)}: "
                           f"{lines[j + 1].strip()[:100]}")
        bad_files += len(per_file)
        flagged += sum(per_file.values())
    return len(files), bad_files, flagged, example


def print_replay(r, ntopics):
    """The replay's table and summary lines."""
    want = sum(c[2] for c in r["classes"])
    print(f"\nSAL replay: {ntopics} topics fed by produce at the rates of "
          f"their CSCs (tests/bench/sal.py RATES), {WARMUP_S:.0f} s warm-up, "
          f"then {r['seconds']:.0f} s measured\n")
    rows = [[f"{hz} Hz", str(n), f"{msgs}", f"{vals:,}"]
            for hz, n, msgs, vals in r["classes"]]
    rows.append(["total", str(sum(c[1] for c in r["classes"])), f"{want}",
                 f"{sum(c[3] for c in r['classes']):,}"])
    bl.table(["rate", "topics", "msgs/s", "numbers/s"], rows)
    print()
    rows = [
        ["messages consumed", f"{r['consumed']:.0f}/s",
         f"{r['bytes'] / 1e6:.1f} MB/s; fed {want}/s"],
        ["windows emitted", f"{r['windows']:.0f}/s",
         f"one a topic a second: {ntopics}/s"],
        ["consumer lag at the end", f"{r['lag']:.0f}", "messages"],
        ["decode errors, late messages", f"{r['errors']:.0f}, "
         f"{r['late']:.1f}/s", ""],
        ["worker CPU", f"{r['cpu_pct']:.1f}% of one core",
         f"target < {CPU_TARGET_PCT:.0f}%; idle before the replay "
         f"{r['idle_cpu']:.1f}%"],
        ["  of which its own thread",
         f"{r['threads'].get('worker', 0):.1f}%",
         "decode, windows, statistics, encode, per-partition bookkeeping"],
        ["  of which librdkafka's",
         f"{r['threads'].get('librdkafka', 0):.1f}%",
         "fetching, producing"],
        ["worker RSS", f"{r['rss_mean']:.1f} MB mean, "
         f"{r['rss_max']:.1f} MB max",
         f"peak since start {r['hwm']:.1f} MB; target < {RSS_TARGET_MB} MB"],
    ]
    bl.table(["replay", "result", "notes"], rows, ["l", "r", "l"])
    for line in r["feeders"]:
        print(f"  produce: {line[:160]}")
    kept_up = r["consumed"] >= 0.9 * want
    bl.summary("SAL replay: worker CPU, 402 topics at CSC rates",
               f"{r['cpu_pct']:.1f}% of one core ({r['consumed']:.0f} "
               f"msgs/s, {r['windows']:.0f} windows/s)",
               f"< {CPU_TARGET_PCT:.0f}%",
               ("PASS" if r["cpu_pct"] < CPU_TARGET_PCT else "below target")
               if kept_up else "fed too slowly: see the table")
    bl.summary("SAL replay: worker RSS over the measured minute",
               f"{r['rss_max']:.1f} MB max ({r['rss_mean']:.1f} mean)",
               f"< {RSS_TARGET_MB} MB",
               "PASS" if r["rss_max"] < RSS_TARGET_MB else "below target")


def main():
    items = schemas()
    if not items:
        print(f"SAL scale: skipped, no schemas under {SAL_DIR}")
        bl.summary("SAL: generate-agents + make -j2", "skipped (no data)",
                   f"< {GEN_MAKE_TARGET_S} s", "-")
        return
    config = write_config("sal-config.yaml", "lsst\\\\.sal\\\\..*")
    if PARTITIONS > 0:
        # With the partitions of production (see the top): every source
        # and aggregated topic named in a config for the dev stack.
        named = os.path.join(bl.TMP, "sal-topics.yaml")
        with open(named, "w") as f:
            f.write("aggregated_topics:\n")
            for csc, topic, _ in items:
                src = f"lsst.sal.{csc}.{topic}"
                f.write(f"  - name: \"{TEMPLATE.format(source_topic_name=src)}"
                        f"\"\n    filter:\n      source_topics:\n"
                        f"        - name: \"{src}\"\n")
        stack = bl.DevStack(config=named, partitions=PARTITIONS,
                            name="sal-devstack", start_s=600)
    else:
        # The worker's consumer has the topics auto-created, with the
        # mock's default of 4 partitions.
        stack = bl.DevStack(name="sal-devstack")
    env = stack.environ()
    kconf = os.path.join(bl.TMP, "sal-kafka.conf")
    with open(kconf, "w") as f:
        f.write("allow.auto.create.topics=true\n")

    t0 = time.monotonic()
    for csc, topic, path in items:
        with open(path) as f:
            stack.register(f"lsst.sal.{csc}.{topic}-value", f.read())
    t_register = time.monotonic() - t0

    agents = os.path.join(bl.TMP, "sal", "agents")
    build = os.path.join(bl.TMP, "sal", "build")
    worker_bin = os.path.join(bl.TMP, "sal", "kafkaaggregator")
    os.makedirs(os.path.dirname(agents))
    gen = [bl.BIN, "generate-agents", "--config-file", config,
           "--output-dir", agents, "--template-dir",
           os.path.join(bl.ROOT, "templates")]
    gen_out, t_gen, c_gen = bl.run_timed(gen, env=env, timeout=300)
    # The runtime first (the same for any agents), then agents and link.
    lib_out, t_lib, c_lib = bl.run_timed(
        ["make", f"-j{JOBS}", "--no-print-directory", "-C", bl.ROOT,
         f"BUILD={build}", f"AGENTS_DIR={agents}", f"BIN={worker_bin}",
         f"CFLAGS={bl.KA_CFLAGS}", f"LDFLAGS={bl.KA_LDFLAGS}",
         *[os.path.join(build, f"libka-{layer}.a") for layer in
           ("runtime", "worker", "generator", "devstack", "tools")],
         os.path.join(build, "tools", "main.o")], timeout=300)
    make_out, t_make, c_make = bl.build_worker(agents, worker_bin,
                                               build=build, jobs=JOBS,
                                               timeout=600)
    nagents = len(glob.glob(os.path.join(agents, "*.c"))) - 1
    size = os.path.getsize(worker_bin)
    text = None
    try:
        size_out, _ = bl.run(["size", worker_bin])
        text = int(size_out.splitlines()[1].split()[0])
    except (IndexError, ValueError):
        pass

    gen2_out, t_gen2 = bl.run(gen, env=env, timeout=300)
    m = re.search(r"\((\d+) files written, (\d+) unchanged, (\d+) removed\)",
                  gen2_out)
    written = int(m.group(1)) if m else -1
    removed = int(m.group(3)) if m else -1
    make2_out, t_make2, _ = bl.build_worker(agents, worker_bin,
                                            build=build, jobs=JOBS)
    recompiled = compiled(make2_out)

    # The worker with all of them, idle: no message on any topic.
    log = os.path.join(bl.TMP, "sal-worker.log")
    t0 = time.monotonic()
    # At info, as deployed: one log line per emitted window.
    proc = bl.start([worker_bin, "-l", "info", "worker", "--web-port", "0"],
                    log, env=stack.environ(
                        KAFKA_CONFIG_FILE=kconf,
                        KAFKA_GROUP_ID=f"bench-sal-{os.getpid()}"))
    port = int(bl.wait_log(proc, log, r"web on http://[^:]+:(\d+)",
                           90).group(1))
    # Every agent started on its lease, with its source partitions.
    started = []
    deadline = time.monotonic() + 180
    while len(started) < len(items) and time.monotonic() < deadline:
        if proc.poll() is not None:
            bl.broken(f"SAL worker exited {proc.returncode}:\n"
                      f"{bl.read_log(log)[-3000:]}")
        time.sleep(0.2)
        started = re.findall(r"started on lease \d+ \((\d+) source "
                             r"partitions", bl.read_log(log))
    if len(started) < len(items):
        bl.broken(f"{len(started)} of {len(items)} agents started within "
                  f"180 s:\n{bl.read_log(log)[-3000:]}")
    t_ready = time.monotonic() - t0
    assigned = [str(sum(int(n) for n in started))]
    idle_c0, idle_t0 = bl.proc_cpu_s(proc.pid), time.monotonic()
    time.sleep(IDLE_S)
    idle_cpu = 100.0 * (bl.proc_cpu_s(proc.pid) - idle_c0) / (
        time.monotonic() - idle_t0)
    mem = bl.proc_status(proc.pid)
    if mem is None:
        bl.broken(f"SAL worker exited {proc.returncode}:\n"
                  f"{bl.read_log(log)[-3000:]}")

    replay = run_replay(items, stack, proc, port)
    replay["idle_cpu"] = idle_cpu
    rc = bl.stop(proc)
    if rc != 0:
        bl.broken(f"SAL worker exited {rc}:\n{bl.read_log(log)[-3000:]}")
    nfiles, bad_files, flagged, example = clang_format_report(agents)
    stack.stop()

    total = t_gen + t_lib + t_make
    # What 2 idle cores would take: make -j2 keeps both busy (the link
    # aside), so its CPU time over the cores it may use.
    ideal = c_gen + (c_lib + c_make) / JOBS
    rss_mb = mem["VmRSS"] / 1024.0
    print(f"SAL scale: {len(items)} telemetry schemas of "
          f"{len(set(c for c, _, _ in items))} CSCs; one aggregated topic "
          f"per schema; make -j{JOBS}, CFLAGS {bl.KA_CFLAGS}\n")
    rows = [
        ["register 402 schemas in the dev stack", f"{t_register:.1f} s", "",
         ""],
        ["generate-agents", f"{t_gen:.1f} s", f"{c_gen:.1f} s",
         f"{nagents} agents + agents_table.c"],
        ["make: runtime (libka.a, main.o), empty tree", f"{t_lib:.1f} s",
         f"{c_lib:.1f} s", f"{len(compiled(lib_out))} files"],
        ["make: agents + link", f"{t_make:.1f} s", f"{c_make:.1f} s",
         f"{len(compiled(make_out))} files"],
        ["generate-agents + make, total", f"{total:.1f} s",
         f"{c_gen + c_lib + c_make:.1f} s",
         f"target < {GEN_MAKE_TARGET_S} s; on 2 idle cores ~{ideal:.0f} s"],
        ["worker binary", f"{size / 1048576:.1f} MB", "",
         f"text {text / 1048576:.1f} MB" if text else ""],
        ["generate-agents again", f"{t_gen2:.1f} s", "",
         f"{written} written, {removed} removed (want 0, 0)"],
        ["make again", f"{t_make2:.1f} s", "",
         f"{len(recompiled)} compiled/linked (want 0)"
         + (f": {' '.join(recompiled[:5])}" if recompiled else "")],
        ["worker start to every agent started", f"{t_ready:.1f} s", "",
         f"{assigned[-1] if assigned else '?'} source partitions "
         f"({PARTITIONS or 'auto-created, 4'} a topic)"],
        [f"worker RSS, idle {IDLE_S:.0f} s", f"{rss_mb:.1f} MB", "",
         f"peak {mem['VmHWM'] / 1024.0:.1f} MB; target < "
         f"{RSS_TARGET_MB} MB"],
        ["clang-format --dry-run on the agents",
         f"{bad_files}/{nfiles} files", "", f"{flagged} places flagged"],
    ]
    bl.table(["step", "wall/result", "CPU", "notes"], rows,
             ["l", "r", "r", "l"])
    if example:
        print(f"  e.g. {example}")

    bl.summary("SAL: generate-agents + make -j2 (402 agents, empty tree)",
               f"{total:.1f} s (generate {t_gen:.1f} + runtime {t_lib:.1f}"
               f" + agents {t_make:.1f}; CPU/2 ~{ideal:.0f} s)",
               f"< {GEN_MAKE_TARGET_S} s",
               "PASS" if total < GEN_MAKE_TARGET_S else "below target")
    bl.summary("SAL: worker RSS, 402 agents loaded and idle",
               f"{rss_mb:.1f} MB (binary {size / 1048576:.1f} MB)",
               f"< {RSS_TARGET_MB} MB",
               "PASS" if rss_mb < RSS_TARGET_MB else "below target")
    bl.summary("SAL: second generate-agents + make",
               f"{written} files written, {len(recompiled)} compiled",
               "0 and 0",
               "PASS" if written == 0 and removed == 0 and not recompiled
               else "FAIL")
    print_replay(replay, len(items))
    bl.summary("SAL: clang-format clean agents",
               f"{nfiles - bad_files}/{nfiles} files clean "
               f"({flagged} places flagged)", "all clean (SPEC §12)",
               "PASS" if not bad_files else "not clean")


if __name__ == "__main__":
    main()
