#!/bin/bash
# Entrypoint of the generate-at-start image (Dockerfile target `generate`):
# what the original tool did with `generate-agents && worker`. Before the
# worker starts, it renders the agents of the mounted config against the
# Schema Registry and compiles them into a worker binary, all inside a
# writable cache directory (a volume: the root filesystem may be
# read-only), then execs that binary with the container's arguments.
#
# Only what changed is rebuilt: generate-agents rewrites only changed files
# and make compiles only those, so a restart with the same config and
# schemas compiles nothing. The runtime's objects come prebuilt with the
# image and are copied into the cache once per image.
#
# Commands other than `worker` and `agents` (init-example, produce, consume,
# generate-agents, --version, ...) need no agents and run at once.
#
# Environment:
#   AGGREGATOR_CONFIG_FILE     the config (required for worker and agents)
#   KAFKAAGGREGATOR_CACHE_DIR  writable cache (/var/cache/kafkaaggregator)
#   MAKE_JOBS                  parallel compilers (2)
#   GENERATE_AGENTS_OPTIONS    more generate-agents options, e.g.
#                              "--compatibility NONE"
#   GENERATE_RETRIES           tries of generate-agents while the registry
#                              is unreachable (exit status 1) (5)
# and what the commands read: SCHEMA_REGISTRY_URL, KAFKA_BROKER_URL, ...
# The image's layout, which tests/it/0034 points elsewhere:
#   KAFKAAGGREGATOR_SOURCE_DIR    the Makefile, the sources and templates/
#                                 (/opt/kafkaaggregator)
#   KAFKAAGGREGATOR_PREBUILT_DIR  the runtime built there ($SOURCE_DIR/build)
#   KAFKAAGGREGATOR_GENERATOR     a binary without agents, for
#                                 generate-agents ($PREBUILT_DIR/kafkaaggregator)
set -euo pipefail

src=${KAFKAAGGREGATOR_SOURCE_DIR:-/opt/kafkaaggregator}
prebuilt=${KAFKAAGGREGATOR_PREBUILT_DIR:-$src/build}
generator=${KAFKAAGGREGATOR_GENERATOR:-$prebuilt/kafkaaggregator}
cache=${KAFKAAGGREGATOR_CACHE_DIR:-/var/cache/kafkaaggregator}
jobs=${MAKE_JOBS:-2}
retries=${GENERATE_RETRIES:-5}

# The worker's log format: [time] [pid] [LEVEL] message, on stderr.
log() {
	local level=$1
	shift
	printf '[%s] [%d] [%s] %s\n' "$(date '+%Y-%m-%d %H:%M:%S,%3N')" $$ \
		"$level" "$*" >&2
}

# The command is the first argument that is not a global option.
command=
i=1
while [ "$i" -le $# ]; do
	arg=${!i}
	case $arg in
	-l | --loglevel) i=$((i + 2)) ;;
	-*) i=$((i + 1)) ;;
	*)
		command=$arg
		break
		;;
	esac
done
case $command in
worker | agents) ;;
*) exec "$generator" "$@" ;;
esac

config=${AGGREGATOR_CONFIG_FILE:-}
if [ -z "$config" ]; then
	log ERROR "AGGREGATOR_CONFIG_FILE is not set: mount the config and" \
		"point AGGREGATOR_CONFIG_FILE at it"
	exit 2
fi
if [ ! -r "$config" ]; then
	log ERROR "AGGREGATOR_CONFIG_FILE $config: cannot read it"
	exit 2
fi
mkdir -p "$cache" || {
	log ERROR "cache $cache is not writable: mount a volume there"
	exit 1
}

# One build at a time in a cache (a shared volume would otherwise see two
# makes at once); the lock is released before the worker starts.
exec 9>"$cache/.lock"
flock 9

# The prebuilt runtime, copied with its timestamps so that make sees it up
# to date; a cache filled by another image is started afresh.
image_id=$(cat "$prebuilt"/libka-*.a "$prebuilt/tools/main.o" | cksum)
if [ "$(cat "$cache/image-id" 2>/dev/null)" != "$image_id" ]; then
	log INFO "cache $cache: seeding the prebuilt runtime"
	rm -rf "$cache/build" "$cache/kafkaaggregator" "$cache/image-id"
	cp -a "$prebuilt" "$cache/build"
	printf '%s\n' "$image_id" >"$cache/image-id"
fi

# generate-agents exits 2 on a bad config (retrying cannot help) and 1 on
# operational failures such as an unreachable registry.
log INFO "generate-agents --config-file $config"
# shellcheck disable=SC2086 # GENERATE_AGENTS_OPTIONS is a list of words
for try in $(seq "$retries"); do
	rc=0
	"$generator" generate-agents --config-file "$config" \
		--output-dir "$cache/agents" --template-dir "$src/templates" \
		${GENERATE_AGENTS_OPTIONS:-} >&2 || rc=$?
	if [ "$rc" -eq 0 ] || [ "$rc" -ne 1 ] || [ "$try" -eq "$retries" ]; then
		break
	fi
	log WARNING "generate-agents failed (try $try of $retries); retrying in" \
		"$((try * 5)) s"
	sleep $((try * 5))
done
if [ "$rc" -ne 0 ]; then
	log ERROR "generate-agents exited $rc"
	exit "$rc"
fi

log INFO "make: compiling what changed"
make -C "$src" --no-print-directory -j"$jobs" BUILD="$cache/build" \
	BIN="$cache/kafkaaggregator" AGENTS_DIR="$cache/agents" \
	"$cache/kafkaaggregator" >&2
# What the worker will run, in its log (the agents command prints it anyway).
if [ "$command" = worker ]; then
	"$cache/kafkaaggregator" agents >&2
fi

exec 9>&-
exec "$cache/kafkaaggregator" "$@"
