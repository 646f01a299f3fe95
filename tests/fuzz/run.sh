#!/usr/bin/env bash
# `make fuzz`: runs every fuzz target (or those of FUZZ=a,b) for FUZZ_TIME
# seconds each under nice, on a scratch copy of its committed corpus
# (tests/fuzz/corpus/<target>/), with its dictionary when there is one, and
# prints the executions of each. New crashes land in
# $FUZZ_BUILD/crashes/<target>/; copy each into
# tests/fuzz/regressions/<target>/ with its fix. FUZZ_JOBS runs that many
# targets at once; FUZZ_ARGS adds libFuzzer options; FUZZ_KEEP=1 keeps
# what a run added to the scratch corpus (for -merge=1 into the committed
# one), and starts from it again the next time.
set -u
cd "$(dirname "$0")/../.."
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_TIME=${FUZZ_TIME:-60}
FUZZ_JOBS=${FUZZ_JOBS:-1}
FUZZ_ARGS=${FUZZ_ARGS:-}
# A smaller quarantine, and freed memory kept: ASan's page faults are dear
# in a VM, and the schema targets allocate a block a node.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=64:allocator_release_to_os_interval_ms=10000}
targets=()
for bin in "$FUZZ_BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	if [ -n "${FUZZ:-}" ] && [[ ",$FUZZ," != *",$name,"* ]]; then
		continue
	fi
	targets+=("$name")
done
[ "${#targets[@]}" -gt 0 ] || { echo "fuzz: no targets" >&2; exit 1; }

run_one() {
	local name=$1 work=$FUZZ_BUILD/work/$1 log=$FUZZ_BUILD/logs/$1.log
	local dict=() crashes=$FUZZ_BUILD/crashes/$1
	[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$work"
	mkdir -p "$work" "$crashes" "$FUZZ_BUILD/logs"
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -r "tests/fuzz/corpus/$name/." "$work/"
	fi
	[ -f "tests/fuzz/dict/$name.dict" ] &&
		dict=(-dict="tests/fuzz/dict/$name.dict")
	# shellcheck disable=SC2086
	nice -n 19 "$FUZZ_BUILD/fuzz/fuzz_$name" "${dict[@]}" \
		-max_total_time="$FUZZ_TIME" -timeout=25 -rss_limit_mb=2560 \
		-print_final_stats=1 -artifact_prefix="$crashes/" $FUZZ_ARGS \
		"$work" >"$log" 2>&1
	echo $? >"$log.rc"
}

pids=()
for name in "${targets[@]}"; do
	run_one "$name" &
	pids+=($!)
	while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
done
wait

failed=0 total=0
printf '%-22s %14s %8s %10s  %s\n' target executions seconds execs/s result
for name in "${targets[@]}"; do
	log=$FUZZ_BUILD/logs/$name.log
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" |
		tail -1)
	runs=${runs:-0} secs=${secs:-$FUZZ_TIME}
	rc=$(cat "$log.rc" 2>/dev/null || echo 1)
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FAILED (exit $rc, see $log)"
		failed=$((failed + 1))
	fi
	total=$((total + runs))
	printf '%-22s %14d %8d %10d  %s\n' "$name" "$runs" "$secs" \
		$((runs / (secs > 0 ? secs : 1))) "$result"
	[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$FUZZ_BUILD/work/$name"
done
printf '%-22s %14d\n' total "$total"
[ "$failed" -eq 0 ]
