# lib.sh — sourced by every integration test. Gives each test its own
# database in the private cluster that tests/run.sh started, a config file
# pointing at it, and TAP-like assertions ("ok - ..." / "not ok - ...").
# Environment from run.sh: PALIER_BIN, PG_SOCK, PG_PORT, T_TMP.
set -u
: "${PALIER_BIN:?run through tests/run.sh}" "${PG_SOCK:?}" "${PG_PORT:?}" "${T_TMP:?}"
T_NAME=$(basename "$0" .sh)
T_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PALIERCTL=$PALIER_BIN/palierctl
PALIERD=$PALIER_BIN/palierd
cd "$T_TMP"

ok() { echo "ok - $T_NAME: $1"; }
not_ok() {
	echo "not ok - $T_NAME: $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | head -n 40 | sed 's/^/#   /'; done
}

# run CMD...: runs it; sets RC, OUT (stdout) and ERR (stderr). A sanitizer
# report in ERR is a failure of its own.
run() {
	"$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
	RC=$?
	OUT=$(cat "$T_TMP/.out")
	ERR=$(cat "$T_TMP/.err")
	if grep -qE 'Sanitizer|runtime error:' "$T_TMP/.err"; then
		not_ok "no sanitizer report from: $*" "$ERR"
	fi
	return 0
}

# expect NAME COND...: one assertion; COND is a command (test, grep...).
expect() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "rc=${RC:-} stdout: ${OUT:-}" "stderr: ${ERR:-}"; fi
}
expect_rc() { local want=$1 name=$2; if [ "${RC:-x}" = "$want" ]; then ok "$name"; else not_ok "$name (exit $RC, wanted $want)" "stdout: $OUT" "stderr: $ERR"; fi; }
expect_eq() {
	local name=$1 got=$2 want=$3
	if [ "$got" = "$want" ]; then ok "$name"; else not_ok "$name" "got:  $got" "want: $want"; fi
}
has() { printf '%s' "$1" | grep -qF -- "$2"; }

# newdb NAME: a fresh database and a config for it, exported as PALIER_CONF.
newdb() {
	# Both suites run at once: each has its own databases.
	case $PALIER_BIN in *san*) T_DB=t_san_$1 ;; *) T_DB=t_$1 ;; esac
	psql -XAtq -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres \
		-c "DROP DATABASE IF EXISTS $T_DB" -c "CREATE DATABASE $T_DB" >/dev/null
	T_CONF=$T_TMP/$1.conf
	cat > "$T_CONF" <<EOC
[database]
url = postgresql:///$T_DB?host=$PG_SOCK&port=$PG_PORT&user=postgres
[mail]
domain = residence.example
[security]
secret_file = $T_TMP/secret
[filters]
dir = $T_TOP/filters
[templates]
dir = $T_TOP/templates
EOC
	export PALIER_CONF=$T_CONF
}

# sql QUERY [PARAMS are not needed: tests only read]: one value per line.
sql() { psql -XAtq -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$T_DB" -c "$1"; }

# A dump of the directory tables, to compare before and after a refused write.
snapshot() {
	sql "SELECT 'c', id, kind, slug, name, parent_id, address, updated_at FROM channels ORDER BY id" \
		| md5sum
	sql "SELECT 'r', r.* FROM residents r ORDER BY id" | md5sum
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))	# below the kernel's client ports (32768+)
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo $p; return; }
	done
}

# wait_for PATTERN FILE [SECONDS] [FROM-BYTE]: until FILE holds PATTERN (past FROM-BYTE).
wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		tail -c +"$((${4:-0} + 1))" "$2" 2>/dev/null | grep -q -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# start_palierd CONF [ARGS...]: runs palierd in the background (PALIERD_PID),
# its log in $T_TMP/palierd.log, and waits until it logs $WAIT_EVENT
# (lmtp_listening unless set).
start_palierd() {
	local conf=$1 from
	shift
	from=$(wc -c < "$T_TMP/palierd.log" 2>/dev/null || echo 0)
	"$PALIERD" -c "$conf" "$@" >>"$T_TMP/palierd.log" 2>&1 &
	PALIERD_PID=$!
	wait_for "event=${WAIT_EVENT:-lmtp_listening}" "$T_TMP/palierd.log" 10 "$from" ||
		{ not_ok "palierd starts" "$(tail -n 20 "$T_TMP/palierd.log")"; return 1; }
}

stop_palierd() {
	[ -n "${PALIERD_PID:-}" ] || return 0
	kill -TERM "$PALIERD_PID" 2>/dev/null
	wait "$PALIERD_PID" 2>/dev/null
	PALIERD_RC=$?
	PALIERD_PID=
}

# The log lines of palierd that are warnings or worse, minus expected ones (regex).
log_problems() {
	grep -E 'level=(warn|error|fatal)|Sanitizer|runtime error' "$T_TMP/palierd.log" |
		grep -vE "${1:-^$}" || true
}

# dead: palierd was started and is no longer running.
dead() { [ -n "${PALIERD_PID:-}" ] && ! kill -0 "$PALIERD_PID" 2>/dev/null; }

# until_ok SECONDS CMD...: until CMD succeeds (at once if palierd died).
until_ok() {
	local end=$((SECONDS + $1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" && return 0
		dead && break
		sleep 0.2
	done
	"$@"
}

# queue_idle: nothing in the outgoing queue is due now.
queue_idle() {
	[ "$(sql "SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending') AND not_before <= now()")" = 0 ]
}
# settle [SECONDS]: waits until queue_idle (30 s at most; an assertion fails if it never is).
settle() {
	until_ok "${1:-30}" queue_idle || not_ok "the outgoing queue empties" \
		"$(sql "SELECT id, state, recipient, last_error FROM outgoing WHERE state IN ('queued', 'sending')")"
}

# conf_all_roles: every role of palierd on loopback, outgoing mail and SMS
# as files under $T_TMP, the Kannel webhook open to 127.0.0.1 with secret
# s3cret. Sets LPORT (LMTP), HPORT and base (the http role's URL).
conf_all_roles() {
	LPORT=$(free_port)
	HPORT=$(free_port)
	while [ "$HPORT" = "$LPORT" ]; do HPORT=$(free_port); done
	base=http://127.0.0.1:$HPORT
	cat >> "$PALIER_CONF" <<EOC
[lmtp]
listen = 127.0.0.1:$LPORT
[http]
listen = 127.0.0.1:$HPORT
public_url = $base
[smtp]
relay = file:$T_TMP/mail
[sms]
gateway = file:$T_TMP/sms
quiet_hours = none
webhook_secret = s3cret
allow = 127.0.0.1
EOC
}

# mail_text FILE: an email as its reader sees it: the headers unfolded and
# decoded, a blank line, then the text part decoded (quoted-printable, UTF-8).
mail_text() {
	perl -CS -MEncode -MMIME::QuotedPrint -0777 -ne '
		s/\r\n/\n/g; my ($h, $b) = split /\n\n/, $_, 2; $h =~ s/\n[ \t]+/ /g;
		print decode("MIME-Header", $h), "\n\n";
		my ($bd) = $h =~ /boundary="([^"]+)"/; my $t = $b;
		($t) = $b =~ m{Content-Type: text/plain.*?\n\n(.*?)\n--\Q$bd\E}s if defined $bd;
		print decode("UTF-8", decode_qp($t));' "$1"
}
