#!/usr/bin/env bash
# axe.sh makes sure axe-core, the accessibility checker the browser tests
# inject into each page, is installed from the npm registry into the
# git-ignored .cache/axe, and prints the path of its axe.min.js.
set -euo pipefail
version=4.14.1
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/axe"
js="$dir/node_modules/axe-core/axe.min.js"
pkg="$dir/node_modules/axe-core/package.json"
if [ -f "$js" ] && grep -q "\"version\": \"$version\"" "$pkg" 2>/dev/null; then
	echo "$js"; exit 0
fi
if ! command -v npm >/dev/null; then
	echo "axe.sh: installing Debian's npm package" >&2
	if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
fi
echo "axe.sh: installing axe-core@$version from the npm registry into $dir" >&2
mkdir -p "$dir"
npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "axe-core@$version" >&2
test -f "$js" || { echo "axe.sh: $js is missing after npm install" >&2; exit 1; }
echo "$js"
