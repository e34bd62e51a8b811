#!/usr/bin/env bash
# designsystemet.sh vendors Digdir's Designsystemet CSS into static/designsystemet/:
# the bundled component CSS of @digdir/designsystemet-css and the Altinn brand
# theme of @digdir/designsystemet-theme (the tokens the components read), with
# both licences (MIT, Digdir) and a VERSION file naming the packages, versions
# and npm integrity. `make vendor-css` runs it; the result is committed, so
# nothing runs npm at run time or test time. static/designsystemet_test.go
# checks that VERSION matches the pins below.
#
# The theme package's brand/altinn.css is built from design tokens v1.8.0 and
# defines every --ds-* token that css 1.22.0 reads (checked when vendoring:
# each var(--ds-…) in index.css is defined by the theme or by index.css itself),
# so the two fit.
set -euo pipefail
css_pkg=@digdir/designsystemet-css
css_version=1.22.0
theme_pkg=@digdir/designsystemet-theme
theme_version=1.11.0
theme_file=brand/altinn.css

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/static/designsystemet"
command -v npm >/dev/null || { echo "designsystemet.sh: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# pack fetches one package's tarball into $tmp, unpacks it into $tmp/<name>
# and prints its npm integrity (sha512-…).
pack() {
	local spec=$1 dir=$2 json integrity file
	json=$(cd "$tmp" && npm pack --json --silent --pack-destination "$tmp" "$spec")
	integrity=$(printf '%s' "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s)[0].integrity))')
	file=$(printf '%s' "$json" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s)[0].filename))')
	mkdir -p "$tmp/$dir"
	tar -xzf "$tmp/$file" -C "$tmp/$dir"
	printf '%s' "$integrity"
}

css_integrity=$(pack "$css_pkg@$css_version" css)
theme_integrity=$(pack "$theme_pkg@$theme_version" theme)

# The tokens check: every custom property index.css reads must be defined.
used=$(grep -o 'var(--ds-[a-z0-9-]*' "$tmp/css/package/dist/src/index.css" | sed 's/^var(//' | LC_ALL=C sort -u)
defined=$(cat "$tmp/css/package/dist/src/index.css" "$tmp/theme/package/$theme_file" |
	grep -o -- '--ds-[a-z0-9-]*:' | tr -d : | LC_ALL=C sort -u)
missing=$(LC_ALL=C comm -23 <(printf '%s\n' "$used") <(printf '%s\n' "$defined"))
if [ -n "$missing" ]; then
	echo "designsystemet.sh: $theme_pkg@$theme_version $theme_file lacks tokens $css_pkg@$css_version reads:" >&2
	echo "$missing" >&2
	exit 1
fi

mkdir -p "$out"
cp "$tmp/css/package/dist/src/index.css" "$out/index.css"
cp "$tmp/theme/package/$theme_file" "$out/altinn.css"
cp "$tmp/css/package/LICENSE" "$out/LICENSE"
cp "$tmp/theme/package/LICENSE" "$out/LICENSE-theme"
cat >"$out/VERSION" <<EOF
# Vendored by scripts/designsystemet.sh (make vendor-css); do not edit.
$css_pkg $css_version $css_integrity dist/src/index.css -> index.css (LICENSE)
$theme_pkg $theme_version $theme_integrity $theme_file -> altinn.css (LICENSE-theme)
EOF
echo "designsystemet.sh: vendored $css_pkg@$css_version and $theme_pkg@$theme_version into ${out#"$root"/}" >&2
