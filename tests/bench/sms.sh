#!/bin/bash
# sms.sh — palier's SMS benchmarks through a real Kannel (bearerbox, smsbox,
# the fake SMS centre of kannel-extras), each against its ceiling in the same
# run. Run from the repository root after `make`:
#   tests/bench/sms.sh [in] [out] [vote]   (default: all three)
#   in:  N SMS injected by fakesmsc (bulk mode, SMS from residents' phones)
#        through bearerbox and smsbox's get-url into palierd --role http,
#        timed until all N are committed (inbound rows, via = 'kannel');
#        the ceiling: the same load into sms-sink (tests/bench/sms-sink.c,
#        libmicrohttpd, 4 epoll threads like palierd, answers 200). Target >= 80%.
#   out: N SMS queued in outgoing (answers, template sms-help: one part) for
#        a running palierd --role deliver, with Kannel's sendsms delivering
#        to a connected fakesmsc, timed from the queueing until Kannel has
#        taken them all and called back both delivery reports of each (to
#        sms-sink); the ceiling: wrk -t2 -c64 GETting palier's own N requests
#        (same text, each to a resident's number with its own dlr-url id, as
#        gateway.c sends them) at the same sendsms, timed the same way.
#        Both are measured to the last report because Kannel does that work
#        for every message, and does it late: a run cut at a fixed time
#        would leave part of the ceiling's unpaid. Target >= 80%.
#   vote: a poll over the roster, then BENCH_SMS_VOTES (10000) SMS votes
#        from residents' phones through Kannel into palierd (all roles),
#        timed until all are recorded, then checked: counted exactly once.
# It starts a private PostgreSQL (fsync on), Kannel, the sink and palierd on
# loopback, stops all of it on exit, prints one line per benchmark (best of
# BENCH_SMS_ROUNDS runs per side, every run as a note) and a summary; exits
# 0 even when a target is missed (1 only when the harness cannot run).
# Environment: PALIER_BIN (default bin/), KEEP=1 keeps the work directory,
#   BENCH_SMS_IN (5000), BENCH_SMS_OUT (20000), BENCH_SMS_ROUNDS (2),
#   BENCH_SMS_ROSTER (residents, 5000), BENCH_SMS_MAX_PENDING (smsbox's
#   max-pending-requests: get-url calls in flight, Kannel's default 512),
#   BENCH_SMS_PG_LOG_MS (250: statements slower than this are logged in the
#   work directory's pg/log and summed up).
# After each pair of figures, diagnostic notes: for inbound, one more pair of
# runs with Kannel on CPU 0 and the receiver (and PostgreSQL) on the other
# CPUs, then palierd's webhook alone (wrk, no Kannel); for outbound, palier's
# gateway.c alone (tests/bench/sms-gateway.c, no database) in batches of 200
# and in one call.
set -uo pipefail
ulimit -c 0	# fakesmsc 1.4.5 aborts on its way out (a double free): no core files

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BIN=${PALIER_BIN:-$top/bin}
N_IN=${BENCH_SMS_IN:-5000}
N_OUT=${BENCH_SMS_OUT:-20000}
ROUNDS=${BENCH_SMS_ROUNDS:-2}
N_VOTE=${BENCH_SMS_VOTES:-10000}
ROSTER_N=${BENCH_SMS_ROSTER:-5000}
MAX_PENDING=${BENCH_SMS_MAX_PENDING:-}	# smsbox's max-pending-requests (Kannel's default: 512)
RUN_TIMEOUT=90		# seconds one timed run may last at most
PG_PORT=55438		# the socket lives in our own directory: no clash with run.sh's
SHORT=38100		# palier's number
BEARERBOX=/usr/sbin/bearerbox
SMSBOX=/usr/sbin/smsbox
FAKESMSC=/usr/lib/kannel/test/fakesmsc
wanted=${*:-in out vote}

W=$(mktemp -d /tmp/palier-bench-sms.XXXXXX)
chmod 755 "$W"
started=()		# pids of everything we started, stopped by cleanup
names=() figures=() targets=() verdicts=()

say() { printf '%s\n' "$*"; }
note() { printf '#   %s\n' "$*"; }
now() { date +%s.%N; }
# (an expression with > must be in parentheses: awk would read a redirection)
calc() { awk "BEGIN { printf \"${2:-%.1f}\", $1 }"; }
load_avg() { cut -d' ' -f1 /proc/loadavg; }
result() {
	names+=("$1"); figures+=("$2"); targets+=("$3")
	if [ "$4" = 1 ]; then verdicts+=("pass"); else verdicts+=("MISSED${5:+ ($5)}"); fi
}

# Running, and not a zombie waiting to be reaped.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }

# stop_pid PID: TERM, then KILL after 10 s; never a broad kill.
stop_pid() {
	local p=$1 i
	[ -n "$p" ] || return 0
	if alive "$p"; then
		kill -TERM "$p" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			alive "$p" || break
			sleep 0.1
		done
		alive "$p" && kill -KILL "$p" 2>/dev/null
	fi
	wait "$p" 2>/dev/null
	return 0
}

cleanup() {
	local i
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do stop_pid "${started[$i]}"; done
	scripts/pg.sh stop "$W/pg" >/dev/null 2>&1 || true
	if [ -n "${KEEP:-}" ]; then echo "# work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

used_ports=" "
# Below the kernel's ephemeral range (ip_local_port_range, 32768 up by default):
# with hundreds of connections open, a port taken from that range may be in
# use as a connection's local port by the time a server binds it.
port_lo=20000 port_hi=$(awk '{ print $1 - 1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32767)
[ "$port_hi" -gt "$port_lo" ] 2>/dev/null || port_hi=32767
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((port_lo + RANDOM % (port_hi - port_lo)))
		case $used_ports in *" $p "*) continue ;; esac
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
		used_ports+="$p "
		echo "$p"
		return 0
	done
	return 1
}
wait_port() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
wait_for() {	# PATTERN FILE [SECONDS]
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# until_ok SECONDS CMD...: runs CMD every 0.1 s until it succeeds.
until_ok() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# The server's own psql, not Debian's pg_wrapper (a Perl script): the runs
# are polled, and each poll takes CPU from what is measured.
PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
PSQL=${PSQL:-psql}
psql_db() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$1" "${@:2}"; }
sql() { psql_db bench_sms -c "$1"; }

cpu_s() {	# user+system CPU seconds of a process so far
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo 0
}
# pg_cpu: CPU seconds of our PostgreSQL (the postmaster and its live children).
pg_cpu() {
	local pm p t=0
	pm=$(head -n 1 "$W/pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
	for p in "$pm" $(ps -o pid= --ppid "$pm" 2>/dev/null); do t=$(calc "$t + $(cpu_s "$p")"); done
	echo "$t"
}
# pin_pg CPUS: PostgreSQL's processes (and those it forks later) on CPUS.
pin_pg() {
	local pm p
	pm=$(head -n 1 "$W/pg/data/postmaster.pid" 2>/dev/null) || return 0
	for p in "$pm" $(ps -o pid= --ppid "$pm" 2>/dev/null); do taskset -a -p -c "$1" "$p" >/dev/null 2>&1; done
}
kannel_cpu() { calc "$(cpu_s "$K_BB") + $(cpu_s "$K_SB")"; }
# ctxt_switches PID: context switches of its live threads so far (voluntary + not).
ctxt_switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# listen_drops: the kernel's count of connections dropped for a full listen queue (all sockets).
listen_drops() { awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 } else for (i = 1; i <= NF; i++) if (n[i] == "ListenDrops") print $i }' /proc/net/netstat; }
# closed_conns PORT: TCP connections to or from 127.0.0.1:PORT closed in the last minute (TIME-WAIT).
closed_conns() { ss -Htan state time-wait "( sport = :$1 or dport = :$1 )" 2>/dev/null | wc -l; }
# urlenc STRING: as curl_easy_escape does (all but ALPHA DIGIT - . _ ~).
urlenc() { perl -e '$_ = shift; s/([^A-Za-z0-9\-._~])/sprintf("%%%02X", ord $1)/ge; print' -- "$1"; }

# ---------------------------------------------------------------- Kannel
# kannel_start NAME GET_URL_PORT: a fresh bearerbox and smsbox (new ports,
# config and logs in $W/NAME/), get-url to 127.0.0.1:GET_URL_PORT/sms/kannel.
# Logs at warning level: Kannel's debug log would be the bottleneck.
kannel_start() {
	local try
	for try in 1 2 3; do
		kannel_try "$1-$try" "$2" && return 0
		kannel_stop
	done
	say "$1: Kannel did not start (3 tries):"
	tail -n 3 "$KD/bearerbox.log" "$KD/smsbox.log" "$KD/smsbox.err" 2>&1 | sed 's/^/#   /'
	return 1
}
kannel_try() {
	local name=$1 hp=$2
	KD=$W/$1
	mkdir -p "$KD"
	K_ADMIN=$(free_port) K_BOX=$(free_port) K_SMSC=$(free_port) K_SENDSMS=$(free_port)
	K_USER=palier K_PASS=kpw$RANDOM K_ADMPW=adm$RANDOM
	K_STATUS="http://127.0.0.1:$K_ADMIN/status.txt?password=$K_ADMPW"
	cat > "$KD/kannel.conf" <<EOC
group = core
admin-port = $K_ADMIN
admin-interface = 127.0.0.1
admin-password = $K_ADMPW
admin-allow-ip = 127.0.0.1
smsbox-port = $K_BOX
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
box-deny-ip = "*.*.*.*"
log-file = "$KD/bearerbox.log"
log-level = 2
dlr-storage = internal

group = smsc
smsc = fake
smsc-id = fake
our-host = 127.0.0.1
port = $K_SMSC
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $K_BOX
sendsms-port = $K_SENDSMS
sendsms-interface = 127.0.0.1
log-file = "$KD/smsbox.log"
log-level = 2
access-log = "$KD/smsbox-access.log"
http-request-retry = 20
http-queue-delay = 1
${MAX_PENDING:+max-pending-requests = $MAX_PENDING}

group = sendsms-user
username = $K_USER
password = $K_PASS
user-allow-ip = 127.0.0.1
concatenation = true
max-messages = 10

group = sms-service
keyword = default
catch-all = true
max-messages = 0
get-url = "http://127.0.0.1:$hp/sms/kannel?from=%p&to=%P&text=%b&id=%I&coding=%c&charset=%C&secret=$SECRET"
EOC
	K_FS= K_SB=
	$K_PIN "$BEARERBOX" -v 4 "$KD/kannel.conf" >"$KD/bearerbox.err" 2>&1 &
	K_BB=$!
	started+=("$K_BB")
	until_ok 15 bb_up || return 1
	$K_PIN "$SMSBOX" -v 4 "$KD/kannel.conf" >"$KD/smsbox.err" 2>&1 &
	K_SB=$!
	started+=("$K_SB")
	until_ok 15 sb_up || return 1
	alive "$K_SB" || return 1
	return 0
}
# Up, or dead (a port taken meanwhile: the caller tries again with others).
bb_up() { ! alive "$K_BB" || kstatus_has "^Status: running"; }
sb_up() { ! alive "$K_SB" || kstatus_has "^ *smsbox:.*on-line"; }
kstatus_has() { curl -s --max-time 2 "$K_STATUS" 2>/dev/null | grep -q -- "$1"; }
smsc_online() { kstatus_has "FAKE:$K_SMSC (online"; }

# fakesmsc_bulk N MSG...: the fake SMS centre injects N SMS chosen among MSG as fast as it can.
fakesmsc_bulk() {
	local n=$1
	shift
	$K_PIN "$FAKESMSC" -v 2 -H 127.0.0.1 -r "$K_SMSC" -i 0 -m "$n" "$@" >"$KD/fakesmsc.log" 2>&1 &
	K_FS=$!
	started+=("$K_FS")
	disown "$K_FS"	# its abort on exit is not our business
}

# fakesmsc_drain: the fake SMS centre connected and idle, logging every SMS Kannel sends it.
fakesmsc_drain() {
	mkfifo "$KD/fakesmsc.in"
	exec 7<>"$KD/fakesmsc.in"	# kept open: EOF on its stdin would crash it
	"$FAKESMSC" -v 2 -H 127.0.0.1 -r "$K_SMSC" -i 0 <"$KD/fakesmsc.in" >"$KD/fakesmsc.log" 2>&1 &
	K_FS=$!
	started+=("$K_FS")
	disown "$K_FS"
	until_ok 15 smsc_online || { say "fakesmsc did not connect"; return 1; }
}

kannel_stop() {
	stop_pid "${K_FS:-}"
	stop_pid "${K_SB:-}"
	stop_pid "${K_BB:-}"
	exec 7>&- 2>/dev/null
	K_FS= K_SB= K_BB=
	return 0
}

# kannel_errors: Kannel's ERROR/PANIC lines and smsbox's retries in this run, summed up.
kannel_errors() {
	local e r
	e=$(grep -ahE '(ERROR|PANIC):' "$KD"/bearerbox.log "$KD"/smsbox.log 2>/dev/null | sed 's/.*\(ERROR\|PANIC\): //' |
		sed 's/<[^>]*>/<...>/g' | sort | uniq -c | sort -rn | head -n 3 | awk '{ $1 = $1 "x"; print }' | tr '\n' ';')
	r=$(grep -ac "Retrying request" "$KD/smsbox.log" 2>/dev/null)
	printf '%s' "${e:+Kannel errors: $e }${r:+smsbox retries: $r}"
}

# start_palierd NAME EVENT ARGS...: palierd -c $W/NAME.conf in the background.
start_palierd() {
	local name=$1 event=$2
	shift 2
	$R_PIN "$BIN/palierd" -c "$W/$name.conf" "$@" >"$W/$name.log" 2>&1 &
	PALIERD_PID=$!
	started+=("$PALIERD_PID")
	if ! wait_for "event=$event" "$W/$name.log" 15; then
		say "$name: palierd did not start:"
		tail -n 5 "$W/$name.log" | sed 's/^/#   /'
		return 1
	fi
}

conf() {	# the database part of a palierd config
	cat <<EOC
[database]
url = postgresql:///bench_sms?host=$PG_SOCK&port=$PG_PORT&user=postgres
[mail]
domain = residence.example
[security]
secret_file = $W/secret
[filters]
dir = $top/filters
[templates]
dir = $top/templates
EOC
}

start_sink() {	# start_sink PORT
	$R_PIN "$W/sms-sink" "$1" >"$W/sink-$1.log" 2>&1 &
	SINK_PID=$!
	started+=("$SINK_PID")
	wait_port "$1" || { say "sms-sink did not start: $(cat "$W/sink-$1.log")"; return 1; }
}
sink_stat() { curl -s --max-time 2 "http://127.0.0.1:$1/stats" | sed -n "s/.*\<$2=\([0-9.]*\).*/\1/p"; }
dlrs_ge() { [ "$(sink_stat "$1" dlr)" -ge "$2" ] 2>/dev/null; }	# dlrs_ge PORT N

# max_of FIGURES...: the largest.
max_of() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# ---------------------------------------------------------------- set-up
for t in "$BIN/palierd" "$BIN/palierctl" "$BEARERBOX" "$SMSBOX" "$FAKESMSC" psql cc pkg-config curl perl; do
	if ! command -v "$t" >/dev/null; then
		say "bench sms: $t is missing (make deps installs kannel, kannel-extras, postgresql; then make)"
		exit 1
	fi
done
if ! pkg-config --exists libmicrohttpd; then say "bench sms: libmicrohttpd-dev is missing"; exit 1; fi
say "# palier SMS benchmarks: $(nproc) cores, load average $(load_avg) at start, work directory $W"
if awk "BEGIN { exit !($(load_avg) > 1.5) }"; then
	note "warning: this machine is busy (load $(load_avg)): the figures below are noisy"
fi

if ! cc -std=c17 -D_GNU_SOURCE -O2 -Wall -o "$W/sms-sink" tests/bench/sms-sink.c \
	$(pkg-config --cflags --libs libmicrohttpd) -lpthread 2>"$W/sink-build.log"; then
	say "bench sms: cannot build tests/bench/sms-sink.c:"; sed 's/^/#   /' "$W/sink-build.log"
	exit 1
fi
# The diagnostic for the outbound benchmark: palier's gateway.c linked as is.
if ! cc -std=c17 -D_GNU_SOURCE -O2 -Idaemon $(pkg-config --cflags libcurl libutf8proc 2>/dev/null) -o "$W/sms-gateway" \
	tests/bench/sms-gateway.c daemon/deliver/gateway.c daemon/deliver/sms_text.c daemon/core/alloc.c \
	daemon/core/buf.c daemon/core/log.c daemon/core/utf8.c $(pkg-config --libs libcurl libutf8proc 2>/dev/null) \
	-lpthread 2>"$W/gateway-build.log"; then
	note "tests/bench/sms-gateway.c does not build (the outbound diagnostic is skipped): $(head -n 2 "$W/gateway-build.log" | tr '\n' ' ')"
	rm -f "$W/sms-gateway"
fi
K_PIN= R_PIN=		# CPU affinity of the gateway's and the receiver's processes (inbound_isolated)
if ! PG_SOCK=$(PG_FSYNC=on scripts/pg.sh start "$W/pg" $PG_PORT); then
	say "bench sms: could not start PostgreSQL"
	exit 1
fi
PG_LOG_MS=${BENCH_SMS_PG_LOG_MS:-250}
psql_db postgres -c "ALTER SYSTEM SET log_min_duration_statement = $PG_LOG_MS" -c "SELECT pg_reload_conf()" >/dev/null
psql_db postgres -c "CREATE DATABASE bench_sms" >/dev/null
conf > "$W/roster.conf"
tests/gen-roster.sh "$ROSTER_N" > "$W/roster.csv" 2>/dev/null
if ! "$BIN/palierctl" -c "$W/roster.conf" migrate >/dev/null ||
   ! "$BIN/palierctl" -c "$W/roster.conf" import "$W/roster.csv" >"$W/import.out" 2>&1; then
	say "bench sms: could not load the roster:"; tail -n 5 "$W/import.out" | sed 's/^/#   /'
	exit 1
fi
psql_db bench_sms -c "VACUUM ANALYZE channels, residents, publishers" >/dev/null	# see load_roster
SECRET=ks$RANDOM$RANDOM
say "# roster: $(sql "SELECT count(*) || ' residents, ' || count(phone) || ' with a phone, ' || count(*) FILTER (WHERE sms) || ' with sms=yes' FROM residents")"

# ---------------------------------------------------------------- 1. inbound
# Every SMS text a resident might send; one of them at random for each SMS.
INBOUND_TEXTS=(
	"Bonjour, la porte du local vélos ferme mal depuis hier soir, quelqu'un peut prévenir le gardien ? Merci"
	"Fuite d'eau au 3e étage cage B, ça coule dans l'escalier. J'ai fermé le robinet général de l'étage."
	"Je donne une poussette en bon état, à venir chercher au 2e gauche ce week-end."
	"L'ascenseur est encore en panne, les personnes âgées du 5e ne peuvent pas descendre."
	"Qui a trouvé un trousseau de clés avec un porte-clés rouge devant les boîtes aux lettres ?"
)

# inbound_run WHO: one run of N_IN SMS into the sink or palierd; sets RUN_RATE, RUN_NOTE.
inbound_run() {
	local who=$1 hp pid t0 t1 got=0 base=0 i msgs=() ph cpu0 cpu1 thr=0 th el drops0 drops1 conns cs0 cs1 pg0 pg1 k0 k1
	RUN_RATE=0 RUN_NOTE=""
	hp=$(free_port)
	if [ "$who" = sink ]; then
		start_sink "$hp" || return 1
		pid=$SINK_PID
	else
		{ conf; printf '[http]\nlisten = 127.0.0.1:%s\npublic_url = http://127.0.0.1:%s\n' "$hp" "$hp"
		  printf '[sms]\nwebhook_secret = %s\nallow = 127.0.0.1\n' "$SECRET"; } > "$W/sms_in.conf"
		start_palierd sms_in http_listening --role http || return 1
		pid=$PALIERD_PID
		base=$(sql "SELECT coalesce(max(id), 0) FROM inbound")
	fi
	kannel_start "in-$who-$RANDOM" "$hp" || { stop_pid "$pid"; return 1; }
	for ph in "${PHONES[@]}"; do
		msgs+=("$ph $SHORT text ${INBOUND_TEXTS[$((RANDOM % ${#INBOUND_TEXTS[@]}))]}")
	done
	cpu0=$(cpu_s "$pid") pg0=$(pg_cpu) k0=$(kannel_cpu)
	cs0=$(ctxt_switches "$pid")
	drops0=$(listen_drops)
	t0=$(now)
	fakesmsc_bulk "$N_IN" "${msgs[@]}"
	# Polled every 0.5 s, by the rows after those already there (the primary
	# key's range, not the whole table); the end time comes from the data.
	for ((i = 0; i < RUN_TIMEOUT * 2; i++)); do
		sleep 0.5
		th=$(threads_of "$pid"); [ "${th:-0}" -gt "$thr" ] && thr=$th
		if [ "$who" = sink ]; then got=$(sink_stat "$hp" inbound); else got=$(sql "SELECT count(*) FROM inbound WHERE id > $base AND via = 'kannel'"); fi
		[ "${got:-0}" -ge "$N_IN" ] && break
		alive "$pid" || break
	done
	cpu1=$(cpu_s "$pid") pg1=$(pg_cpu) k1=$(kannel_cpu)
	cs1=$(ctxt_switches "$pid")	# its connection threads still live: Kannel keeps them open
	drops1=$(listen_drops)
	conns=$(closed_conns "$hp")
	if [ "${got:-0}" -ge "$N_IN" ]; then
		# The time of the last arrival: the sink's clock, or the last batch's transaction.
		if [ "$who" = sink ]; then t1=$(sink_stat "$hp" last)
		else t1=$(sql "SELECT extract(epoch FROM max(received_at)) FROM inbound WHERE id > $base AND via = 'kannel'"); fi
	else
		t1=$(now)
	fi
	el=$(calc "$t1 - $t0" "%.3f")
	RUN_RATE=$(calc "${got:-0} / $el" "%.0f")
	RUN_NOTE="$who: ${got:-0} of $N_IN in $el s = $RUN_RATE SMS/s, CPU-s: $who $(calc "$cpu1 - $cpu0"), PostgreSQL $(calc "$pg1 - $pg0"), Kannel $(calc "$k1 - $k0"); up to $thr threads, $(calc "($cs1 - $cs0) / ($got > 0 ? $got : 1)" "%.0f") context switches per SMS, $((drops1 - drops0)) SYNs dropped, $conns connections closed"
	[ "${got:-0}" -lt "$N_IN" ] && RUN_NOTE+=" -- gave up ($(alive "$pid" && echo "timeout $RUN_TIMEOUT s" || echo "process died"))"
	if [ "$who" = palierd ]; then
		local tf
		tf=$(grep -c 'result=tempfail' "$W/sms_in.log")
		[ "$tf" -gt 0 ] && RUN_NOTE+=", $tf answered 503"
		RUN_NOTE+="$(grep -E 'level=(warn|error|fatal)' "$W/sms_in.log" | sed 's/.*event=\([a-z_]*\).*/\1/' | sort | uniq -c | awk '{ printf ", %s x %s", $1, $2 }')"
	fi
	local ke; ke=$(kannel_errors); [ -n "$ke" ] && RUN_NOTE+="; $ke"
	kannel_stop
	stop_pid "$pid"
	[ "${got:-0}" -ge "$N_IN" ]
}

# inbound_direct: palierd's webhook alone, no Kannel: wrk -c512 GETs what smsbox
# would send (a distinct id each, residents' numbers); sets DIRECT_NOTE.
inbound_direct() {
	local hp pid rps non2xx text phones="" ph
	DIRECT_NOTE=""
	command -v wrk >/dev/null || return 0
	hp=$(free_port)
	{ conf; printf '[http]\nlisten = 127.0.0.1:%s\npublic_url = http://127.0.0.1:%s\n' "$hp" "$hp"
	  printf '[sms]\nwebhook_secret = %s\nallow = 127.0.0.1\n' "$SECRET"; } > "$W/sms_direct.conf"
	start_palierd sms_direct http_listening --role http || return 1
	pid=$PALIERD_PID
	for ph in "${PHONES[@]}"; do phones+="\"$(urlenc "$ph")\", "; done
	text=$(urlenc "${INBOUND_TEXTS[1]}")
	cat > "$W/direct.lua" <<EOL
local phones = { $phones }
local n = 0
threads = 0
-- setup runs in the main Lua state: each thread gets its own tid (a global there).
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
	n = n + 1
	local from = phones[(n % #phones) + 1]
	return wrk.format("GET", "/sms/kannel?from=" .. from .. "&to=$SHORT&text=$text&id=direct-$RANDOM-" .. tid .. "-" .. n .. "&coding=0&charset=UTF-8&secret=$SECRET")
end
EOL
	timeout 30 wrk -t 2 -c 512 -d 5s -s "$W/direct.lua" "http://127.0.0.1:$hp" > "$W/direct.out" 2>&1
	rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$W/direct.out")
	non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$W/direct.out")
	DIRECT_NOTE="palierd's webhook alone (wrk -t2 -c512, no Kannel, fsync on): $(calc "${rps:-0}" "%.0f") SMS/s${non2xx:+ ($non2xx non-2xx)}, latency $(awk '$1 == "Latency" { print $2 " avg, max " $4 }' "$W/direct.out")"
	stop_pid "$pid"
}

# inbound_isolated: one more pair of runs with the gateway and the receiver on
# CPUs of their own: Kannel and fakesmsc on CPU 0, the receiver (sms-sink, or
# palierd and PostgreSQL) on the others. On a small machine the shared runs
# above weigh the receiver's CPU against Kannel's, since both compete for the
# same cores; here each side has its own. Sets ISOLATED_NOTE (empty on one CPU).
inbound_isolated() {
	local n last rest sink pal
	ISOLATED_NOTE=""
	n=$(nproc 2>/dev/null || echo 1)
	[ "$n" -ge 2 ] && command -v taskset >/dev/null || return 0
	last=$((n - 1))
	rest=1; [ "$last" -gt 1 ] && rest=1-$last
	K_PIN="taskset -c 0" R_PIN="taskset -c $rest"
	pin_pg "$rest"
	inbound_run sink; sink=$RUN_RATE
	inbound_run palierd; pal=$RUN_RATE
	K_PIN= R_PIN=
	pin_pg "0-$last"
	ISOLATED_NOTE="each side on CPUs of its own (Kannel and fakesmsc on CPU 0; the receiver, and PostgreSQL, on $rest): palierd $pal SMS/s, sms-sink $sink SMS/s: $(calc "($sink > 0 ? 100 * $pal / $sink : 0)" "%.0f")% (one run each)"
}

bench_in() {
	local r sink_rates=() pal_rates=() notes=() best_sink best_pal pct ok=1 stored lost=""
	mapfile -t PHONES < <(sql "SELECT phone FROM residents WHERE phone IS NOT NULL ORDER BY id LIMIT 40")
	for ((r = 1; r <= ROUNDS; r++)); do
		inbound_run sink; sink_rates+=("$RUN_RATE"); notes+=("round $r, $RUN_NOTE")
		inbound_run palierd; pal_rates+=("$RUN_RATE"); notes+=("round $r, $RUN_NOTE")
		[ "$RUN_RATE" = 0 ] && break
	done
	best_sink=$(max_of "${sink_rates[@]}")
	best_pal=$(max_of "${pal_rates[@]}")
	stored=$(sql "SELECT count(*) FROM inbound WHERE via = 'kannel' AND dedup_key NOT LIKE '%direct-%'")
	[ "$stored" != "$((N_IN * ${#pal_rates[@]}))" ] && lost="$stored of $((N_IN * ${#pal_rates[@]})) stored"
	pct=$(calc "($best_sink > 0 ? 100 * $best_pal / $best_sink : 0)" "%.0f")
	[ "$pct" -ge 80 ] && [ -z "$lost" ] || ok=0
	say "sms inbound: palierd $best_pal SMS/s committed (Kannel get-url -> --role http -> inbound, $N_IN SMS from ${#PHONES[@]} residents), sms-sink $best_sink SMS/s: $pct% of the ceiling (target >= 80%)"
	for r in "${notes[@]}"; do note "$r"; done
	inbound_isolated
	[ -n "$ISOLATED_NOTE" ] && note "diagnostic: $ISOLATED_NOTE"
	inbound_direct
	[ -n "$DIRECT_NOTE" ] && note "diagnostic: $DIRECT_NOTE"
	note "dispositions: $(sql "SELECT string_agg(disposition || ' ' || n, ', ') FROM (SELECT disposition, count(*) n FROM inbound WHERE via = 'kannel' AND dedup_key NOT LIKE '%direct-%' GROUP BY 1 ORDER BY 2 DESC) x")"
	[ -n "$lost" ] && note "MISSING: $lost"
	result "sms inbound" "$best_pal/s = $pct% of $best_sink" ">= 80% of sms-sink" $ok "$lost"
}

# ---------------------------------------------------------------- 2. outbound
# queue_out N: N answers (template sms-help) to residents with a phone, in one transaction.
queue_out() {
	sql "WITH c AS (INSERT INTO contents (purpose, data) VALUES ('answer', '{\"template\": \"sms-help\"}') RETURNING id),
		r AS (SELECT array_agg(id ORDER BY id) AS ids, array_agg(phone ORDER BY id) AS phones
		      FROM residents WHERE phone IS NOT NULL AND sms_stopped_at IS NULL)
		INSERT INTO outgoing (content_id, kind, resident_id, recipient)
		SELECT c.id, 'sms', r.ids[1 + g % cardinality(r.ids)], r.phones[1 + g % cardinality(r.ids)]
		FROM c, r, generate_series(0, $1 - 1) g" >/dev/null
}
# 1 while any SMS is queued or being sent, else 0: polled during the run,
# so it asks the claim's own indexes (a count would read the whole queue).
out_left() { sql "SELECT (EXISTS (SELECT 1 FROM outgoing WHERE kind = 'sms' AND state = 'queued')
	OR EXISTS (SELECT 1 FROM outgoing WHERE kind = 'sms' AND state = 'sending'))::int"; }
# The SMS bearerbox handed to the fake SMS centre so far.
smsc_sent() { curl -s --max-time 2 "$K_STATUS" | sed -n 's/.*FAKE:.*sent: sms \([0-9]*\) .*/\1/p'; }
smsc_sent_ge() { [ "$(smsc_sent)" -ge "$1" ] 2>/dev/null; }

# outbound_palierd: one run of palierd --role deliver over N_OUT queued SMS; sets RUN_*.
outbound_palierd() {
	local sink pid t0 t1 left i cpu0 cpu1 el counts sent failed other first fs want segs drops0 drops1 conns pg0 pg1 k0 k1
	RUN_RATE=0 RUN_NOTE="" RUN_SECS=0
	sql "DELETE FROM outgoing; DELETE FROM contents WHERE purpose = 'answer'" >/dev/null
	sink=$(free_port)
	start_sink "$sink" || return 1
	kannel_start "out-palierd-$RANDOM" "$sink" || return 1
	fakesmsc_drain || { kannel_stop; return 1; }
	# Delivery reports come back to the sink: the http role is not what is measured.
	{ conf; printf '[http]\npublic_url = http://127.0.0.1:%s\n' "$sink"
	  printf '[sms]\ngateway = kannel\nurl = http://127.0.0.1:%s/cgi-bin/sendsms\nuser = %s\npassword = %s\n' "$K_SENDSMS" "$K_USER" "$K_PASS"
	  printf 'sender = %s\nwebhook_secret = %s\nrate = 100000\nquiet_hours = none\n' "$SHORT" "$SECRET"; } > "$W/sms_out.conf"
	# palierd runs (as it would) before the SMS are queued: the clock starts
	# when they are committed, not when the process is launched.
	start_palierd sms_out db_connected --role deliver || { kannel_stop; return 1; }
	pid=$PALIERD_PID
	drops0=$(listen_drops)
	cpu0=$(cpu_s "$pid") pg0=$(pg_cpu) k0=$(kannel_cpu)
	queue_out "$N_OUT"
	t0=$(now)
	for ((i = 0; i < RUN_TIMEOUT * 5; i++)); do
		left=$(out_left)
		[ "$left" = 0 ] && break
		alive "$pid" || break
		sleep 0.2
	done
	cpu1=$(cpu_s "$pid") pg1=$(pg_cpu) k1=$(kannel_cpu)
	t1=$(now)
	drops1=$(listen_drops)
	conns=$(closed_conns "$K_SENDSMS")
	read -r sent failed other first fs < <(sql "SELECT count(*) FILTER (WHERE state = 'sent'), count(*) FILTER (WHERE state = 'failed'),
		count(*) FILTER (WHERE state NOT IN ('sent', 'failed')), extract(epoch FROM min(sent_at)), extract(epoch FROM max(sent_at))
		FROM outgoing WHERE kind = 'sms'" | tr '|' ' ')
	[ "$left" = 0 ] && [ -n "$fs" ] && t1=$fs	# the last batch's record
	el=$(calc "$t1 - $t0" "%.3f")
	RUN_SECS=$el
	RUN_RATE=$(calc "$sent / $el" "%.0f")
	RUN_NOTE="palierd: $sent sent, $failed failed, $other left of $N_OUT in $el s = $RUN_RATE SMS/s (from the queueing; first batch recorded after $(calc "${first:-$t0} - $t0" "%.2f") s), CPU-s: palierd $(calc "$cpu1 - $cpu0"), PostgreSQL $(calc "$pg1 - $pg0"), Kannel $(calc "$k1 - $k0"); $((drops1 - drops0)) SYNs dropped by full listen queues, $conns connections to sendsms closed"
	[ "$left" != 0 ] && RUN_NOTE+=" -- gave up ($(alive "$pid" && echo "timeout $RUN_TIMEOUT s" || echo "palierd died"))"
	[ "$failed" -gt 0 ] && RUN_NOTE+="; errors: $(sql "SELECT string_agg(e, '; ') FROM (SELECT count(*) || ' x ' || left(last_error, 80) e FROM outgoing WHERE state = 'failed' GROUP BY last_error ORDER BY count(*) DESC LIMIT 2) x")"
	RUN_BATCHES=$(grep -c 'event=sent kind=sms' "$W/sms_out.log")
	# The fake SMS centre gets them all (Kannel may still be draining its queue).
	segs=$(sql "SELECT coalesce(sum(segments), 0) FROM outgoing WHERE kind = 'sms' AND state = 'sent'")
	until_ok 10 smsc_sent_ge "$segs"
	RUN_NOTE+="; bearerbox gave fakesmsc $(smsc_sent) of $segs parts"
	# The whole of Kannel's work: accepted, handed to the SMS centre, and
	# both delivery reports (dlr-mask 31: the centre's and the phone's) called back.
	if [ "$left" = 0 ] && until_ok 30 dlrs_ge "$sink" $((2 * sent)); then
		el=$(calc "$(sink_stat "$sink" dlr_last) - $t0" "%.3f")
		RUN_RATE=$(calc "$sent / $el" "%.0f")
		RUN_NOTE+=", and their $((2 * sent)) delivery reports back after $el s = $RUN_RATE SMS/s"
	else
		RUN_RATE=0
		RUN_NOTE+=", the sink got $(sink_stat "$sink" dlr) of $((2 * sent)) delivery reports"
	fi
	local ke; ke=$(kannel_errors); [ -n "$ke" ] && RUN_NOTE+="; $ke"
	stop_pid "$pid"
	kannel_stop
	# What palier asked Kannel to send (smsbox's access log is complete once it stopped).
	RUN_SAMPLE=$(sed -n "s/.*send-SMS request added - .* request: '\(.*\)'\$/\1/p" "$KD/smsbox-access.log" | head -n 1)
	stop_pid "$SINK_PID"
	[ "$left" = 0 ]
}

# outbound_wrk SECONDS: wrk against a fresh Kannel's sendsms with palier's request; sets RUN_*.
outbound_wrk() {
	local sink url text to non2xx drops0 drops1 conns k0 k1 phones t0 el="?" done
	RUN_RATE=0 RUN_NOTE=""
	sink=$(free_port)
	start_sink "$sink" || return 1
	kannel_start "out-wrk-$RANDOM" "$sink" || return 1
	fakesmsc_drain || { kannel_stop; return 1; }
	text=$SMS_TEXT
	# The requests gateway.c makes (kannel_request), parameter for parameter,
	# for the residents queue_out chose, in its order: each to its own
	# number, each with its own delivery-report id (Kannel keeps a report
	# entry per message and calls the dlr-url back for each). N_OUT of them,
	# as many as palier sends; timed the same way, until the last report.
	phones=$(sql "SELECT string_agg('\"' || phone || '\"', ',' ORDER BY id) FROM residents
		WHERE phone IS NOT NULL AND sms_stopped_at IS NULL")
	to=$(sql "SELECT phone FROM residents WHERE phone IS NOT NULL ORDER BY id LIMIT 1")
	url="http://127.0.0.1:$K_SENDSMS/cgi-bin/sendsms?username=$(urlenc "$K_USER")&password=$(urlenc "$K_PASS")&to=$(urlenc "$to")&text=$(urlenc "$text")&charset=UTF-8&coding=0&from=$SHORT"
	curl -s --max-time 5 "$url" > "$W/wrk-probe.out"	# no dlr-url: no report to count
	cat > "$W/out.lua" <<EOL
local phones = { $phones }
local n, got, quota = 0, 0, $((N_OUT / 2))
threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
local function enc(s) return (s:gsub("[^%w%-._~]", function(c) return string.format("%%%02X", c:byte()) end)) end
local head = "/cgi-bin/sendsms?username=" .. enc("$K_USER") .. "&password=" .. enc("$K_PASS") .. "&to="
local tail = "&text=" .. enc("$text") .. "&charset=UTF-8&coding=0&from=$SHORT&dlr-mask=31&dlr-url="
function request()
	n = n + 1
	local id = (tid - 1) * quota + n
	return wrk.format("GET", head .. enc(phones[(id % #phones) + 1]) .. tail ..
		enc("http://127.0.0.1:$sink/sms/dlr/kannel?secret=$SECRET&id=" .. id .. "&status=%d"))
end
-- Each thread sends its half, then stops (requests still open are not counted).
function response(status, headers, body)
	if status == 202 or status == 200 then got = got + 1 end
	if got >= quota then wrk.thread:stop() end
end
function done(summary, latency, requests) io.write(string.format("accepted %d\n", summary.requests)) end
EOL
	drops0=$(listen_drops) k0=$(kannel_cpu)
	t0=$(now)
	# A wrk thread that stopped still waits out -d: it is interrupted (and
	# prints its summary) once the N_OUT messages' reports are all in. A few
	# requests more than N_OUT were in flight when the threads stopped: they
	# load Kannel during the timing and are not counted (the ceiling is low by
	# at most 64 in N_OUT).
	wrk -t 2 -c 64 -d "${RUN_TIMEOUT}s" --latency -s "$W/out.lua" "http://127.0.0.1:$K_SENDSMS" > "$W/wrk.out" 2>&1 &
	local wpid=$!
	if until_ok "$RUN_TIMEOUT" dlrs_ge "$sink" $((2 * N_OUT)); then
		el=$(calc "$(sink_stat "$sink" dlr_last) - $t0" "%.3f")
		RUN_RATE=$(calc "$N_OUT / $el" "%.0f")
	fi
	kill -INT "$wpid" 2>/dev/null
	wait "$wpid" 2>/dev/null
	done=$(sed -n 's/^accepted \([0-9]*\)/\1/p' "$W/wrk.out")
	drops1=$(listen_drops)
	k1=$(kannel_cpu)
	conns=$(closed_conns "$K_SENDSMS")
	non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$W/wrk.out")
	RUN_NOTE="wrk: ${done:-0} requests (each to its own resident's number with its own report id, probe answered '$(head -c 40 "$W/wrk-probe.out")'${non2xx:+, $non2xx non-2xx}), the reports of $N_OUT back after $el s = $RUN_RATE SMS/s, p50 $(awk '$1 == "50%" { print $2 }' "$W/wrk.out"), p99 $(awk '$1 == "99%" { print $2 }' "$W/wrk.out"), Kannel $(calc "$k1 - $k0") CPU-s, $((drops1 - drops0)) SYNs dropped, $conns connections closed"
	[ "$RUN_RATE" = 0 ] && RUN_NOTE+=" -- the sink got $(sink_stat "$sink" dlr) reports"
	local ke; ke=$(kannel_errors); [ -n "$ke" ] && RUN_NOTE+="; $ke"
	kannel_stop
	stop_pid "$SINK_PID"
}

# outbound_gateway: palier's Kannel backend (daemon/deliver/gateway.c) alone, no
# database: 2 threads x 200 per send() as send.c does, then all N in one send()
# per thread; sets GW_NOTE.
outbound_gateway() {
	local sink a b
	GW_NOTE=""
	[ -x "$W/sms-gateway" ] || return 0
	sink=$(free_port)
	start_sink "$sink" || return 1
	kannel_start "out-gateway-$RANDOM" "$sink" || { stop_pid "$SINK_PID"; return 1; }
	fakesmsc_drain || { kannel_stop; stop_pid "$SINK_PID"; return 1; }
	set -- "http://127.0.0.1:$K_SENDSMS/cgi-bin/sendsms" "$K_USER" "$K_PASS" "$SHORT" \
		"http://127.0.0.1:$sink/sms/dlr/kannel?secret=$SECRET" "$SMS_TEXT" "$N_OUT" 2
	a=$(timeout 60 "$W/sms-gateway" "$@" 200 2>&1 | tail -n 1)
	b=$(timeout 60 "$W/sms-gateway" "$@" $((N_OUT / 2)) 2>&1 | tail -n 1)
	GW_NOTE="palier's gateway.c alone, no database: ${a#gateway: }; ${b#gateway: }"
	kannel_stop
	stop_pid "$SINK_PID"
}

bench_out() {
	local r pal_rates=() wrk_rates=() notes=() best_pal best_wrk pct ok=1 missing=""
	if ! command -v wrk >/dev/null; then
		say "sms outbound: wrk is missing (apt-get install wrk): no ceiling"
	fi
	# The text palier renders for template sms-help (checked against what fakesmsc gets).
	SMS_TEXT="Palier : $(grep -v '^{{!' templates/sms-help.sms | sed 's/^{{from_name}} : //; s/{{#contact}}.*{{\/contact}}//' | tr -d '\n')"
	for ((r = 1; r <= ROUNDS; r++)); do
		outbound_palierd || missing="not all sent"
		pal_rates+=("$RUN_RATE"); notes+=("round $r, $RUN_NOTE, $RUN_BATCHES batches")
		[ -n "$RUN_SAMPLE" ] && [ "$RUN_SAMPLE" != "$SMS_TEXT" ] &&
			notes+=("round $r: palier sent '$RUN_SAMPLE', wrk sends '$SMS_TEXT'")
		if command -v wrk >/dev/null; then
			outbound_wrk
			wrk_rates+=("$RUN_RATE"); notes+=("round $r, $RUN_NOTE")
		fi
		[ -n "$missing" ] && break
	done
	best_pal=$(max_of "${pal_rates[@]}")
	best_wrk=$(max_of "${wrk_rates[@]:-0}")
	pct=$(calc "($best_wrk > 0 ? 100 * $best_pal / $best_wrk : 0)" "%.0f")
	[ "$pct" -ge 80 ] && [ -z "$missing" ] || ok=0
	say "sms outbound: palierd $best_pal SMS/s ($N_OUT queued answers, --role deliver, rate 100000, until Kannel took them all and called back their delivery reports), wrk -c64 $best_wrk/s (the same $N_OUT requests into the same sendsms, timed the same way): $pct% of the ceiling (target >= 80%)"
	for r in "${notes[@]}"; do note "$r"; done
	outbound_gateway
	[ -n "$GW_NOTE" ] && note "diagnostic: $GW_NOTE"
	result "sms outbound" "$best_pal/s = $pct% of $best_wrk" ">= 80% of wrk sendsms" $ok "$missing"
}

# ---------------------------------------------------------------- 3. votes
# A poll over the whole roster, then N_VOTE SMS votes ("1", "2", "3", "Oui",
# "non merci"...) from the residents' phones injected by fakesmsc through
# Kannel into palierd (all roles: votes are read, counted and confirmed).
# Timed until every vote is recorded; then counted: each SMS one vote row,
# each voter one ballot holding a choice, none lost, none twice.
bench_vote() {
	local hp pid t0 t1 n=$N_VOTE i got=0 msgs=() ph poll el rate bad="" voters ballots counted
	hp=$(free_port)
	{ conf; printf '[http]\nlisten = 127.0.0.1:%s\npublic_url = http://127.0.0.1:%s\n' "$hp" "$hp"
	  printf '[smtp]\nrelay = file:%s/vote-mail\n[sms]\ngateway = file:%s/vote-sms\nwebhook_secret = %s\nallow = 127.0.0.1\nquiet_hours = 00:00-23:59\n' \
		"$W" "$W" "$SECRET"; } > "$W/sms_vote.conf"
	if ! "$BIN/palierctl" -c "$W/sms_vote.conf" poll create --channel "$(sql "SELECT slug FROM channels WHERE kind = 'city' LIMIT 1")" \
		--question "Faut-il ouvrir la médiathèque le dimanche matin ?" --option Oui --option Non --option "Sans avis" \
		--closes "$(date -d '+7 days' '+%Y-%m-%d 18:00')" > "$W/vote-poll.out" 2>&1; then
		result "sms votes" "poll create failed" "all counted" 0 "$(head -n 1 "$W/vote-poll.out")"
		return
	fi
	poll=$(sed -n 's/^poll \([0-9]*\) .*/\1/p' "$W/vote-poll.out")
	# Invitations are not timed: SMS wait for quiet hours, emails go to files.
	sql "UPDATE outgoing SET state = 'cancelled' WHERE state = 'queued'" >/dev/null
	mapfile -t VOTERS < <(sql "SELECT r.phone FROM electorate e JOIN residents r ON r.id = e.resident_id
		WHERE e.poll_id = $poll AND r.phone IS NOT NULL AND r.id = (SELECT min(id) FROM residents x WHERE x.phone = r.phone)
		ORDER BY random() LIMIT 2000")
	for ph in "${VOTERS[@]}"; do
		for a in 1 2 3 Oui "non merci" "Sans avis"; do msgs+=("$ph $SHORT text $a"); done
	done
	start_palierd sms_vote http_listening || return 1
	pid=$PALIERD_PID
	kannel_start "vote-$RANDOM" "$hp" || { stop_pid "$pid"; return 1; }
	t0=$(now)
	fakesmsc_bulk "$n" "${msgs[@]}"
	for ((i = 0; i < RUN_TIMEOUT * 5; i++)); do
		sleep 0.2
		got=$(sql "SELECT count(*) FROM votes WHERE poll_id = $poll")
		[ "${got:-0}" -ge "$n" ] && break
		alive "$pid" || break
	done
	t1=$(sql "SELECT extract(epoch FROM max(received_at)) FROM votes WHERE poll_id = $poll")
	rate=$(calc "${got:-0} / ($t1 - $t0)" "%.0f")
	voters=$(sql "SELECT count(DISTINCT resident_id) FROM votes WHERE poll_id = $poll")
	ballots=$(sql "SELECT count(*) FROM ballots WHERE poll_id = $poll")
	counted=$(sql "SELECT count(*) FILTER (WHERE outcome = 'counted') || '/' || count(DISTINCT inbound_id) FROM votes WHERE poll_id = $poll")
	[ "$got" = "$n" ] || bad+="$got of $n votes recorded; "
	[ "$counted" = "$n/$n" ] || bad+="counted/distinct $counted; "
	[ "$voters" = "$ballots" ] || bad+="$voters voters but $ballots ballots; "
	[ "$(sql "SELECT count(*) FROM ballots b WHERE b.vote_id <> (SELECT max(v.id) FROM votes v WHERE v.poll_id = b.poll_id AND v.resident_id = b.resident_id AND v.outcome = 'counted')")" = 0 ] ||
		bad+="a ballot is not its voter's last vote; "
	say "sms votes: $got SMS votes through Kannel counted in $(calc "$t1 - $t0") s = $rate votes/s ($voters voters, $ballots ballots, tally $(sql "SELECT string_agg(n::text, '/' ORDER BY choice) FROM (SELECT choice, count(*) n FROM ballots WHERE poll_id = $poll GROUP BY 1) x"))"
	note "$(grep -c 'result=tempfail' "$W/sms_vote.log") answered 503; $(kannel_errors)"
	[ -n "$bad" ] && note "WRONG: $bad"
	result "sms votes" "$n in $(calc "$t1 - $t0") s = $rate/s" "all counted, once" "$([ -z "$bad" ] && echo 1 || echo 0)" "$bad"
	kannel_stop
	stop_pid "$pid"
}

# ---------------------------------------------------------------- run
for b in in out vote; do
	case " $wanted " in *" $b "*) "bench_$b" ;; esac
done
slow=$(awk '/duration: [0-9.]+ ms/ { d = $0; sub(/.*duration: /, "", d); sub(/ ms.*/, "", d)
	s = $0; sub(/.*(execute [^:]*|statement): /, "", s); s = substr(s, 1, 90); n[s]++; if (d + 0 > m[s]) m[s] = d + 0 }
	END { for (s in n) printf "%6d x  max %7.0f ms  %s\n", n[s], m[s], s }' "$W/pg/log" 2>/dev/null | sort -k4,4nr | head -n 5)
if [ -n "$slow" ]; then note "statements over $PG_LOG_MS ms:"; printf '%s\n' "$slow" | sed 's/^/#     /'; fi

say ""
say "# summary (load average $(load_avg) at the end)"
printf '%-18s %-34s %-26s %s\n' BENCHMARK FIGURE TARGET RESULT
for i in "${!names[@]}"; do
	printf '%-18s %-34s %-26s %s\n' "${names[$i]}" "${figures[$i]}" "${targets[$i]}" "${verdicts[$i]}"
done
exit 0
