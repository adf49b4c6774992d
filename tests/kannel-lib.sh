# kannel-lib.sh — a real Kannel (bearerbox, smsbox, the fake SMS centre of
# kannel-extras) for integration tests, after tests/lib.sh. Everything runs
# on 127.0.0.1 with ports from free_port; config and logs live in $T_TMP/kannel.
#   kannel_start HTTP_PORT SECRET   starts bearerbox and smsbox; get-url calls palierd on HTTP_PORT
#   fakesmsc_start                  connects the fake SMS centre's client (the phones)
#   fakesmsc_send LINE              injects "FROM TO text MSG" (or ucs2) as a phone would
#   fakesmsc_received               what the fake SMS centre got: FROM<TAB>TO<TAB>TYPE<TAB>TEXT
#   kannel_problems ALLOWED         new WARNING/ERROR/PANIC lines in Kannel's logs
#   kannel_stop                     an orderly shutdown (bearerbox tells smsbox to die)
KANNEL_BEARERBOX=${KANNEL_BEARERBOX:-/usr/sbin/bearerbox}
KANNEL_SMSBOX=${KANNEL_SMSBOX:-/usr/sbin/smsbox}
KANNEL_FAKESMSC=${KANNEL_FAKESMSC:-/usr/lib/kannel/test/fakesmsc}
K_DIR=$T_TMP/kannel
K_PIDS=()
K_USED_PORTS=" "

kannel_available() {
	[ -x "$KANNEL_BEARERBOX" ] && [ -x "$KANNEL_SMSBOX" ] && [ -x "$KANNEL_FAKESMSC" ]
}

# A free port not handed out before in this test (free_port alone may
# return the same port twice while nothing listens on it yet).
k_port() {
	local p
	while :; do
		p=$(free_port)
		case $K_USED_PORTS in *" $p "*) continue ;; esac
		K_USED_PORTS+="$p "
		echo "$p"
		return
	done
}

# k_wait SECONDS CMD...: until CMD succeeds, every 0.1 s.
k_wait() {
	local i n=$(($1 * 10))
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# k_count PATTERN FILE: lines of FILE matching the extended regex (0 if none).
k_count() { grep -acE -- "$1" "$2" 2>/dev/null || true; }
k_count_ge() { [ "$(k_count "$1" "$2")" -ge "$3" ]; }

kannel_start() {
	local http_port=$1 secret=$2
	mkdir -p "$K_DIR"
	K_ADMIN_PORT=$(k_port) K_SMSBOX_PORT=$(k_port) K_SMSC_PORT=$(k_port) K_SENDSMS_PORT=$(k_port)
	K_USER=palier K_PASSWORD=kpw$RANDOM K_ADMIN_PASSWORD=adm$RANDOM
	K_SENDSMS_URL=http://127.0.0.1:$K_SENDSMS_PORT/cgi-bin/sendsms
	sed -e "s|@ADMIN_PORT@|$K_ADMIN_PORT|; s|@ADMIN_PASSWORD@|$K_ADMIN_PASSWORD|" \
	    -e "s|@SMSBOX_PORT@|$K_SMSBOX_PORT|; s|@SMSC_PORT@|$K_SMSC_PORT|" \
	    -e "s|@SENDSMS_PORT@|$K_SENDSMS_PORT|; s|@HTTP_PORT@|$http_port|" \
	    -e "s|@USER@|$K_USER|; s|@PASSWORD@|$K_PASSWORD|; s|@SECRET@|$secret|" \
	    -e "s|@DIR@|$K_DIR|g" "$T_TOP/tests/fixtures/kannel/kannel.conf.in" > "$K_DIR/kannel.conf"
	: > "$K_DIR/fakesmsc.log"
	declare -gA K_MARK=()

	# -v 4: only panics on stderr; the log files get everything (log-level 0).
	"$KANNEL_BEARERBOX" -v 4 "$K_DIR/kannel.conf" >"$K_DIR/bearerbox.err" 2>&1 &
	K_BB_PID=$!
	K_PIDS+=("$K_BB_PID")
	k_wait 15 grep -q "Start-up done" "$K_DIR/bearerbox.log" 2>/dev/null ||
		{ not_ok "bearerbox starts" "$(tail -n 20 "$K_DIR/bearerbox.log" "$K_DIR/bearerbox.err" 2>&1)"; return 1; }
	"$KANNEL_SMSBOX" -v 4 "$K_DIR/kannel.conf" >"$K_DIR/smsbox.err" 2>&1 &
	K_SB_PID=$!
	K_PIDS+=("$K_SB_PID")
	k_wait 15 grep -q "Connected to bearerbox" "$K_DIR/smsbox.log" 2>/dev/null ||
		{ not_ok "smsbox starts" "$(tail -n 20 "$K_DIR/smsbox.log" "$K_DIR/smsbox.err" 2>&1)"; return 1; }

	return 0
}

# fakesmsc_start: the fake SMS centre's client, in interactive mode: one
# line on its stdin (a FIFO kept open on fd 7: EOF would crash it) is one
# SMS from a phone; every SMS Kannel sends it is logged as "Got message N: <...>".
fakesmsc_start() {
	rm -f "$K_DIR/fakesmsc.in"
	mkfifo "$K_DIR/fakesmsc.in"
	exec 7<>"$K_DIR/fakesmsc.in"
	"$KANNEL_FAKESMSC" -H 127.0.0.1 -r "$K_SMSC_PORT" -i 0 <"$K_DIR/fakesmsc.in" >"$K_DIR/fakesmsc.log" 2>&1 &
	K_FS_PID=$!
	K_PIDS+=("$K_FS_PID")
	# fakesmsc 1.4.5 aborts on its way out ("free(): double free detected",
	# in its own log): out of the job table, bash does not report it here.
	disown "$K_FS_PID"
	k_wait 15 grep -q "Fakesmsc client connected from <\?127.0.0.1" "$K_DIR/bearerbox.log" ||
		{ not_ok "fakesmsc connects to bearerbox" "$(tail -n 20 "$K_DIR/bearerbox.log" "$K_DIR/fakesmsc.log" 2>&1)"; return 1; }
	return 0
}

# fakesmsc_send LINE: one SMS from a phone, then waits (10 s at most) until
# bearerbox has taken it, so that the next line is not stuck in fakesmsc's
# stdio buffer (it selects on the descriptor, then reads with fgets). fgets
# reads 255 bytes at most: a longer line would be cut in two, the second
# half stuck until the next line: refused here.
fakesmsc_send() {
	local before bytes
	bytes=$(printf '%s' "$1" | wc -c)
	if [ "$bytes" -gt 250 ]; then
		echo "# fakesmsc_send: line of $bytes bytes, fakesmsc reads 255 at most" >&2
		return 1
	fi
	before=$(k_count "Receive SMS" "$K_DIR/access.log")
	printf '%s\n' "$1" >&7
	k_wait 10 k_count_ge "Receive SMS" "$K_DIR/access.log" $((before + 1))
}

# ucs2_data TEXT: TEXT as UTF-16BE, url-encoded for fakesmsc's ucs2 type
# (letters and digits left as they are: the line stays short).
ucs2_data() {
	printf '%s' "$1" | iconv -f UTF-8 -t UTF-16BE | od -An -v -tx1 |
		tr -s ' \n' '\n\n' | grep . | while read -r h; do
			case $h in
			3[0-9] | 4[1-9a-f] | 5[0-9a] | 6[1-9a-f] | 7[0-9a]) printf "\\x$h" ;;
			*) printf '%%%s' "$h" ;;
			esac
		done
}

# The SMS the fake SMS centre received, one per line, text decoded to UTF-8:
# FROM<TAB>TO<TAB>TYPE<TAB>TEXT. Types: text (as is), data (url-encoded
# bytes), ucs-2 (url-encoded UTF-16BE), and for a part of a concatenated
# SMS udh:REF:SEQ/PARTS (its data url-decoded: UTF-8 for GSM-7 text).
fakesmsc_received() {
	perl -CO -MEncode -ne '
		next unless /Got message \d+: <(.*)>$/;
		my ($from, $to, $type, $rest) = split / /, $1, 4;
		sub ud { my $s = shift; $s =~ tr/+/ /; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s }
		my $t;
		if ($type eq "text") { $t = decode("UTF-8", $rest) }
		elsif ($type eq "data") { $t = decode("UTF-8", ud($rest)) }
		elsif ($type eq "ucs-2" || $type eq "ucs2") { $t = decode("UTF-16BE", ud($rest)) }
		elsif ($type eq "udh") {	# "udh UDH data DATA"; UDH 05 00 03 REF PARTS SEQ
			my ($udh, $inner, $d) = split / /, $rest, 3;
			my @u = unpack "C*", ud($udh);
			$type = "udh:$u[3]:$u[5]/$u[4]";
			$t = decode("UTF-8", ud($d));
		} else { $t = $rest }
		print "$from\t$to\t$type\t$t\n";
	' "$K_DIR/fakesmsc.log"
}

# fakesmsc_joined FILE TO: the concatenated SMS sent to TO, in FILE (from
# fakesmsc_received), joined part after part: one line per message.
fakesmsc_joined() {
	awk -F '\t' -v to="$2" '$2 == to && $3 ~ /^udh:/ {
		split(substr($3, 5), a, /[:\/]/); key = a[1]; part[key, a[2]] = $4; n[key] = a[3]
	} END {
		for (k in n) { s = ""; for (i = 1; i <= n[k]; i++) s = s part[k, i]; print s }
	}' "$1"
}

# kannel_check NAME [ALLOWED-ERE]: one assertion: no WARNING/ERROR/PANIC
# line in Kannel's logs since the last check, other than those matching
# ALLOWED. Runs in the test's shell (it moves the marks), never in $(...).
kannel_check() {
	local name=$1 allowed=${2:-^$} f size out=$T_TMP/.kannel-problems
	: > "$out"
	for f in bearerbox.log smsbox.log bearerbox.err smsbox.err fakesmsc.log; do
		[ -f "$K_DIR/$f" ] || continue
		size=$(wc -c <"$K_DIR/$f")
		tail -c +"$((${K_MARK[$f]:-0} + 1))" "$K_DIR/$f" | head -c "$((size - ${K_MARK[$f]:-0}))" |
			grep -aE '(WARNING|ERROR|PANIC):' | grep -avE -- "$allowed" | sed "s|^|$f: |" >> "$out"
		K_MARK[$f]=$size
	done
	expect_eq "$name" "$(cat "$out")" ""
}

# An orderly shutdown: SIGTERM to bearerbox, which tells smsbox to die and
# closes the fake SMS centre (fakesmsc then exits on EOF). 10 s, then KILL.
kannel_stop() {
	local p
	[ -n "${K_BB_PID:-}" ] && kill -TERM "$K_BB_PID" 2>/dev/null
	k_wait 10 k_all_gone
	for p in "${K_PIDS[@]}"; do
		k_alive "$p" && { echo "# kannel: pid $p still running after 10 s, killed"; kill -KILL "$p" 2>/dev/null; }
		wait "$p" 2>/dev/null
	done
	K_PIDS=()
	K_BB_PID=
	exec 7>&- 2>/dev/null
	return 0
}
# Running, not a zombie waiting for us.
k_alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
k_all_gone() {
	local p
	for p in "${K_PIDS[@]}"; do k_alive "$p" && return 1; done
	return 0
}
