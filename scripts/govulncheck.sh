#!/usr/bin/env bash
# govulncheck.sh runs govulncheck (the module@version given as $1, run with
# `go run`) over ./... against the local vulnerability database of
# scripts/vulndb.sh. It fails when the code reaches a vulnerability, except the
# ones scripts/govulncheck-accepted.txt lists with a reason. A clean scan is
# remembered in .cache/govulncheck under a hash of everything it depends on
# (the tool, the database, the Go version, go.mod, go.sum, every .go file and
# the accepted list), so a lint with nothing changed does not scan again.
set -euo pipefail
tool=${1:?usage: scripts/govulncheck.sh golang.org/x/vuln/cmd/govulncheck@<version>}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
accepted=scripts/govulncheck-accepted.txt
db=$(scripts/vulndb.sh)

if files=$(git ls-files -co --exclude-standard -- '*.go' 2>/dev/null); then :; else
	files=$(find . -name '*.go' -not -path './.*' | sed 's|^\./||')
fi
key=$({
	echo "$tool $db"; $GO version; $GO env GOOS GOARCH GOFLAGS
	cat go.mod go.sum "$accepted"
	sort <<<"$files" | tr '\n' '\0' | xargs -0 sha256sum
} | sha256sum | cut -c1-32)
stamp=.cache/govulncheck/$key
if [ -f "$stamp" ]; then
	echo "govulncheck: no change since the last clean scan"
	exit 0
fi

rc=0
out=$($GO run "$tool" -db "file://$db" ./... 2>&1) || rc=$?
# govulncheck exits 3 when the code reaches a vulnerability, but go run turns
# every failure into 1, so the report's summary line tells.
if [ "$rc" -ne 0 ] && grep -q '^Your code is affected by' <<<"$out"; then
	rc=3
fi
case $rc in
0) ;;
3)
	found=$(grep -oE '^Vulnerability #[0-9]+: GO-[0-9]+-[0-9]+' <<<"$out" | awk '{print $3}' | sort -u)
	ok=$(grep -oE '^GO-[0-9]+-[0-9]+' "$accepted" | sort -u)
	new=$(comm -23 <(echo "$found") <(echo "$ok"))
	if [ -n "$new" ]; then
		echo "$out"
		echo
		echo "govulncheck: the code reaches $(wc -w <<<"$new") vulnerabilities not in $accepted:" $new
		echo "Upgrade the module (or Go) to the 'Fixed in' version; accept one only with a reason."
		exit 1
	fi
	echo "govulncheck: only accepted vulnerabilities reached (see $accepted):" $found
	;;
*)
	echo "$out" >&2
	echo "govulncheck: failed (exit status $rc)" >&2
	exit "$rc"
	;;
esac
if [ "$rc" -eq 0 ]; then
	echo "govulncheck: no vulnerabilities reached"
fi
gone=$(comm -13 <(echo "${found:-}") <(grep -oE '^GO-[0-9]+-[0-9]+' "$accepted" | sort -u))
if [ -n "$gone" ]; then
	echo "govulncheck: no longer reported, delete from $accepted:" $gone
fi
mkdir -p .cache/govulncheck
touch "$stamp"
