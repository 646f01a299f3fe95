#!/usr/bin/env bash
# The command line of SPEC §3: --help, --version, and exit status 2 with a
# one-line error for unknown commands, options and levels.
. "$(dirname "$0")/lib.sh"

out=$("$BIN" --version) || fail "--version failed"
[[ $out =~ ^kafkaaggregator\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$out'"

"$BIN" --help | grep -q '^usage: kafkaaggregator' || fail "--help has no usage line"

expect_usage_error() {
	local err rc
	err=$("$BIN" "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "'$*' printed more than one line: $err"
	echo "ok: $* -> $err"
}
expect_usage_error no-such-command
expect_usage_error --no-such-option
expect_usage_error -l loud dev-stack --help
for cmd in $("$BIN" --help | awk '/^commands:/{on=1; next} on && !NF {exit} on {print $1}'); do
	"$BIN" "$cmd" --help | grep -q "usage: kafkaaggregator $cmd" ||
		fail "$cmd --help has no usage line"
	expect_usage_error "$cmd" --no-such-option
done
pass
