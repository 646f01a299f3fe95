#!/usr/bin/env bash
# `make bench` (SPEC §14): performance measured as ratios against baselines
# measured in the same run, plus memory; never a timed test. Runs, in order:
#   1. bench_hotpath   decode + window + statistics in process, one core
#   2. bench_window, bench_stats   the two halves of it, apart
#   3. e2e.py          worker vs a plain librdkafka consumer, dev stack
#   4. sal.py          402 SAL telemetry agents from one topic pattern:
#                      generate, build, idle RSS, then the replay (every
#                      topic fed at its CSC's rate: worker CPU and RSS)
# then prints a summary against the SPEC targets. Exits 0 unless a step
# broke (crashed, failed, timed out); slow numbers are reported, not
# failed. Everything a step starts is stopped when it ends (127.0.0.1
# only). BENCH=hotpath,micro,e2e,sal picks steps; BUILD and BIN as for
# make.
set -u
cd "$(dirname "$0")/../.." || exit 1
export BUILD=${BUILD:-build}
export BIN=${BIN:-$PWD/kafkaaggregator}
BENCH_BIN=$BUILD/bench
steps=${BENCH:-hotpath,micro,e2e,sal}
out=$(mktemp -d /tmp/ka-bench-run-XXXXXX)
trap 'rm -rf "$out"' EXIT
broken=()
start=$SECONDS

# step NAME TIMEOUT_S COMMAND...: runs one step, shows its output but the
# SUMMARY| lines, which are kept for the end.
step() {
	local name=$1 limit=$2 rc
	shift 2
	printf '\n==== %s ====\n\n' "$name"
	timeout "$limit" "$@" >"$out/$name.log" 2>&1
	rc=$?
	grep -v '^SUMMARY|' "$out/$name.log"
	grep '^SUMMARY|' "$out/$name.log" >>"$out/summary"
	if [ "$rc" -ne 0 ]; then
		[ "$rc" -eq 124 ] && echo "($name: timed out after $limit s)"
		broken+=("$name (exit $rc)")
		echo "SUMMARY|$name|broke: exit $rc|-|ERROR" >>"$out/summary"
	fi
}

wanted() { [[ ",$steps," == *",$1,"* ]]; }

echo "kafkaaggregator benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' \
	/proc/cpuinfo | head -1); load average $(cut -d' ' -f1-3 \
	/proc/loadavg) at start"
echo "build: $BUILD, CFLAGS ${KA_CFLAGS:--O2 -g}; binary $BIN"
: >"$out/summary"

if wanted hotpath; then
	step hotpath 300 "$BENCH_BIN/bench_hotpath" 0.2
fi
if wanted micro; then
	step window 120 "$BENCH_BIN/bench_window" 10000000
	step stats 120 "$BENCH_BIN/bench_stats" 0.1
fi
if wanted e2e; then
	step e2e 600 python3 tests/bench/e2e.py
fi
if wanted sal; then
	step sal 900 python3 tests/bench/sal.py
fi

printf '\n==== summary (%d s; load average %s at the end) ====\n\n' \
	$((SECONDS - start)) "$(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'|' '
	BEGIN { n = 1; c[1, 1] = "measurement"; c[1, 2] = "result";
		c[1, 3] = "target"; c[1, 4] = "verdict" }
	{ n++; for (j = 1; j <= 4; j++) c[n, j] = $(j + 1) }
	END {
		for (i = 1; i <= n; i++)
			for (j = 1; j <= 4; j++)
				if (length(c[i, j]) > w[j]) w[j] = length(c[i, j])
		for (i = 1; i <= n; i++) {
			printf "%-" w[1] "s  %-" w[2] "s  %-" w[3] "s  %s\n", \
				c[i, 1], c[i, 2], c[i, 3], c[i, 4]
			if (i == 1)
				printf "%s  %s  %s  %s\n", dash(w[1]), dash(w[2]), \
					dash(w[3]), dash(w[4])
		}
	}
	function dash(k,   s) { s = ""; while (k-- > 0) s = s "-"; return s }' "$out/summary"
if [ ${#broken[@]} -gt 0 ]; then
	echo
	echo "bench: broken: ${broken[*]}"
	exit 1
fi
echo
echo "bench: done; numbers below a target are reported, not failed"
exit 0
