#!/usr/bin/env bash
# The templates are built into the binary: generate-agents run from a
# directory with no templates/ renders what the golden case expects, byte
# for byte; --template-dir still overrides them, and a template directory
# that is missing or holds a broken template is an error naming the file.
. "$(dirname "$0")/lib.sh"

root=$PWD
case_dir=tests/golden/example
# The case under the same relative path, so that the generated first line
# (the config path as typed) is the golden one.
mkdir -p "$TEST_TMP/work/tests/golden" "$TEST_TMP/elsewhere"
cp -r "$case_dir" "$TEST_TMP/work/tests/golden/"
cd "$TEST_TMP/work"
[ ! -e templates ] || fail "the working directory has templates/"

# gen OUTPUT [OPTIONS]: offline generation of the example case.
gen() {
	SCHEMA_REGISTRY_URL=http://127.0.0.1:9 "$BIN" generate-agents \
		--config-file "$case_dir/config.yaml" \
		--schema-dir "$case_dir/schemas" --output-dir "$1" "${@:2}"
}

gen out-built-in >gen.log 2>&1 || fail "generate-agents without templates/ failed: $(cat gen.log)"
diff -r "$root/$case_dir/expected" out-built-in ||
	fail "the built-in templates rendered other files than expected/"
echo "ok: built-in templates from $PWD"

# The repository's templates given explicitly render the same.
gen out-repo --template-dir "$root/templates" >gen.log 2>&1 ||
	fail "generate-agents --template-dir $root/templates failed: $(cat gen.log)"
diff -r out-built-in out-repo || fail "--template-dir templates/ differs from the built-in ones"

# A changed template directory wins over the built-in templates.
cp -r "$root/templates" "$TEST_TMP/elsewhere/mine"
echo '/* rendered from my template */' >>"$TEST_TMP/elsewhere/mine/agent.c.mustache"
gen out-mine --template-dir "$TEST_TMP/elsewhere/mine" >gen.log 2>&1 ||
	fail "generate-agents --template-dir mine failed: $(cat gen.log)"
[ "$(tail -1 out-mine/aggregated_example_000.c)" = '/* rendered from my template */' ] ||
	fail "--template-dir did not override the agent template"
diff <(head -n -1 out-mine/aggregated_example_000.c) out-built-in/aggregated_example_000.c ||
	fail "--template-dir changed more than its one line"
cmp -s out-mine/agents_table.c out-built-in/agents_table.c ||
	fail "the table template of --template-dir differs"
echo "ok: --template-dir overrides"

# expect_fail REGEX OPTIONS: exit 1 and one line on stderr matching.
expect_fail() {
	local pattern=$1 err rc
	shift
	err=$(gen out-bad "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[ "$rc" -eq 1 ] || fail "exit $rc, expected 1: $err"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "more than one line: $err"
	[[ $err =~ $pattern ]] || fail "'$err' does not match '$pattern'"
	echo "ok: $err"
}
expect_fail "$TEST_TMP/elsewhere/none/agent.c.mustache: No such file" \
	--template-dir "$TEST_TMP/elsewhere/none"
printf 'line\n{{#open}}\n' >"$TEST_TMP/elsewhere/mine/agent.c.mustache"
expect_fail "$TEST_TMP/elsewhere/mine/agent.c.mustache:2:[0-9]+: error: .*open" \
	--template-dir "$TEST_TMP/elsewhere/mine"
[ ! -e out-bad ] || [ -z "$(ls out-bad)" ] || fail "a failed generation wrote files: $(ls out-bad)"
pass
