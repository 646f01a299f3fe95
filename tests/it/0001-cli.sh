#!/usr/bin/env bash
# The command line of SPEC §3: --version; --help of the top level and of
# every command in one layout (usage lines first, a description paragraph,
# an Options: list holding every option of the usage lines and -h, --help,
# descriptions aligned, defaults as "(default: X)", an Environment: list
# where there is one, 79 columns), exit 0 with nothing on stderr; exit
# status 2 with a one-line error for unknown commands, options and levels.
. "$(dirname "$0")/lib.sh"

out=$("$BIN" --version) || fail "--version failed"
[[ $out =~ ^kafkaaggregator\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$out'"

# check_help NAME ARGS...: runs ARGS --help and checks the layout.
check_help() {
	local name=$1 rc
	shift
	"$@" --help >"$TEST_TMP/help.out" 2>"$TEST_TMP/help.err" && rc=0 || rc=$?
	[ "$rc" -eq 0 ] || fail "$name --help exited $rc"
	[ ! -s "$TEST_TMP/help.err" ] || fail "$name --help wrote to stderr: $(cat "$TEST_TMP/help.err")"
	python3 - "$name" "$TEST_TMP/help.out" <<'PY' || fail "$name --help: layout (above)"
import re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
lines = text.split("\n")
assert text.endswith("\n") and not text.endswith("\n\n"), "trailing lines"
lines.pop()
errors = []
def err(msg):
    errors.append(msg)

for i, line in enumerate(lines):
    if len(line) > 79:
        err(f"line {i + 1} is {len(line)} columns: {line!r}")
    if line != line.rstrip():
        err(f"line {i + 1} ends in spaces: {line!r}")
# Blocks separated by one blank line.
blocks, cur = [], []
for line in lines:
    if line:
        cur.append(line)
    elif cur:
        blocks.append(cur)
        cur = []
    else:
        err("two blank lines in a row")
blocks.append(cur)
usage, rest = blocks[0], blocks[1:]
want = "usage: kafkaaggregator " + ("" if name == "kafkaaggregator" else name + " ")
if not usage[0].startswith(want if name != "kafkaaggregator" else want + "["):
    err(f"first line is not '{want}...': {usage[0]!r}")
for line in usage[1:]:
    if not line.startswith(" ") and not line.startswith("usage:"):
        err(f"usage goes on in a line not indented: {line!r}")
if not rest or rest[0][0].startswith(" ") or rest[0][0].endswith(":"):
    err("no description paragraph after the usage")
elif not rest[0][-1].endswith("."):
    err("the description does not end with a period")
sections = {b[0]: b[1:] for b in rest[1:] if b[0].endswith(":")}
order = [b[0] for b in rest[1:] if b[0].endswith(":")]
if "Options:" not in sections:
    err("no Options: list")
known = ["Commands:", "Options:", "Environment:"]
if any(t not in known for t in order) or order != sorted(order, key=known.index):
    err(f"sections {order}, expected some of {known} in that order")
if (name == "kafkaaggregator") != ("Commands:" in sections):
    err("Commands: is the top level's alone")

items = {}
for title, body in sections.items():
    column, names, cont = None, [], None
    for line in body:
        m = re.match(r"^  (\S.*?)(  +)(\S.*)$", line)
        alone = re.match(r"^  (\S+)$", line)
        if line.startswith("   "):          # a continuation
            c = len(line) - len(line.lstrip())
            if column is not None and c != column:
                err(f"{title} continuation at column {c}, not {column}: {line!r}")
            column = c if column is None else column
            continue
        if m:
            names.append(m.group(1))
            c = len(m.group(1)) + len(m.group(2)) + 2
            if column is not None and c != column:
                err(f"{title} text at column {c}, not {column}: {line!r}")
            column = c if column is None else column
        elif alone or re.match(r"^  [A-Z_, ]+$", line):
            names.append(line.strip())
        else:
            err(f"{title} row not '  NAME  TEXT': {line!r}")
    items[title] = names
    block = " ".join(x.strip() for x in body)
    # Defaults are said as "(default: X)" and nowhere else.
    outside, depth, i = "", 0, 0
    while i < len(block):
        if depth == 0 and block.startswith("(default: ", i):
            depth, i = 1, i + len("(default: ")
            continue
        if depth:
            depth += (block[i] == "(") - (block[i] == ")")
        else:
            outside += block[i]
        i += 1
    if depth:
        err(f"{title}: an unclosed '(default: '")
    for m in re.finditer(r"\bdefault\b", outside):
        err(f"{title}: a default not as '(default: X)': "
            f"...{outside[max(0, m.start() - 30):m.end() + 20]}...")

opts = items.get("Options:", [])
if not opts or opts[-1] != "-h, --help":
    err(f"Options: does not end with -h, --help: {opts}")
flag = r"(?<![\w-])--?[a-zA-Z][-a-z]*"
used = set(re.findall(flag, " ".join(usage)))
listed = set()
for row in opts[:-1]:
    flags = set(re.findall(flag, row))
    listed |= flags
    if not flags & used:
        err(f"option {row!r} is not in the usage lines")
if used - listed:
    err(f"options of the usage lines not in Options: {sorted(used - listed)}")
for env in items.get("Environment:", []):
    if not re.fullmatch(r"[A-Z_]+(, [A-Z_]+)*", env):
        err(f"Environment: row is not a variable: {env!r}")
if errors:
    print(text)
    print("\n".join(errors))
    sys.exit(1)
print(f"ok: {name} --help: {len(opts)} options, "
      f"{len(items.get('Environment:', []))} variables")
PY
}

check_help kafkaaggregator "$BIN"
"$BIN" -h | cmp -s - <("$BIN" --help) || fail "-h is not --help"

expect_usage_error() {
	local err rc
	err=$("$BIN" "$@" 2>&1 >/dev/null) && rc=0 || rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, expected 2"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] ||
		fail "'$*' printed more than one line: $err"
	[[ $err == "kafkaaggregator: "* ]] || fail "'$*' printed '$err'"
	echo "ok: $* -> $err"
}
expect_usage_error no-such-command
expect_usage_error --no-such-option
expect_usage_error -l loud dev-stack --help
expect_usage_error -l
cmds=$("$BIN" --help | awk '/^Commands:/{on=1; next} on && !NF {exit} on && /^  [a-z]/ {print $1}')
[ "$(echo $cmds)" = "generate-agents agents worker init-example produce consume dev-stack" ] ||
	fail "the commands listed are: $(echo $cmds)"
for cmd in $cmds; do
	check_help "$cmd" "$BIN" "$cmd"
	"$BIN" "$cmd" -h | cmp -s - <("$BIN" "$cmd" --help) || fail "$cmd -h is not --help"
	# -l goes before the command and leaves --help as it is.
	"$BIN" -l debug "$cmd" --help | cmp -s - <("$BIN" "$cmd" --help) ||
		fail "-l debug $cmd --help differs"
	expect_usage_error "$cmd" --no-such-option
	expect_usage_error "$cmd" -Z
done
pass
