#!/usr/bin/env bash
# check-generated.sh fails when the committed *_templ.go files are not what
# `templ generate` makes from the .templ files. It generates into a copy, so
# it never changes the work tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$root/views" "$tmp/views"
rm -f "$tmp"/views/*_templ.go
(cd "$root" && go tool templ generate -path "$tmp/views" >/dev/null 2>&1)
status=0
for f in "$tmp"/views/*_templ.go; do
	name=$(basename "$f")
	if ! cmp -s "$f" "$root/views/$name"; then
		echo "check-generated: views/$name is stale: run 'make generate' and commit it" >&2
		status=1
	fi
done
for f in "$root"/views/*_templ.go; do
	[ -f "$tmp/views/$(basename "$f")" ] || { echo "check-generated: $(basename "$f") has no .templ source" >&2; status=1; }
done
exit $status
