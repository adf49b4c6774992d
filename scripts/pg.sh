#!/bin/bash
# pg.sh — a private, throwaway PostgreSQL cluster on a Unix socket.
#   scripts/pg.sh start DIR [PORT]   initdb (if needed) and start; prints the socket dir
#   scripts/pg.sh stop DIR
# As root the server runs as the 'postgres' user (initdb refuses root).
# Never touches the system cluster.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop DIR [PORT]}
dir=${2:?usage: pg.sh start|stop DIR [PORT]}
port=${3:-55432}

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "pg.sh: PostgreSQL server binaries not found (run make deps)" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
	mkdir -p "$dir"
	dir=$(cd "$dir" && pwd)
	# A Unix socket path is limited to 107 bytes: use a short one when needed.
	sock=$dir
	if [ ${#sock} -gt 80 ]; then
		sock=$(mktemp -d /tmp/palier-pg.XXXXXX)
		echo "$sock" > "$dir/socketdir"
	fi
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir" "$sock"
		# postgres must reach the folder through its parents.
		if ! runuser -u postgres -- test -w "$dir"; then
			echo "pg.sh: user postgres cannot write $dir (a parent folder is closed to it)" >&2
			exit 1
		fi
	fi
	if [ ! -f "$dir/data/PG_VERSION" ]; then
		as_pg "$pgbin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
			--locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
		-o "-k $sock -p $port -c listen_addresses='' -c fsync=${PG_FSYNC:-on} -c max_connections=200" \
		start >/dev/null || { tail -n 20 "$dir/log" >&2; exit 1; }
	echo "$sock"
	;;
stop)
	[ -d "$dir/data" ] || exit 0
	as_pg "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
	if [ -f "$dir/socketdir" ]; then rm -rf "$(cat "$dir/socketdir")"; rm -f "$dir/socketdir"; fi
	;;
*)
	echo "usage: pg.sh start|stop DIR [PORT]" >&2; exit 1 ;;
esac
