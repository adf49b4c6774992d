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

# wait_file GLOB: until a file matching GLOB exists (10 s).
wait_file() {
	for _ in $(seq 100); do compgen -G "$1" >/dev/null && return 0; sleep 0.1; done
	return 1
}

# A scripted morning in the town: a post by email, a trimmed reply, a
# bulletin from the mairie, the day's digest.
tour() {
	local D=residence.example ctl=(bin/palierctl "${conf[@]}") f token
	say ""
	say "== 1. Émilie Pichon writes to her building's address (swaks into LMTP 127.0.0.1:2424)"
	swaks --protocol LMTP --server 127.0.0.1 --port 2424 --silent 2 \
		--from emilie.pichon99@example.org --to residence-les-tilleuls@$D \
		--header "Subject: Fuite d'eau au 3e" \
		--body "Bonjour à tous, il y a une fuite d'eau au 3e étage, près de l'ascenseur. Le gardien est prévenu." ||
		say "(swaks failed)"
	"${ctl[@]}" posts --channel residence-les-tilleuls
	say ""
	say "== 2. Marie Aubry (immediate notices) got it by email and answers from her webmail"
	if wait_file "var/mail/*.eml"; then
		sleep 1
		f=$(grep -l "marie.aubry@example.net" var/mail/*.eml | head -n 1)
		token=$(grep -m1 -o 'reply+[a-z2-7]*@' "$f" | sed 's/@$//')
		say "   her copy: $f (Reply-To: $token@$D)"
		swaks --protocol LMTP --server 127.0.0.1 --port 2424 --silent 2 \
			--from marie.aubry@example.net --to "$token@$D" \
			--header "Subject: Re: Fuite d'eau au 3e" \
			--body "$(printf 'Merci, je préviens ma voisine du 2e.\n\nLe jeu. 26 nov. 2026 à 09:12, Émilie Pichon <emilie.pichon99@example.org> a écrit :\n> Bonjour à tous, il y a une fuite d'"'"'eau au 3e étage.\n> Le gardien est prévenu.\n\n--\nMarie')"
		sleep 1
		say "   stored as a reply in the thread, quote and signature trimmed:"
		"${ctl[@]}" posts --channel residence-les-tilleuls
	fi
	say ""
	say "== 3. The mairie sends a bulletin to the whole town"
	"${ctl[@]}" publisher add saint-aubin-sur-loire mairie@saint-aubin.example --name "Mairie de Saint-Aubin" >/dev/null
	swaks --protocol LMTP --server 127.0.0.1 --port 2424 --silent 2 \
		--from mairie@saint-aubin.example --to saint-aubin-sur-loire@$D \
		--header "Subject: Coupure d'eau jeudi" \
		--body "Bonjour, l'eau sera coupée jeudi de 9 h à 12 h dans tout le centre-ville. Pensez à remplir une bouteille la veille."
	for _ in $(seq 100); do
		[ "$("${ctl[@]}" queue --json | jq '[.[] | select(.state == "queued" or .state == "sending") | .count] | add // 0')" = 0 ] && break
		sleep 0.2
	done
	"${ctl[@]}" queue
	say ""
	say "== 4. The day's digest, built now rather than at 18:00"
	"${ctl[@]}" digest run --now
	sleep 2
	say ""
	say "Read what residents received: $(ls var/mail | wc -l) emails in var/mail/ and $(ls var/sms 2>/dev/null | wc -l) SMS in var/sms/, e.g."
	say "   less $(ls -t var/mail/*.eml | head -n 1)"
	say "   cat $(ls var/sms/*.sms 2>/dev/null | head -n 1)"
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
	rm -rf var/mail var/sms
	nohup bin/palierd "${conf[@]}" >var/palierd.log 2>&1 </dev/null &
	echo $! > var/palierd.pid
	if ! wait_for "event=lmtp_listening" var/palierd.log; then
		cat var/palierd.log >&2
		say "demo: palierd did not start" >&2
		exit 1
	fi
	cat > var/demo.env <<EOC
# source this file to use palierctl against the demo: . var/demo.env
export PGHOST=$PGHOST PGPORT=$PGPORT PGUSER=postgres
unset PALIER_CONF
EOC
	tour
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
