#!/usr/bin/env bash
# The layers of the source tree (SPEC §2): each sees only its own headers
# and those below it, and the Makefile's include paths enforce it. For
# every layer (and the generated agents) a header of each layer it may not
# see must fail to compile with that layer's flags, and one of each layer
# it may see must compile; no source reaches around the flags with a
# relative path.
. "$(dirname "$0")/lib.sh"

# What each layer may see, as the architecture says.
declare -A allowed=(
	[runtime]="runtime"
	[worker]="worker runtime"
	[generator]="generator runtime"
	[devstack]="devstack runtime"
	[tools]="tools worker generator devstack runtime"
	[agents]="runtime"
)
# One header per layer to probe with.
declare -A probe=(
	[runtime]=agent.h [worker]=worker.h [generator]=generate.h
	[devstack]=registry_server.h [tools]=cli.h
)
layers=(runtime worker generator devstack tools)
PKG=$(pkg-config --cflags rdkafka avro-c jansson libcurl yaml-0.1 libmicrohttpd)

checked=0
while read -r layer flags; do
	[ -n "${allowed[$layer]:-}" ] || fail "unknown layer '$layer' in make print-layers"
	for dir in "${layers[@]}"; do
		printf '#include "%s"\n' "${probe[$dir]}" >"$TEST_TMP/probe.c"
		if cc -std=c11 -D_GNU_SOURCE $flags $PKG -fsyntax-only \
			"$TEST_TMP/probe.c" 2>/dev/null; then
			[[ " ${allowed[$layer]} " == *" $dir "* ]] ||
				fail "$layer can include $dir/${probe[$dir]}"
		else
			[[ " ${allowed[$layer]} " != *" $dir "* ]] ||
				fail "$layer cannot include $dir/${probe[$dir]}"
		fi
		checked=$((checked + 1))
	done
done < <(make -s --no-print-directory print-layers)
[ "$checked" -eq 30 ] || fail "probed $checked layer pairs, expected 30"

srcs=()
for dir in "${layers[@]}"; do srcs+=("$dir"/*.[ch]); done
if grep -n '#include "\.\.' "${srcs[@]}" templates/*; then
	fail "a source includes through a relative path"
fi
echo "ok: $checked layer pairs probed"
pass
