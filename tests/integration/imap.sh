#!/bin/bash
# IMAP intake end to end: a private Dovecot, messages dropped into its
# Maildir as an MTA would, a real palierd reading them over one IMAP
# connection; PostgreSQL and the mailbox's flags checked after each step.
# PALIERD=/path/to/palierd in the environment tries another build.
want_palierd=${PALIERD:-}
. "$(dirname "$0")/../lib.sh"
[ -n "$want_palierd" ] && PALIERD=$want_palierd

FIX=$T_TOP/tests/fixtures/imap
D=residence.example
DC=$T_TMP/dovecot
DCONF=$DC/dovecot.conf
IMAP_USER=palier
MAILDIR=$DC/mail/$IMAP_USER/Maildir

if ! command -v dovecot >/dev/null || ! command -v doveadm >/dev/null; then
	echo "ok - $T_NAME: # SKIP dovecot is not installed (make deps)"
	exit 0
fi

cleanup() {
	stop_palierd
	[ -f "$DC/run/master.pid" ] && kill "$(cat "$DC/run/master.pid")" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 1' TERM INT

# ---- a private Dovecot: plain IMAP and IMAPS, one user, a Maildir owned by nobody ----

iport=$(free_port)
sport=$(free_port)
rm -rf "$DC"
mkdir -p "$DC/run" "$DC/state" "$DC/tls" "$MAILDIR/new" "$MAILDIR/cur" "$MAILDIR/tmp"
chmod 755 "$DC" "$DC/mail"
(
	cd "$DC/tls" &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=Palier test CA" &&
	openssl req -newkey rsa:2048 -nodes -keyout imap.key -out imap.csr -subj "/CN=localhost" &&
	printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf &&
	openssl x509 -req -in imap.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out imap.pem -days 2 -extfile ext.cnf
) >/dev/null 2>&1 || { not_ok "a test certificate is made with openssl"; exit 1; }
# A password with characters that the URL must escape.
printf '%s:{PLAIN}s3cr@t/p%%w\n' "$IMAP_USER" > "$DC/users"
cat > "$DCONF" <<EOC
instance_name = palier-test-$$
base_dir = $DC/run
state_dir = $DC/state
log_path = $DC/log
protocols = imap
listen = 127.0.0.1, 127.0.0.2
ssl = yes
ssl_cert = <$DC/tls/imap.pem
ssl_key = <$DC/tls/imap.key
disable_plaintext_auth = no
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DC/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$DC/mail/%u
}
mail_location = maildir:~/Maildir
first_valid_uid = 1
service imap-login {
  inet_listener imap {
    address = 127.0.0.1, 127.0.0.2
    port = $iport
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $sport
  }
}
# A server of the old school: no IDLE, no MOVE.
local 127.0.0.2 {
  protocol imap {
    imap_capability = IMAP4rev1 LITERAL+ UIDPLUS
  }
}
EOC
chown -R nobody:nogroup "$DC/mail"
dovecot -c "$DCONF" || { not_ok "dovecot starts" "$(cat "$DC/log" 2>/dev/null)"; exit 1; }
for ((i = 0; i < 50; i++)); do (exec 3<>/dev/tcp/127.0.0.1/$iport) 2>/dev/null && break; sleep 0.1; done

# drop FIXTURE: delivers it into the Maildir as an MTA does (tmp/, then a rename into new/).
drop() {
	local name=$(date +%s).$$_$RANDOM$RANDOM.$1
	cp "$FIX/$1" "$MAILDIR/tmp/$name" && chown nobody:nogroup "$MAILDIR/tmp/$name" &&
		mv "$MAILDIR/tmp/$name" "$MAILDIR/new/$name"
}
# flags MESSAGE-ID [MAILBOX]: the flags of each message with that Message-ID, ';'-separated.
flags() {
	doveadm -c "$DCONF" fetch -u "$IMAP_USER" flags mailbox "${2:-INBOX}" header Message-ID "<$1>" 2>/dev/null |
		sed -n 's/^flags: *//p' | sed 's/\\Recent//; s/  */ /g; s/^ //; s/ $//' | tr '\n' ';'
}
# unmarked: how many messages of INBOX carry none of palier's keywords.
unmarked() {
	doveadm -c "$DCONF" search -u "$IMAP_USER" mailbox INBOX NOT KEYWORD '$PalierDone' \
		NOT KEYWORD '$PalierIgnored' NOT KEYWORD '$PalierRefused' 2>/dev/null | grep -c .
}
all_marked() { [ "$(unmarked)" = 0 ]; }
flags_are() { [ "$(flags "$1" "${3:-INBOX}")" = "$2" ]; }	# flags_are MESSAGE-ID WANT [MAILBOX]
# until SECONDS COMMAND...: until COMMAND succeeds, checking every 0.1 s.
until_ok() {
	local n=$(($1 * 10))
	shift
	for ((; n > 0; n--)); do "$@" && return 0; sleep 0.1; done
	return 1
}
sql_is() { [ "$(sql "$1")" = "$2" ]; }
logged() { grep -q -- "$1" "$T_TMP/palierd.log"; }
log_lines() { wc -l < "$T_TMP/palierd.log"; }
# problems_since LINE [REGEX]: warnings logged after that line, minus the expected ones.
problems_since() {
	tail -n +"$(($1 + 1))" "$T_TMP/palierd.log" |
		grep -E 'level=(warn|error|fatal)|Sanitizer|runtime error' | grep -vE "${2:-^$}" || true
}

# ---- palier ----

newdb imap
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null
lport=$(free_port)
base_conf=$PALIER_CONF
cat >> "$base_conf" <<EOC
[lmtp]
listen = 127.0.0.1:$lport
EOC
conf_with() { # conf_with NAME LINES...: the base config plus an [imap] section
	local c=$T_TMP/imap-$1.conf
	cp "$base_conf" "$c"
	printf '[imap]\n' >> "$c"
	shift
	printf '%s\n' "$@" >> "$c"
	echo "$c"
}
CONF=$(conf_with plain "url = imap://$IMAP_USER:s3cr%40t%2Fp%25w@127.0.0.1:$iport/INBOX")
: > "$T_TMP/palierd.log"

# Mail that waited in the box before palierd started.
for f in post-1.eml post-2.eml stray.eml loop.eml; do drop $f; done
start_palierd "$CONF" --role ingest || exit 1
if ! until_ok 10 logged "event=imap_connected .*idle=yes keywords=yes"; then
	not_ok "palierd logs in to the mailbox (one connection, IDLE)" "$(tail -n 20 "$T_TMP/palierd.log")"
	exit 1
fi
ok "palierd logs in to the mailbox (one connection, IDLE)"
expect "every waiting message is handled" until_ok 15 all_marked
expect_eq "a resident's message in the box becomes a published post" \
	"$(sql "SELECT p.status, p.author, c.slug, i.via FROM posts p JOIN channels c ON c.id = p.channel_id JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key LIKE 'mid:imap-post-1@example.org|%'")" \
	"published|Émilie Pichon|residence-les-tilleuls|imap"
expect_eq "the recipient comes from Delivered-To" \
	"$(sql "SELECT recipient FROM inbound WHERE dedup_key LIKE 'mid:imap-post-1@example.org|%'")" "residence-les-tilleuls@$D"
expect_eq "the envelope sender comes from Return-Path" \
	"$(sql "SELECT envelope_from FROM inbound WHERE dedup_key LIKE 'mid:imap-post-1@example.org|%'")" "emilie.pichon99@example.org"
expect_eq "without an address of ours in Delivered-To or To, Cc names the channel (any case)" \
	"$(sql "SELECT c.slug, i.dedup_key LIKE 'sha256:%' FROM posts p JOIN channels c ON c.id = p.channel_id JOIN inbound i ON i.id = p.inbound_id WHERE p.subject = 'Fête des voisins'")" \
	"residence-les-tilleuls|t"
expect_eq "a committed message is marked \\Seen \$PalierDone" "$(flags imap-post-1@example.org)" '\Seen $PalierDone;'
expect_eq "a message with no address of ours is left, marked \$PalierIgnored" "$(flags imap-stray@example.net)" '\Flagged $PalierIgnored;'
expect_eq "and nothing of it is stored" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key LIKE '%imap-stray%'")" "0"
expect "it is logged once" test "$(grep -c 'event=imap_ignored' "$T_TMP/palierd.log")" = 1
expect_eq "a refused message (a loop) is left, marked \$PalierRefused" "$(flags imap-loop@example.org)" '\Flagged $PalierRefused;'
expect "the refusal is logged with its reason" logged 'event=imap_refused .*554 5.4.6'

# The same message delivered to the box again: no second post.
drop post-1.eml
expect "a copy of a stored message is handled" until_ok 10 all_marked
expect_eq "it makes no second post" "$(sql "SELECT count(*) FROM posts WHERE subject = 'Ascenseur en panne'")" "1"
expect_eq "both copies are marked done" "$(flags imap-post-1@example.org)" '\Seen $PalierDone;\Seen $PalierDone;'
expect "the intake said it was already stored" logged 'event=imap_delivered .*already stored'

# New mail while palierd is in IDLE: from the drop to the commit, by palierd's clock.
sleep 1
n0=$(log_lines)
t0=$(date +%s%3N)
drop post-3.eml
until_ok 10 sql_is "SELECT count(*) FROM posts WHERE subject = 'Encombrants jeudi'" 1
ts=$(tail -n +"$((n0 + 1))" "$T_TMP/palierd.log" | grep -m1 'event=imap_delivered' | sed -n 's/^ts=\([^ ]*\) .*/\1/p')
ms=99999
[ -n "$ts" ] && ms=$(($(date -d "$ts" +%s%3N) - t0))
expect "new mail during IDLE is a post within 5 s (took ${ms} ms)" test "$ms" -lt 5000

# The same message by LMTP and by IMAP at the same moment: stored once.
drop dual.eml &
dropper=$!
out=$(swaks --protocol LMTP --server 127.0.0.1 --port "$lport" --from emilie.pichon99@example.org \
	--to residence-les-tilleuls@$D --data "@$FIX/dual.eml" 2>&1)
wait "$dropper"
expect "LMTP acknowledges it" grep -qE "^<[-~] +250 2\.0\.0 <residence-les-tilleuls@$D>" <<<"$out"
expect "IMAP marks it done" until_ok 10 flags_are imap-dual@example.org '\Seen $PalierDone;'
expect_eq "it is stored once" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key LIKE 'mid:imap-dual@example.org|%'")" "1"
expect_eq "and posted once" "$(sql "SELECT count(*) FROM posts WHERE subject = 'Compteurs d''eau'")" "1"

# The database goes away: the message stays untouched, and is read once it is back.
clean=$(log_lines)
expect_eq "no warning so far" "$(problems_since 0)" ""
psql -XAtq -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres \
	-c "ALTER DATABASE $T_DB ALLOW_CONNECTIONS false" \
	-c "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$T_DB'" >/dev/null
drop outage.eml
expect "without the database the message is deferred" until_ok 10 logged 'event=imap_deferred'
sleep 1
expect_eq "and left untouched: no flag before the commit" "$(flags imap-outage@example.org)" ";"
psql -XAtq -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres -c "ALTER DATABASE $T_DB ALLOW_CONNECTIONS true" >/dev/null
expect "once the database is back it is marked done" until_ok 40 flags_are imap-outage@example.org '\Seen $PalierDone;'
expect_eq "and stored, once" "$(sql "SELECT count(*) FROM posts WHERE subject = 'Pendant la panne'")" "1"
expect_eq "only database warnings during the outage" \
	"$(problems_since "$clean" 'event=(intake_db_unreachable|intake_write_failed|intake_lookup_failed|db_unreachable|db_[a-z_]*failed)')" ""
clean=$(log_lines)

# UIDVALIDITY changes: the mailbox is made again, holding every message anew, unflagged.
posts=$(sql "SELECT count(*) FROM posts")
inbound=$(sql "SELECT count(*) FROM inbound")
rm -rf "$DC/new-Maildir"
mkdir -p "$DC/new-Maildir/new" "$DC/new-Maildir/cur" "$DC/new-Maildir/tmp"
for f in post-1.eml post-2.eml stray.eml loop.eml post-3.eml dual.eml outage.eml; do
	cp "$FIX/$f" "$DC/new-Maildir/new/$(date +%s).$RANDOM$RANDOM.$f"
done
chown -R nobody:nogroup "$DC/new-Maildir"
rm -rf "$MAILDIR" && mv "$DC/new-Maildir" "$MAILDIR"
expect "palierd sees the new UIDVALIDITY" until_ok 20 logged "event=imap_uidvalidity_changed"
expect "and reads every message again" until_ok 20 all_marked
expect_eq "which makes no second post" "$(sql "SELECT count(*) FROM posts")" "$posts"
expect_eq "and stores nothing twice" "$(sql "SELECT count(*) FROM inbound")" "$inbound"
expect_eq "the messages are marked done again" "$(flags imap-post-3@example.org)" '\Seen $PalierDone;'
expect_eq "no warning when the server drops the connection once" "$(problems_since "$clean")" ""

# SIGTERM in the middle of IDLE.
t0=$(date +%s%3N)
stop_palierd
ms=$(($(date +%s%3N) - t0))
expect_eq "palierd exits 0 on SIGTERM" "$PALIERD_RC" "0"
expect "promptly, even in IDLE (took ${ms} ms)" test "$ms" -lt 5000
expect "the IMAP intake says it stopped" logged "event=imap_stopped"

# A folder for what was processed ([imap] done_folder), when the config knows the key.
clean=$(log_lines)
url="url = imap://$IMAP_USER:s3cr%40t%2Fp%25w@127.0.0.1:$iport"
if ! "$PALIERD" -n -c "$(conf_with probe "$url" "done_folder = palier-done")" 2>&1 | grep -q "unknown key 'done_folder'"; then
	done_folder="done_folder = palier-done"
	drop moved.eml
	start_palierd "$(conf_with moved "$url" "$done_folder")" --role ingest || exit 1
	expect "a committed message is moved to done_folder (MOVE)" \
		until_ok 10 flags_are imap-moved@example.org '\Seen $PalierDone;' palier-done
	expect_eq "and is no longer in INBOX" "$(flags imap-moved@example.org)" ""
	expect_eq "the folder was made when missing" "$(grep -c 'event=imap_folder_created folder=palier-done' "$T_TMP/palierd.log")" "1"
	stop_palierd
else
	done_folder=
	echo "ok - $T_NAME: done_folder # SKIP this palierd has no [imap] done_folder key"
fi

# A server without IDLE or MOVE (Dovecot's listener on 127.0.0.2 hides them): what waits is read
# at once, then the box is searched every 30 s; done_folder is reached by COPY and UID EXPUNGE.
drop polled.eml
start_palierd "$(conf_with polled "url = imap://$IMAP_USER:s3cr%40t%2Fp%25w@127.0.0.2:$iport/INBOX" ${done_folder:+"$done_folder"})" --role ingest || exit 1
expect "without IDLE palierd polls" until_ok 10 logged "event=imap_connected host=127.0.0.2 .*idle=no"
if [ -n "$done_folder" ]; then
	expect "what waited is read and copied to done_folder" \
		until_ok 10 flags_are imap-polled@example.org '\Seen $PalierDone;' palier-done
	expect_eq "and expunged from INBOX" "$(flags imap-polled@example.org)" ""
else
	expect "what waited is read" until_ok 10 flags_are imap-polled@example.org '\Seen $PalierDone;'
fi
t0=$(date +%s%3N)
stop_palierd
ms=$(($(date +%s%3N) - t0))
expect "palierd stops promptly between two polls (took ${ms} ms)" test "$ms" -lt 5000
expect_eq "no warning with done_folder or without IDLE" "$(problems_since "$clean")" ""

# imaps://: the certificate is checked before the password is sent.
clean=$(log_lines)
drop tls.eml
CONF=$(conf_with tls "url = imaps://$IMAP_USER:s3cr%40t%2Fp%25w@localhost:$sport/INBOX")
start_palierd "$CONF" --role ingest || exit 1
expect "an untrusted certificate is refused" until_ok 10 logged "event=imap_tls_untrusted host=localhost"
stop_palierd
expect_eq "and nothing is read through it" "$(flags imap-tls@example.org)" ";"
expect_eq "no login was attempted" "$(grep -c 'Login: user=<palier>.*TLS' "$DC/log" 2>/dev/null)" "0"
untrusted_until=$(log_lines)
SSL_CERT_FILE=$DC/tls/ca.pem start_palierd "$CONF" --role ingest || exit 1
expect "with the CA trusted, palierd reads over imaps://" \
	until_ok 10 flags_are imap-tls@example.org '\Seen $PalierDone;'
stop_palierd
expect_eq "the post is stored" "$(sql "SELECT count(*) FROM posts WHERE subject = 'Par imaps'")" "1"
expect_eq "no warning but the refused certificate" \
	"$(problems_since "$clean" 'event=imap_tls_untrusted host=localhost')" ""

expect_eq "no message body in palierd's log" "$(grep -cE 'bloqué au 2e|fête des voisins aura' "$T_TMP/palierd.log")" "0"
expect_eq "no password in palierd's log" "$(grep -c 's3cr' "$T_TMP/palierd.log")" "0"
expect_eq "no unexpected warning in palierd's log" \
	"$(log_problems 'event=(intake_db_unreachable|intake_write_failed|intake_lookup_failed|db_unreachable|db_[a-z_]*failed)|event=imap_tls_untrusted host=localhost')" ""
