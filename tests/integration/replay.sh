#!/bin/bash
# The golden intake corpus, end to end: every tests/fixtures/eml/NAME.eml is
# delivered through palierd's real LMTP listener to a small roster, and what
# PostgreSQL then holds for it (disposition, post, sender, channel, trimmed
# text, attachments, bounces) must equal tests/fixtures/replay/NAME.expect
# byte for byte. See tests/fixtures/replay/README for the format.
# A mismatch leaves what was found in $T_TMP/got/NAME.expect (KEEP=1 keeps it).
. "$(dirname "$0")/../lib.sh"
newdb replay
FIX=$T_TOP/tests/fixtures
TOOL=$T_TOP/tests/tools/lmtp-replay.pl
D=residence.example

# A fixed key, so that tokens can be made here as palierd makes them.
printf '%s\n' 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f > "$T_TMP/secret"
chmod 600 "$T_TMP/secret"
"$PALIERCTL" migrate >/dev/null
run "$PALIERCTL" import "$FIX/replay/roster.csv"
expect_rc 0 "the replay roster imports"
"$PALIERCTL" publisher add les-tilleuls syndic@example.com --name "Cabinet Lemoine" >/dev/null
"$PALIERCTL" publisher add les-tilleuls conseil@example.org --name "Conseil syndical" >/dev/null

# The posts that reply tokens answer: two notices in the building (two, so
# that two renderings of one message, same Message-ID, both reach a thread).
notice() {
	sql "INSERT INTO posts (channel_id, kind, status, source, author, sender, subject, body, decided_at)
		SELECT id, 'post', 'published', 'email', 'Marc Lenoir', 'marc.lenoir@example.org', '$1', 'Avis aux résidents', now()
		FROM channels WHERE slug = 'les-tilleuls' RETURNING id"
}
thread=$(notice Avis)
thread2=$(notice Rappel)
anyone=$(sql "SELECT id FROM residents WHERE email = 'marc.lenoir@example.org'")

port=$(free_port)
cat >> "$PALIER_CONF" <<EOC
[lmtp]
listen = 127.0.0.1:$port
EOC
start_palierd "$PALIER_CONF" --role ingest || exit 1

# rcpt NAME FROM: the envelope recipient the .expect's "rcpt:" line asks for.
#   <slug>   that channel;  reply, reply2   a reply token of FROM's resident
#   (of a resident who is not FROM when FROM is none) to the first or second
#   notice above;  bounce   a bounce token of outgoing message 1 to a resident.
rcpt() {
	local want res
	want=$(sed -n '1s/^rcpt: //p' "$FIX/replay/$1.expect")
	case $want in
	reply | reply2)
		res=$(sql "SELECT id FROM residents WHERE lower(email) = lower('${2//\'/}')")
		echo "reply+$("$TOOL" token "$T_TMP/secret" 1 "${res:-$anyone}" \
			"$([ "$want" = reply ] && echo "$thread" || echo "$thread2")")@$D" ;;
	bounce) echo "bounce+$("$TOOL" token "$T_TMP/secret" 3 "$anyone" 1)@$D" ;;
	'') echo "MISSING-rcpt-line@$D" ;;
	*) echo "$want@$D" ;;
	esac
}

# outcome NAME LMTP-REPLY: what the database holds for it, in .expect form.
outcome() {
	local name=$1 reply=$2 id
	echo "rcpt: $(sed -n '1s/^rcpt: //p' "$FIX/replay/$name.expect")"
	echo "lmtp: $(printf '%s' "$reply" | sed 's/ <[^>]*>//; s/ as message [0-9]*$//')"
	id=$(printf '%s' "$reply" | sed -n 's/.* stored as message \([0-9]*\)$/\1/p')
	[ -n "$id" ] || return 0
	sql "SELECT 'disposition: ' || i.disposition, 'note: ' || coalesce(i.note, '-'),
		'sender: ' || coalesce(i.sender, '-'), 'subject: ' || coalesce(i.subject, '-')
		FROM inbound i WHERE i.id = $id" | tr '|' '\n'
	sql "SELECT 'attachment: ' || content_type || ' ' || size || ' ' || coalesce(filename, '-')
		FROM attachments WHERE inbound_id = $id ORDER BY id"
	sql "SELECT 'bounce: ' || coalesce(address, '-') || ' ' || CASE WHEN permanent THEN 'permanent' ELSE 'temporary' END
		|| ' ' || coalesce(status, '-') || ' resident=' || (resident_id = $anyone)
		FROM bounces WHERE inbound_id = $id ORDER BY id"
	sql "SELECT 'kind: ' || p.kind, 'status: ' || p.status, 'reason: ' || coalesce(p.reason, '-'),
		'channel: ' || c.slug, 'author: ' || p.author, 'resident: ' || coalesce(r.name, '-'),
		'publisher: ' || coalesce(pb.name, '-'), 'thread: ' || CASE WHEN p.thread_id = $thread THEN 'notice'
			WHEN p.thread_id = $thread2 THEN 'notice2' ELSE coalesce(p.thread_id::text, '-') END,
		'topic: ' || coalesce(p.topic, '-'), 'tags: ' || array_to_string(p.tags, ' '),
		'post-subject: ' || p.subject
		FROM posts p JOIN channels c ON c.id = p.channel_id LEFT JOIN residents r ON r.id = p.resident_id
		LEFT JOIN publishers pb ON pb.id = p.publisher_id WHERE p.inbound_id = $id ORDER BY p.id" | tr '|' '\n'
	if [ "$(sql "SELECT count(*) FROM posts WHERE inbound_id = $id")" != 0 ]; then
		echo "--- text"
		sql "SELECT body FROM posts WHERE inbound_id = $id ORDER BY id"
	fi
}

mkdir -p "$T_TMP/got"
n=0 bad=0
for eml in "$FIX"/eml/*.eml; do
	name=$(basename "$eml" .eml)
	n=$((n + 1))
	if [ ! -f "$FIX/replay/$name.expect" ]; then
		not_ok "$name has an expected outcome (tests/fixtures/replay/$name.expect)"
		bad=$((bad + 1))
		continue
	fi
	# The envelope sender: the From address, or <> for a DSN or no From.
	from=$(sed -n 's/^from: //p' "$FIX/eml/$name.expect")
	grep -qx 'is-dsn: 1' "$FIX/eml/$name.expect" && from=-
	[ "$from" = - ] && from=
	to=$(rcpt "$name" "$from")
	reply=$("$TOOL" send "$port" "$from" "$to" "$eml" 2>&1)
	outcome "$name" "$reply" > "$T_TMP/got/$name.expect"
	if cmp -s "$T_TMP/got/$name.expect" "$FIX/replay/$name.expect"; then
		ok "$name: $(sed -n 's/^disposition: //p' "$T_TMP/got/$name.expect" | head -1)$(sed -n 's/^status: / /p' "$T_TMP/got/$name.expect" | head -1)"
	else
		bad=$((bad + 1))
		not_ok "$name ends as its .expect says" "LMTP: $reply" \
			"$(diff -u "$FIX/replay/$name.expect" "$T_TMP/got/$name.expect" | tail -n +3)"
	fi
done
# The same message again, as an MTA retrying would send it: stored once.
before=$(sql "SELECT count(*) FROM inbound")
reply=$("$TOOL" send "$port" jean.martin@example.com "les-tilleuls@$D" "$FIX/eml/pdf-attachment-gmail.eml" 2>&1)
expect "a message delivered twice is acknowledged" has "$reply" "250 2.0.0 <les-tilleuls@$D> already stored"
expect_eq "and stored once" "$(sql "SELECT count(*) FROM inbound")" "$before"

expect "the corpus has at least 50 messages" test "$n" -ge 50
expect_eq "no .expect without its .eml" \
	"$(for e in "$FIX"/replay/*.expect; do [ -f "$FIX/eml/$(basename "$e" .expect).eml" ] || basename "$e"; done)" ""

stop_palierd
expect_eq "palierd exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning in palierd's log" "$(log_problems)" ""
