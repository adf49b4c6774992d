#!/bin/bash
# LMTP intake end to end: swaks and raw sessions into a real palierd,
# PostgreSQL checked after each answer.
. "$(dirname "$0")/../lib.sh"
newdb lmtp
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null
"$PALIERCTL" publisher add saint-aubin-sur-loire mairie@saint-aubin.example --name "Mairie de Saint-Aubin" >/dev/null

port=$(free_port)
cat >> "$PALIER_CONF" <<EOC
[lmtp]
listen = 127.0.0.1:$port unix:$T_TMP/lmtp.sock
max_size = 64K
max_recipients = 5
EOC
start_palierd "$PALIER_CONF" --role ingest || exit 1

lmtp() { swaks --protocol LMTP --server 127.0.0.1 --port "$port" --helo test.example "$@" 2>&1; }
D=residence.example

# A resident of the building posts to it.
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D \
	--header "Subject: Fuite d'eau au 3e" --header "Message-Id: <fuite-1@example.org>" \
	--body "Bonjour, il y a une fuite d'eau au 3e étage, le gardien est prévenu.")
expect "a resident's post gets 250 after commit" has "$out" "<-  250 2.0.0 <residence-les-tilleuls@$D> stored as message"
expect_eq "the post is stored, published, by its resident" \
	"$(sql "SELECT p.kind, p.status, p.author, c.slug FROM posts p JOIN channels c ON c.id = p.channel_id JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key LIKE 'mid:fuite-1@example.org|%'")" \
	"post|published|Émilie Pichon|residence-les-tilleuls"
expect_eq "the body is what she wrote" \
	"$(sql "SELECT body FROM posts WHERE subject = 'Fuite d''eau au 3e'")" \
	"Bonjour, il y a une fuite d'eau au 3e étage, le gardien est prévenu."
expect_eq "the raw message is kept" "$(sql "SELECT position('fuite-1@example.org' IN convert_from(raw, 'UTF8')) > 0 FROM inbound WHERE dedup_key LIKE 'mid:fuite-1%'")" "t"

# The same message again: stored once.
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D \
	--header "Subject: Fuite d'eau au 3e" --header "Message-Id: <fuite-1@example.org>" --body "again")
expect "a duplicate is acknowledged" has "$out" "250 2.0.0 <residence-les-tilleuls@$D> already stored"
expect_eq "and stored once" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key LIKE 'mid:fuite-1@example.org|%'")" "1"

# Unknown addresses.
out=$(lmtp --from a@example.org --to nulle-part@$D --body x)
expect "an unknown channel gets 550 5.1.1" has "$out" "550 5.1.1"
out=$(lmtp --from a@example.org --to reply+aaaaaaaaaaaaaaaaaaaaaaaa@$D --body x)
expect "a forged reply token gets 550 5.1.1" has "$out" "550 5.1.1"
out=$(lmtp --from a@example.org --to residence-les-tilleuls@other.example --body x)
expect "another domain gets 550 5.1.1" has "$out" "550 5.1.1"

# Someone who is not a resident: held.
out=$(lmtp --from inconnu@example.net --to residence-les-tilleuls@$D \
	--header "Subject: Bonjour" --header "Message-Id: <stranger-1@example.net>" --body "Je vends des fenêtres.")
expect "a stranger's post is accepted" has "$out" "250 2.0.0"
expect_eq "and held with a reason" \
	"$(sql "SELECT status, reason FROM posts WHERE subject = 'Bonjour' AND sender = 'inconnu@example.net'")" \
	"held|l'expéditeur n'est pas un résident de ce canal"

# A resident of another building posting here: held too (not of this channel).
out=$(lmtp --from h.faure@example.fr --to residence-les-tilleuls@$D --header "Subject: Voisin" --body "Salut")
expect_eq "a resident of another building is held here" \
	"$(sql "SELECT status FROM posts WHERE subject = 'Voisin'")" "held"
# ...but may post to the city, which includes his building.
out=$(lmtp --from h.faure@example.fr --to saint-aubin-sur-loire@$D --header "Subject: Ville" --body "Salut la ville")
expect_eq "a resident posts to his city" "$(sql "SELECT status, kind FROM posts WHERE subject = 'Ville'")" "published|post"

# The mairie, a publisher of the city: a bulletin to a building below it.
out=$(lmtp --from mairie@saint-aubin.example --to tour-bellevue@$D --header "Subject: Coupure d'eau" \
	--body "Coupure d'eau jeudi de 9 h à 12 h.")
expect_eq "a publisher's message is a bulletin" \
	"$(sql "SELECT kind, status, author FROM posts WHERE subject = 'Coupure d''eau'")" \
	"bulletin|published|Mairie de Saint-Aubin"

# Display name is never identity: From "Émilie Pichon" <other@...> is a stranger.
out=$(lmtp --from x@example.net --to residence-les-tilleuls@$D --header 'From: "emilie.pichon99@example.org" <x@example.net>' --header "Subject: Usurpation" --body "x")
expect_eq "the display name does not make a resident" "$(sql "SELECT status FROM posts WHERE subject = 'Usurpation'")" "held"

# Several recipients: one answer each, in order.
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D,centre-ville@$D,saint-aubin-sur-loire@$D \
	--header "Subject: Trois" --body "trois canaux")
expect_eq "one reply per recipient, in order" \
	"$(printf '%s\n' "$out" | grep -oE "^<-  250 2.0.0 <[^>]*>" | sed 's/.*<//; s/>//' | tr '\n' ' ')" \
	"residence-les-tilleuls@$D centre-ville@$D saint-aubin-sur-loire@$D "
expect_eq "three posts" "$(sql "SELECT count(*) FROM posts WHERE subject = 'Trois'")" "3"
expect_eq "each in its channel, with its own inbound row, its status and its text" \
	"$(sql "SELECT c.slug, p.status, p.author, p.body, i.recipient, i.disposition FROM posts p
		JOIN channels c ON c.id = p.channel_id JOIN inbound i ON i.id = p.inbound_id
		WHERE p.subject = 'Trois' ORDER BY p.id")" \
	"residence-les-tilleuls|published|Émilie Pichon|trois canaux|residence-les-tilleuls@$D|post
centre-ville|published|Émilie Pichon|trois canaux|centre-ville@$D|post
saint-aubin-sur-loire|published|Émilie Pichon|trois canaux|saint-aubin-sur-loire@$D|post"

# An auto-reply: stored, never posted.
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D \
	--header "Subject: Réponse automatique : absente" --header "Auto-Submitted: auto-replied" --body "Je suis absente.")
expect "an auto-reply is accepted" has "$out" "250 2.0.0"
expect_eq "but never posted" "$(sql "SELECT count(*) FROM posts WHERE subject LIKE 'Réponse automatique%'")" "0"
expect_eq "it is kept as automatic" "$(sql "SELECT count(*) FROM inbound WHERE disposition = 'automatic'")" "1"

# A loop: too many Received headers.
hdrs=()
for i in $(seq 31); do hdrs+=(--add-header "Received: from hop$i.example by hop$((i+1)).example; Thu, 26 Nov 2026 10:00:00 +0100"); done
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D "${hdrs[@]}" --header "Subject: Boucle" --body x)
expect "a message with 31 Received headers is refused as a loop" has "$out" "554 5.4.6"

# Size limit (64K here): 552 5.3.4.
big=$(head -c 70000 /dev/zero | tr '\0' 'a' | fold -w 76)
out=$(lmtp --from emilie.pichon99@example.org --to residence-les-tilleuls@$D --body "$big")
expect "an oversized message gets 552 5.3.4" has "$out" "552 5.3.4"

# Too many recipients (5 here): 452 4.5.3.
out=$(lmtp --from emilie.pichon99@example.org --to "$(printf "residence-les-tilleuls@$D,%.0s" 1 2 3 4 5 6 | sed 's/,$//')" --body x)
expect "the sixth recipient gets 452 4.5.3" has "$out" "452 4.5.3"

# Raw sessions: pipelining, dot-unstuffing, bare LF, commands.
raw() { # raw SESSION-TEXT: sends it (CRLF already in it) and prints what came back
	exec 3<>/dev/tcp/127.0.0.1/$port
	printf '%b' "$1" >&3
	timeout 5 cat <&3
	exec 3>&-
}
out=$(raw "LHLO t\r\nMAIL FROM:<emilie.pichon99@example.org>\r\nRCPT TO:<residence-les-tilleuls@$D>\r\nDATA\r\nSubject: Points\r\nMessage-Id: <dots@example.org>\r\n\r\n..Trois points\r\n.\r\nQUIT\r\n")
expect "a pipelined session is answered in full" has "$out" "221 2.0.0"
expect_eq "dot-unstuffing" "$(sql "SELECT body FROM posts WHERE subject = 'Points'")" ".Trois points"
expect "LHLO advertises PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES and SIZE" \
	bash -c "printf '%s' \"\$1\" | grep -q '250-PIPELINING' && printf '%s' \"\$1\" | grep -q '250-8BITMIME' && printf '%s' \"\$1\" | grep -q 'ENHANCEDSTATUSCODES' && printf '%s' \"\$1\" | grep -q '250 SIZE 65536'" _ "$out"

out=$(raw "LHLO t\r\nMAIL FROM:<emilie.pichon99@example.org>\r\nRCPT TO:<residence-les-tilleuls@$D>\r\nDATA\r\nSubject: Smuggle\r\n\r\nhello\n.\r\nMAIL FROM:<evil@example.net>\r\n.\r\nQUIT\r\n")
expect "a bare LF is refused with 550 5.5.2" has "$out" "550 5.5.2"
expect_eq "and nothing of it is stored (no smuggled message either)" "$(sql "SELECT count(*) FROM inbound WHERE subject = 'Smuggle' OR sender = 'evil@example.net'")" "0"

out=$(raw "HELO t\r\nMAIL FROM:<a@b>\r\nLHLO t\r\nRCPT TO:<x@$D>\r\nDATA\r\nBOGUS\r\nQUIT\r\n")
expect "HELO is refused in LMTP" has "$out" "500 5.5.1"
expect "MAIL before LHLO is refused" has "$out" "503 5.5.1 LHLO first"
expect "RCPT before MAIL is refused" has "$out" "503 5.5.1 MAIL first"
expect "an unknown command gets 500" has "$out" "500 5.5.2 unknown command"

# The Unix socket serves too.
out=$(swaks --protocol LMTP --socket "$T_TMP/lmtp.sock" --from emilie.pichon99@example.org \
	--to residence-les-tilleuls@$D --header "Subject: Par socket" --body "via unix" 2>&1)
expect "the Unix socket accepts LMTP" has "$out" "250 2.0.0"

stop_palierd
expect_eq "palierd drains and exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning in palierd's log" "$(log_problems)" ""
