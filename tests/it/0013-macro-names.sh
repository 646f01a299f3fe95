#!/usr/bin/env bash
# Field names that are macros (issue #10): a source whose fields are named
# after every object-like macro the compiler at hand defines in the C11
# headers (NULL, EOF, errno, INT32_MAX, M_PI, stdin, ...) and in the
# runtime headers an agent includes (KA_...), with _GNU_SOURCE as the
# Makefile builds, must give an agent that compiles with the full warning
# set even with every one of those headers included. Also checks that
# generator/names.c's fixed list still covers this compiler's headers.
. "$(dirname "$0")/lib.sh"

WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wconversion"
CFLAGS_PKG=$(pkg-config --cflags rdkafka avro-c jansson)
headers="assert complex ctype errno fenv float inttypes iso646 limits locale
math setjmp signal stdalign stdarg stdatomic stdbool stddef stdint stdio stdlib
stdnoreturn string tgmath threads time uchar wchar wctype"
includes=()
for h in $headers; do includes+=(-include "$h.h"); done
for h in $(sed -n 's/^#include "\(.*\)"$/\1/p' templates/agent.c.mustache); do
	includes+=(-include "runtime/$h")
done

# Object-like macros, as an Avro name, not starting with '_' (which an
# identifier never does), and not the record's own fields.
cc -std=c11 -D_GNU_SOURCE -Iruntime $CFLAGS_PKG "${includes[@]}" -dM -E \
	-x c /dev/null |
	awk '$2 !~ /^_/ && $2 !~ /\(/ && $2 ~ /^[A-Za-z_][A-Za-z0-9_]*$/ {print $2}' |
	grep -vxE 'time|window_size|count' | sort -u >"$TEST_TMP/macros"
n=$(wc -l <"$TEST_TMP/macros")
[ "$n" -gt 900 ] || fail "only $n macros found"
for m in NULL NAN EOF INFINITY errno INT32_MAX; do
	grep -qx "$m" "$TEST_TMP/macros" || fail "$m is not among the macros"
done

mkdir -p "$TEST_TMP/schemas" "$TEST_TMP/out"
python3 - "$TEST_TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
names = open(tmp + "/macros").read().split()
fields = [{"name": "time", "type": "double"}] + [
    {"name": n, "type": ["null", "double"] if i % 2 else "double"}
    for i, n in enumerate(names)]
json.dump({"type": "record", "name": "macros", "fields": fields},
          open(tmp + "/schemas/macro-names.avsc", "w"))
PY
cat >"$TEST_TMP/config.yaml" <<EOC
aggregated_topics:
  - name: macro-names-agg
    window_aggregation: {operations: [mean]}
    filter:
      source_topics:
        - name: macro-names
EOC
SCHEMA_REGISTRY_URL=http://127.0.0.1:9 "$BIN" generate-agents \
	--config-file "$TEST_TMP/config.yaml" --schema-dir "$TEST_TMP/schemas" \
	--output-dir "$TEST_TMP/out" >"$TEST_TMP/gen.log" 2>&1 ||
	fail "generate-agents: $(tail -3 "$TEST_TMP/gen.log")"
cc -std=c11 -D_GNU_SOURCE $WARN -Iruntime $CFLAGS_PKG "${includes[@]}" -O0 \
	-c "$TEST_TMP/out/macro_names_agg.c" -o "$TEST_TMP/agent.o" \
	2>"$TEST_TMP/cc.log" ||
	fail "the agent does not compile: $(head -5 "$TEST_TMP/cc.log")"
grep -q '^        double NULL_;$' "$TEST_TMP/out/macro_names_agg.c" ||
	fail "no member NULL_"
echo "ok: $n macro names as fields"
pass
