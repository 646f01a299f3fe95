#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/, tests/fuzz/README.md) replayed on their
# committed corpora and on every input that once crashed or hung them
# (tests/fuzz/regressions/<target>/), built with clang, ASan and UBSan by
# `make fuzz-replay` (which `make check` runs first). Each target must run
# every input cleanly; a target without inputs is a failure, so that a new
# target cannot be forgotten here.
. "$(dirname "$0")/lib.sh"

FUZZ_BUILD=${FUZZ_BUILD:-$PWD/build-fuzz}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
targets=0
for src in tests/fuzz/fuzz_*.c; do
	name=${src#tests/fuzz/fuzz_}
	name=${name%.c}
	bin=$FUZZ_BUILD/fuzz/replay_$name
	[ -x "$bin" ] || fail "$bin is missing: run make fuzz-replay"
	dirs=()
	for d in tests/fuzz/corpus/$name tests/fuzz/regressions/$name; do
		[ -d "$d" ] && dirs+=("$d")
	done
	[ "${#dirs[@]}" -gt 0 ] || fail "$name: no corpus and no regressions"
	start=$SECONDS
	if ! out=$("$bin" "${dirs[@]}" 2>&1); then
		echo "$out" | tail -40 >&2
		fail "$name: an input fails (see above)"
	fi
	echo "$name: $(echo "$out" | tail -1) ($((SECONDS - start)) s)"
	targets=$((targets + 1))
done
[ "$targets" -gt 0 ] || fail "no fuzz targets"
pass
