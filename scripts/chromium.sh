#!/usr/bin/env bash
# chromium.sh makes sure Debian's chromium is installed for the browser tests
# and prints its path. It never downloads a browser build of its own.
set -euo pipefail
for c in chromium chromium-browser; do
	if p=$(command -v "$c"); then echo "$p"; exit 0; fi
done
echo "chromium.sh: installing Debian's chromium package" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
command -v chromium
