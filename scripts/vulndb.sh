#!/usr/bin/env bash
# vulndb.sh makes sure the Go vulnerability database is built, and prints its
# directory for `govulncheck -db file://<dir>`. The database is published as
# the Go module golang.org/x/vulndb (its OSV reports in data/osv); this fetches
# the pinned version through the module proxy with `go mod download`, builds
# the database once with the module's own cmd/indexdb into the git-ignored
# .cache/vulndb-<version>, and reuses it after that. So govulncheck needs no
# access to vuln.go.dev, only to the module proxy. Raise version (a
# pseudo-version: `go list -m golang.org/x/vulndb@latest`) for newer reports.
set -euo pipefail
version=v0.0.0-20261105234957-e22db6528018
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/vulndb-$version"
GO=${GO:-go}
if [ -f "$dir/index/db.json" ]; then
	echo "$dir"; exit 0
fi
# Outside the module, so that neither command touches go.mod or go.sum.
cd "${TMPDIR:-/tmp}"
echo "vulndb.sh: fetching golang.org/x/vulndb@$version from the module proxy" >&2
json=$($GO mod download -json "golang.org/x/vulndb@$version") || {
	echo "vulndb.sh: go mod download failed: $json" >&2; exit 1; }
src=$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")
test -d "$src/data/osv" || { echo "vulndb.sh: no data/osv in $src" >&2; exit 1; }
echo "vulndb.sh: building the database into $dir (once per version)" >&2
mkdir -p "$root/.cache"
tmp=$(mktemp -d "$dir.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
$GO run "golang.org/x/vulndb/cmd/indexdb@$version" -vulns "$src/data/osv" -out "$tmp/db" >&2
test -f "$tmp/db/index/db.json" || { echo "vulndb.sh: indexdb wrote no index/db.json" >&2; exit 1; }
rm -rf "$dir"
mv "$tmp/db" "$dir"
echo "$dir"
