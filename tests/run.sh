#!/usr/bin/env bash
# Runs every test `make tests` built: the cmocka unit binaries in
# $BUILD/tests/, then the numbered integration tests of tests/it/ (shell
# scripts and C programs) in order. Each cmocka case counts once, each
# integration test once. Ends with "N passed, M failed" and fails on any
# failure. TESTS=REGEX runs only the tests whose path matches the extended
# regular expression anywhere (TESTS=0027, TESTS='test_|000|001').
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BIN=${BIN:-$PWD/kafkaaggregator}
export BUILD
export CMOCKA_MESSAGE_OUTPUT=stdout
logs=$BUILD/test-logs
mkdir -p "$logs"
pattern=${TESTS:-}
passed=0 failed=0 skipped=0
failures=()

run_unit() {
	local bin=$1 name log p f rc
	name=$(basename "$bin")
	log=$logs/$name.log
	timeout 600 "$bin" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
	p=${p:-0} f=${f:-0}
	# A crash or a non-zero exit with no failed case still fails once.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	printf '%-40s %3d passed, %d failed\n' "$name" "$p" "$f"
	if [ "$f" -gt 0 ]; then failures+=("$log"); fi
}

run_it() {
	local t=$1 name log rc start
	name=$(basename "$t")
	name=${name%.sh}
	name=${name%.py}
	log=$logs/it-$name.log
	start=$SECONDS
	if [[ "$t" == *.py ]]; then
		timeout 600 python3 "$t" >"$log" 2>&1
	else
		timeout 600 "$t" >"$log" 2>&1
	fi
	rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		printf '%-40s ok (%ds)\n' "$name" $((SECONDS - start))
	elif [ "$rc" -eq 77 ]; then
		skipped=$((skipped + 1))
		printf '%-40s skipped: %s\n' "$name" "$(tail -1 "$log")"
	else
		failed=$((failed + 1))
		failures+=("$log")
		printf '%-40s FAILED (exit %d, %ds)\n' "$name" "$rc" \
			$((SECONDS - start))
	fi
}

for bin in "$BUILD"/tests/test_*; do
	[ -x "$bin" ] || continue
	[[ -z "$pattern" || "$bin" =~ $pattern ]] || continue
	run_unit "$bin"
done

its=()
for t in tests/it/[0-9]*.sh tests/it/[0-9]*.py; do
	[ -e "$t" ] && its+=("$t")
done
for t in "$BUILD"/tests/it/[0-9]*; do [ -x "$t" ] && its+=("$t"); done
while IFS= read -r t; do
	[ -n "$t" ] || continue
	[[ -z "$pattern" || "$t" =~ $pattern ]] || continue
	run_it "$t"
done < <(for t in "${its[@]}"; do
	printf '%s\t%s\n' "$(basename "$t")" "$t"
done | sort | cut -f2)

for log in "${failures[@]}"; do
	echo
	echo "==== $log (last 40 lines)"
	tail -40 "$log"
done

echo
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
