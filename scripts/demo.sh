#!/bin/bash
# demo.sh — palier on its embedded defaults, on this machine alone:
# a private PostgreSQL under var/pg (Unix socket), the demo town's roster,
# and palierd in the background until `make demo-stop`.
#   scripts/demo.sh start | stop
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
port=55433
pgdir=$top/var/pg

say() { printf '%s\n' "$*"; }

pg_env() {
	local sock=$pgdir
	[ -f "$pgdir/socketdir" ] && sock=$(cat "$pgdir/socketdir")
	export PGHOST=$sock PGPORT=$port PGUSER=postgres
	unset PGDATABASE
}

stop() {
	if [ -f var/palierd.pid ] && kill -0 "$(cat var/palierd.pid)" 2>/dev/null; then
		kill -TERM "$(cat var/palierd.pid)"
		for _ in $(seq 50); do kill -0 "$(cat var/palierd.pid)" 2>/dev/null || break; sleep 0.1; done
		say "demo: palierd stopped"
	fi
	rm -f var/palierd.pid
	scripts/pg.sh stop "$pgdir" && say "demo: PostgreSQL stopped"
}

wait_for() { # wait_for PATTERN FILE
	for _ in $(seq 100); do grep -q -- "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

start() {
	mkdir -p var
	chmod 755 var
	if [ -f var/palierd.pid ] && kill -0 "$(cat var/palierd.pid)" 2>/dev/null; then
		say "demo: already running (pid $(cat var/palierd.pid)); make demo-stop stops it"
		exit 0
	fi
	scripts/pg.sh start "$pgdir" $port >/dev/null
	pg_env
	psql -XAtq -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'palier'" | grep -q 1 ||
		psql -XAtq -d postgres -c "CREATE DATABASE palier"
	# The embedded defaults: no config file (PG* variables point libpq at var/pg).
	unset PALIER_CONF
	conf=()
	[ -f /etc/palier/palier.conf ] && conf=(-c /dev/null)
	bin/palierctl "${conf[@]}" migrate
	bin/palierctl "${conf[@]}" import demo/roster.csv
	nohup bin/palierd "${conf[@]}" >var/palierd.log 2>&1 </dev/null &
	echo $! > var/palierd.pid
	if ! wait_for "event=db_connected" var/palierd.log; then
		cat var/palierd.log >&2
		say "demo: palierd did not start" >&2
		exit 1
	fi
	cat > var/demo.env <<EOC
# source this file to use palierctl against the demo: . var/demo.env
export PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres
unset PALIER_CONF
EOC
	say ""
	say "The demo town, Saint-Aubin-sur-Loire (everyone in it is fictional):"
	say ""
	bin/palierctl "${conf[@]}" channels
	say ""
	say "palierd is running (pid $(cat var/palierd.pid)), log in var/palierd.log."
	say "Try:"
	say "  . var/demo.env"
	say "  bin/palierctl residents --channel residence-les-tilleuls"
	say "  bin/palierctl channels --json | jq '.[] | select(.kind == \"district\")'"
	say "  bin/palierctl publisher add saint-aubin-sur-loire mairie@saint-aubin.example --name 'Mairie'"
	say "  kill -HUP \$(cat var/palierd.pid); tail var/palierd.log"
	say "Stop it all with: make demo-stop"
}

case ${1:-} in
start) start ;;
stop) pg_env; stop ;;
*) echo "usage: demo.sh start|stop" >&2; exit 1 ;;
esac
