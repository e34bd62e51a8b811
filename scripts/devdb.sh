#!/usr/bin/env bash
# devdb.sh starts (and on first use creates) a private PostgreSQL cluster under
# .pgdata/ in the repository, installing Debian's postgresql package when no
# server binaries are found. It prints the DATABASE_URL to use on stdout, and
# everything else on stderr, so callers can write: export DATABASE_URL=$(scripts/devdb.sh start)
#
#   scripts/devdb.sh start   create if needed, start, print the URL
#   scripts/devdb.sh stop    stop the cluster
#   scripts/devdb.sh url     print the URL
#   scripts/devdb.sh psql    open psql on the dev database
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.pgdata"
data="$dir/data"
port="${ONBOARD_DEVDB_PORT:-55432}"
url="postgres://onboard@127.0.0.1:${port}/onboard?sslmode=disable"

log() { printf 'devdb: %s\n' "$*" >&2; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

find_bin() {
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/pg_ctl" ] && [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	done
	return 1
}

ensure_installed() {
	if bin=$(find_bin); then return 0; fi
	log "no PostgreSQL server found; installing Debian's postgresql package"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
	bin=$(find_bin) || { log "postgresql installed but pg_ctl not found"; exit 1; }
}

# PostgreSQL refuses to run as root, so root runs it as the postgres user the
# Debian package creates; anyone else runs it as themselves.
run_pg() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

running() {
	[ -f "$data/postmaster.pid" ] && run_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# The postgres user must reach the cluster's folder. When the checkout sits
# under a folder it cannot enter (a private home, say), the cluster lives in a
# folder of its own under /tmp instead, named after the checkout.
pick_dir() {
	if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$root" 2>/dev/null; then
		dir="/tmp/onboard-pgdata-$(printf '%s' "$root" | cksum | cut -d' ' -f1)"
		data="$dir/data"
		log "postgres cannot enter $root; using $dir"
	fi
}

start() {
	ensure_installed
	pick_dir
	if [ ! -f "$data/PG_VERSION" ]; then
		log "creating a private cluster in $data"
		mkdir -p "$dir"
		if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
		run_pg "$bin/initdb" -D "$data" -U onboard --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
	fi
	if ! running; then
		# Unsafe settings are fine for a throwaway local cluster and make tests fast.
		run_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
			-o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
			start >/dev/null || { log "failed to start; see $dir/server.log"; tail -n 20 "$dir/server.log" >&2; exit 1; }
		log "started on 127.0.0.1:$port"
	fi
	if ! run_pg "$bin/psql" -h "$dir" -p "$port" -U onboard -d postgres -Atc "select 1 from pg_database where datname='onboard'" | grep -q 1; then
		run_pg "$bin/psql" -h "$dir" -p "$port" -U onboard -d postgres -qc "create database onboard" >/dev/null
	fi
	echo "$url"
}

stop() {
	bin=$(find_bin) || exit 0
	pick_dir
	if running; then run_pg "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null && log "stopped"; fi
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url) echo "$url" ;;
psql) start >/dev/null; exec psql "$url" ;;
*) echo "usage: $0 start|stop|url|psql" >&2; exit 2 ;;
esac
