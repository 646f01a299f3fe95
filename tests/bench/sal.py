"""Scale benchmark on the real workload (SPEC §14): the 402 Rubin SAL
telemetry schemas of ../shared/data/sal-telemetry/.

In one dev stack: register every <CSC>/<topic>.avsc as subject
`lsst.sal.<CSC>.<topic>-value`, write a config with one aggregated topic
`lsst.sal.<CSC>.<topic>-aggregated` per telemetry topic (defaults: 1 s
windows, the seven default operations, every numeric field), then time
- generate-agents into a new directory,
- make -j2 of a worker from a new, empty build tree (the runtime, then
  the agents and the link, timed apart; the target is their sum plus
  generate-agents),
then check that a second generate-agents writes no file and that the make
after it compiles nothing, run the worker against the stack (its consumer
has the 402 source topics auto-created, 4 partitions each) until it has
been idle for IDLE_S and read its RSS (target: under 100 MB), and count
what `clang-format --dry-run` (the repository's .clang-format) would
change in the generated agents.
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


def schemas():
    """[(csc, topic, path)] of every telemetry schema."""
    out = []
    for path in sorted(glob.glob(os.path.join(SAL_DIR, "*", "*.avsc"))):
        csc = os.path.basename(os.path.dirname(path))
        out.append((csc, os.path.basename(path)[:-len(".avsc")], path))
    return out


def write_config(items):
    path = os.path.join(bl.TMP, "sal-config.yaml")
    with open(path, "w") as f:
        f.write("# One aggregated topic per SAL telemetry topic "
                "(make bench).\naggregated_topics:\n")
        for csc, topic, _ in items:
            src = f"lsst.sal.{csc}.{topic}"
            f.write(f"  - name: {src}-aggregated\n"
                    f"    filter:\n"
                    f"      source_topics:\n"
                    f"        - name: {src}\n")
    return path


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


def main():
    items = schemas()
    if not items:
        print(f"SAL scale: skipped, no schemas under {SAL_DIR}")
        bl.summary("SAL: generate-agents + make -j2", "skipped (no data)",
                   f"< {GEN_MAKE_TARGET_S} s", "-")
        return
    config = write_config(items)
    # Topics are not created from the config: the mock creates one a
    # second or so through rd_kafka_mock_topic_create() once there are a
    # few hundred (minutes for these 804). The worker's consumer has them
    # auto-created instead, with the mock's default of 4 partitions.
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
         os.path.join(build, "libka.a"),
         os.path.join(build, "runtime", "main.o")], timeout=300)
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
    proc = bl.start([worker_bin, "-l", "info", "worker", "--web-port", "0"],
                    log, env=stack.environ(
                        KAFKA_CONFIG_FILE=kconf,
                        KAFKA_GROUP_ID=f"bench-sal-{os.getpid()}"))
    bl.wait_log(proc, log, r"assigned \d+ partitions", 90)
    t_ready = time.monotonic() - t0
    time.sleep(IDLE_S)
    mem = bl.proc_status(proc.pid)
    assigned = re.findall(r"assigned (\d+) partitions", bl.read_log(log))
    rc = bl.stop(proc)
    if mem is None or rc != 0:
        bl.broken(f"SAL worker exited {proc.returncode}:\n"
                  f"{bl.read_log(log)[-3000:]}")
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
        ["worker start to partitions assigned", f"{t_ready:.1f} s", "",
         f"{assigned[-1] if assigned else '?'} partitions (4 a topic)"],
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
    bl.summary("SAL: clang-format clean agents",
               f"{nfiles - bad_files}/{nfiles} files clean "
               f"({flagged} places flagged)", "all clean (SPEC §12)",
               "PASS" if not bad_files else "not clean")


if __name__ == "__main__":
    main()
