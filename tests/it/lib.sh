# Shared by the integration scripts: strict mode, fail/pass, and cleanup of
# every process a test started.
set -euo pipefail
BIN=${BIN:-$PWD/kafkaaggregator}
TEST_NAME=$(basename "$0" .sh)
TEST_TMP=$(mktemp -d "/tmp/ka-$TEST_NAME.XXXXXX")
KA_PIDS=()

cleanup() {
	local pid
	for pid in "${KA_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${KA_PIDS[@]}"; do
		# Bounded wait, then force.
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$TEST_TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $TEST_NAME: $*" >&2
	exit 1
}

pass() {
	echo "PASS: $TEST_NAME"
	exit 0
}

# Skips the test (exit 77) where promtool (Debian's prometheus) is missing.
require_promtool() {
	if ! command -v promtool >/dev/null; then
		echo "skip: promtool is not installed (Debian package prometheus)"
		exit 77
	fi
}
