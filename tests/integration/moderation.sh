#!/bin/bash
# Moderation end to end: a held post is sent to its moderators (those of
# its channel and above) by email with a moderation+ Reply-To; their answer
# by LMTP ("OK", "OK confiance", "REFUS raison") decides it, once; only the
# token's own moderator can; a refusal is told to a resident author, never
# to a stranger (no backscatter); palierctl hold approve/reject do the same
# and refuse to decide a post twice.
. "$(dirname "$0")/../lib.sh"
D=residence.example
: > "$T_TMP/palierd.log"
newdb moderation
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null

GARDIEN=gardien@tilleuls.example	# moderates Résidence Les Tilleuls
MAIRIE=moderation@saint-aubin.example	# moderates the city, and so everything in it
run "$PALIERCTL" moderator add residence-les-tilleuls "$GARDIEN" --name "Gardien des Tilleuls"
expect_rc 0 "moderator add (building)"
run "$PALIERCTL" moderator add saint-aubin-sur-loire "$MAIRIE" --name "Service vie locale"
expect_rc 0 "moderator add (city)"
run "$PALIERCTL" moderator add nulle-part "$MAIRIE"
expect_rc 1 "moderator add to an unknown channel is refused"

# A port below the kernel's ephemeral range that no socket uses, listening
# or not (lib.sh's free_port only looks for a listener, and picks in the
# range where the other tests' client connections take their ports).
port() {
	local p lo=10240 hi
	hi=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	while :; do
		p=$((lo + RANDOM % (hi - lo)))
		grep -qi ":$(printf '%04X' "$p") " /proc/net/tcp /proc/net/tcp6 2>/dev/null || { echo "$p"; return; }
	done
}
# palierd runs every role: ready once HTTP listens too (after LMTP).
export WAIT_EVENT=http_listening
LPORT=$(port)
cat >> "$PALIER_CONF" <<EOC
[lmtp]
listen = 127.0.0.1:$LPORT
[http]
listen = 127.0.0.1:$(port)
public_url = https://palier.example
[smtp]
relay = file:$T_TMP/mail
[sms]
gateway = file:$T_TMP/sms
quiet_hours = none
EOC

palierd_down() {
	local i
	[ -n "${PALIERD_PID:-}" ] || return 0
	kill -TERM "$PALIERD_PID" 2>/dev/null
	for ((i = 0; i < 150; i++)); do kill -0 "$PALIERD_PID" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$PALIERD_PID" 2>/dev/null
	wait "$PALIERD_PID" 2>/dev/null
	PALIERD_RC=$?
	PALIERD_PID=
}
trap palierd_down EXIT
lmtp() { timeout 20 swaks --protocol LMTP --server 127.0.0.1 --port "$LPORT" --helo test.example "$@" </dev/null 2>&1; }
# post FROM SUBJECT BODY [SLUG]: a new message to a channel (Les Tilleuls by default).
post() {
	local env=$1
	[[ $1 == *"<"* ]] && env=$(printf '%s' "$1" | sed -E 's/.*<([^>]*)>.*/\1/')
	OUT=$(lmtp --from "$env" --header "From: $1" --to "${4:-residence-les-tilleuls}@$D" --header "Subject: $2" --body "$3")
	has "$OUT" "250 2.0.0" || not_ok "LMTP accepts '$2'" "$OUT"
	POST=$(sql "SELECT id FROM posts WHERE subject = '${2//\'/\'\'}' ORDER BY id DESC LIMIT 1")
}
# answer FROM TOKEN-ADDRESS TEXT: a moderator's reply (with the notice quoted).
answer() {
	lmtp --from "$1" --to "$2" --header "Subject: Re: A verifier" \
		--body "$(printf '%s\n\nLe jeudi 26 novembre, Palier <aide@%s> a écrit :\n> Un message attend votre accord avant d'\''être publié.\n> Répondez OK pour publier, REFUS pour refuser.\n' "$3" "$D")"
}
status_of() { sql "SELECT status FROM posts WHERE id = $1"; }
# Nothing left to send now, and nothing published left to fan out.
idle() {
	[ "$(sql "SELECT (SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending'))
		+ (SELECT count(*) FROM posts WHERE status = 'published' AND fanned_out_at IS NULL)
		+ (SELECT count(*) FROM posts p WHERE status = 'held' AND moderation_notified_at IS NULL
		   AND EXISTS (SELECT 1 FROM moderators))")" = 0 ]
}
# notice POST MODERATOR: the outgoing id of that moderator's notice for that post.
notice() {
	sql "SELECT o.id FROM outgoing o JOIN contents c ON c.id = o.content_id
		JOIN moderators m ON m.id = o.moderator_id
		WHERE c.purpose = 'moderation' AND c.post_id = $1 AND m.email = '$2' ORDER BY o.id"
}
notices() { sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'moderation' AND c.post_id = $1"; }
refusals_to() { sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'refusal' AND lower(o.recipient) = lower('$1')"; }
eml() { printf '%s/mail/%08d.eml' "$T_TMP" "$1"; }
# hdr FILE NAME: the unfolded value of the first header NAME of FILE.
hdr() {
	awk -v want="$(printf '%s' "$2" | tr 'A-Z' 'a-z')" '
	{ sub(/\r$/, "") }
	/^$/ { exit }
	/^[ \t]/ { if (cur == want) { sub(/^[ \t]+/, ""); val = val " " $0 }; next }
	{ if (cur == want) { print val; found = 1; exit }
	  i = index($0, ":"); cur = tolower(substr($0, 1, i - 1)); val = substr($0, i + 1); sub(/^[ \t]+/, "", val) }
	END { if (!found && cur == want) print val }' "$1" 2>/dev/null
}
addr() { sed -E 's/.*<([^>]*)>[[:space:]]*$/\1/'; }
subject_of() { hdr "$1" Subject | perl -CS -MEncode -ne 'chomp; print decode("MIME-Header", $_), "\n"'; }
text_of() { perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' "$1" 2>/dev/null; }

start_palierd "$PALIER_CONF" || exit 1

# ---------------------------------------------------------------- a stranger's post is held
post "Jean Inconnu <inconnu@example.net>" "Vide-grenier dimanche" "Je vends des meubles anciens, venez voir dimanche."
p1=$POST
expect_eq "a stranger's post is held, with a reason" "$(sql "SELECT status, reason, channel_id = (SELECT id FROM channels WHERE slug = 'residence-les-tilleuls') FROM posts WHERE id = ${p1:-0}")" \
	"held|l'expéditeur n'est pas un résident de ce canal|t"
until_ok 20 idle
expect "its notices go out within 20 s" idle
expect_eq "one notice per moderator of the channel and above (building + city)" "$(notices "$p1")" "2"
n_g=$(notice "$p1" "$GARDIEN")
n_m=$(notice "$p1" "$MAIRIE")
expect_eq "the building's moderator's notice is sent" "$(sql "SELECT state FROM outgoing WHERE id = ${n_g:-0}")" "sent"
f=$(eml "${n_g:-0}")
expect "it is written by the file relay" test -f "$f"
expect_eq "To: the moderator" "$(hdr "$f" To | addr)" "$GARDIEN"
expect_eq "From: aide@" "$(hdr "$f" From | addr)" "aide@$D"
tok_g=$(hdr "$f" Reply-To | addr)
expect "Reply-To is a moderation+ token of the domain" bash -c "[[ '$tok_g' =~ ^moderation\+[a-z0-9]+@residence\.example$ ]]"
expect_eq "Subject names the author" "$(subject_of "$f")" "À vérifier : un message de Jean Inconnu"
expect_eq "Auto-Submitted: auto-generated" "$(hdr "$f" Auto-Submitted)" "auto-generated"
body=$(text_of "$f")
expect "the notice greets the moderator by name" has "$body" "Bonjour Gardien des Tilleuls,"
expect "the notice gives the reason" has "$body" "mis de côté pour cette raison : l'expéditeur n'est pas un résident de ce canal"
expect "the notice shows the sender and the text" bash -c \
	'printf "%s" "$1" | grep -qF "De : Jean Inconnu (inconnu@example.net)" && printf "%s" "$1" | grep -qF "Je vends des meubles anciens"' _ "$body"
expect "the notice says how to answer" has "$body" "Répondez OK pour publier, REFUS pour refuser."
tok_m=$(hdr "$(eml "${n_m:-0}")" Reply-To | addr)
expect "the city's moderator has a token of his own" bash -c "[ -n '$tok_m' ] && [ '$tok_m' != '$tok_g' ]"
sleep 1.5	# a few more rounds of the fan-out thread
expect_eq "a held post is notified once" "$(notices "$p1")" "2"

# ---------------------------------------------------------------- only the token's moderator decides
out=$(answer inconnu@example.net "$tok_g" "OK")
expect "an OK from the author himself is accepted by LMTP" has "$out" "250 2.0.0"
expect_eq "but changes nothing" "$(status_of "$p1")" "held"
out=$(answer "$MAIRIE" "$tok_g" "OK")
expect "an OK from another moderator with the building moderator's token is accepted" has "$out" "250 2.0.0"
expect_eq "but changes nothing either" "$(status_of "$p1")" "held"
out=$(answer "$GARDIEN" "moderation+aaaaaaaaaaaaaaaaaaaaaaaa@$D" "OK")
expect "a forged moderation token gets 550 5.1.1" has "$out" "550 5.1.1"
out=$(answer "$GARDIEN" "$tok_g" "Je regarde ça demain.")
expect_eq "an answer without OK or REFUS changes nothing" "$(status_of "$p1")" "held"

# ---------------------------------------------------------------- OK publishes
out=$(answer "$GARDIEN" "$tok_g" "OK")
expect "the moderator's OK is accepted" has "$out" "250 2.0.0"
expect_eq "OK publishes the post, decided by the moderator" \
	"$(sql "SELECT status, decided_by, decided_at IS NOT NULL FROM posts WHERE id = ${p1:-0}")" "published|$GARDIEN|t"
expect_eq "a plain OK trusts nobody" "$(sql "SELECT count(*) FROM trusted_senders")" "0"
until_ok 20 idle
expect "the published post is fanned out within 20 s" idle
expect_eq "it goes to the building's residents who read each message as it comes" \
	"$(sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'post' AND c.post_id = ${p1:-0} AND o.kind = 'email'")" \
	"$(sql "SELECT count(*) FROM residents r JOIN channels b ON b.id = r.building_id WHERE b.slug = 'residence-les-tilleuls' AND r.email IS NOT NULL AND r.digest = 'immediate'")"
out=$(answer "$MAIRIE" "$tok_m" "REFUS trop tard")
expect_eq "a decided post is not decided again by email" "$(sql "SELECT status, decided_by FROM posts WHERE id = ${p1:-0}")" "published|$GARDIEN"
expect_eq "and nobody is told it was refused" "$(refusals_to inconnu@example.net)" "0"

# ---------------------------------------------------------------- REFUS: a stranger is never told
post "Paul Vendeur <vendeur@example.com>" "Fenêtres à prix cassés" "Changez vos fenêtres, devis gratuit."
p2=$POST
until_ok 20 idle
tok2=$(hdr "$(eml "$(notice "${p2:-0}" "$GARDIEN")")" Reply-To | addr)
expect "the second held post has its notice" test -n "$tok2"
out=$(answer "$GARDIEN" "$tok2" "REFUS hors sujet")
expect "the moderator's REFUS is accepted" has "$out" "250 2.0.0"
expect_eq "REFUS refuses the post with the reason given" \
	"$(sql "SELECT status, reason, decided_by FROM posts WHERE id = ${p2:-0}")" "refused|hors sujet|$GARDIEN"
until_ok 20 idle
expect_eq "a stranger is not told (no backscatter)" "$(refusals_to vendeur@example.com)" "0"
expect_eq "no refusal content at all" "$(sql "SELECT count(*) FROM contents WHERE purpose = 'refusal' AND post_id = ${p2:-0}")" "0"
out=$(answer "$GARDIEN" "$tok2" "OK")
expect_eq "a refused post is not published by a later OK" "$(status_of "${p2:-0}")" "refused"
expect_eq "a refused post is never fanned out" "$(sql "SELECT count(*) FROM contents WHERE purpose = 'post' AND post_id = ${p2:-0}")" "0"

# ---------------------------------------------------------------- REFUS: a resident is told, once
EMILIE=emilie.pichon99@example.org
post "$EMILIE" "#ville Concert de la chorale" "Concert de la chorale samedi à l'église, venez nombreux."
p3=$POST
expect_eq "a resident writing to the whole city is held, in the city" \
	"$(sql "SELECT p.status, c.slug, p.resident_id IS NOT NULL FROM posts p JOIN channels c ON c.id = p.channel_id WHERE p.id = ${p3:-0}")" \
	"held|saint-aubin-sur-loire|t"
until_ok 20 idle
expect_eq "only the city's moderator is asked (the building's is below it)" \
	"$(sql "SELECT m.email FROM outgoing o JOIN contents c ON c.id = o.content_id JOIN moderators m ON m.id = o.moderator_id WHERE c.purpose = 'moderation' AND c.post_id = ${p3:-0}")" "$MAIRIE"
tok3=$(hdr "$(eml "$(notice "${p3:-0}" "$MAIRIE")")" Reply-To | addr)
out=$(answer "$MAIRIE" "$tok3" "Refus : hors sujet")
expect_eq "REFUS (any case, with a colon) refuses with the reason" "$(sql "SELECT status, reason FROM posts WHERE id = ${p3:-0}")" "refused|hors sujet"
until_ok 20 idle
expect "the refusal is delivered within 20 s" idle
expect_eq "the resident is told once" "$(refusals_to "$EMILIE")" "1"
rid=$(sql "SELECT o.id FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'refusal' AND o.recipient = '$EMILIE'")
f=$(eml "${rid:-0}")
expect_eq "the refusal is sent" "$(sql "SELECT state FROM outgoing WHERE id = ${rid:-0}")" "sent"
expect_eq "to her" "$(hdr "$f" To | addr)" "$EMILIE"
expect_eq "from aide@" "$(hdr "$f" From | addr)" "aide@$D"
expect_eq "its subject" "$(subject_of "$f")" "Votre message n'a pas été publié"
body=$(text_of "$f")
expect "it greets her and gives the reason" bash -c \
	'printf "%s" "$1" | grep -qF "Bonjour Émilie Pichon," && printf "%s" "$1" | grep -qF "Raison : hors sujet"' _ "$body"
expect "it names her message" has "$body" "« #ville Concert de la chorale »"
expect_eq "it is marked auto-generated" "$(hdr "$f" Auto-Submitted)" "auto-generated"
out=$(answer "$MAIRIE" "$tok3" "REFUS vraiment hors sujet")
until_ok 20 idle
expect_eq "a second REFUS tells her nothing more" "$(refusals_to "$EMILIE")" "1"
expect_eq "and keeps the first reason" "$(sql "SELECT reason FROM posts WHERE id = ${p3:-0}")" "hors sujet"

# ---------------------------------------------------------------- OK confiance
MARC=marc.voisin@example.com
post "Marc Voisin <$MARC>" "Chat perdu" "Mon chat gris a disparu depuis hier soir, merci de regarder dans vos caves."
p4=$POST
until_ok 20 idle
tok4=$(hdr "$(eml "$(notice "${p4:-0}" "$GARDIEN")")" Reply-To | addr)
out=$(answer "$GARDIEN" "$tok4" "OK confiance")
expect_eq "OK confiance publishes" "$(status_of "${p4:-0}")" "published"
expect_eq "and trusts the sender in the post's channel" \
	"$(sql "SELECT c.slug, t.sender, t.trusted_by FROM trusted_senders t JOIN channels c ON c.id = t.channel_id")" \
	"residence-les-tilleuls|$MARC|$GARDIEN"
post "Marc Voisin <$MARC>" "Chat retrouvé" "Merci à tous, le chat est rentré ce matin."
p5=$POST
expect_eq "the trusted sender's next post is published directly" \
	"$(sql "SELECT status || coalesce(' (' || reason || ')', '') FROM posts WHERE id = ${p5:-0}")" "published"
post "Marc Voisin <$MARC>" "Chat retrouvé, bis" "Le chat dit merci." tour-bellevue
expect_eq "trust holds in its channel only: held in another building" "$(status_of "${POST:-0}")" "held"

# ---------------------------------------------------------------- palierctl hold approve / reject
post "Anne Passante <passante@example.org>" "Cours de yoga" "Cours de yoga le mardi soir dans la salle commune."
a=$POST
post "Bob Pub <pub@example.org>" "Promo cuisine" "Cuisines équipées à moitié prix."
b=$POST
post "$EMILIE" "#ville Brocante" "Brocante dimanche sur la place de l'Église."
c=$POST
run "$PALIERCTL" hold
expect_rc 0 "palierctl hold"
expect "hold lists what waits, with the reasons" bash -c \
	'printf "%s" "$1" | grep -q "Cours de yoga" && printf "%s" "$1" | grep -q "Promo cuisine" && printf "%s" "$1" | grep -q "résident de ce canal" && ! printf "%s" "$1" | grep -q "Chat perdu"' _ "$OUT"
run "$PALIERCTL" hold approve "${a:-0}"
expect_rc 0 "hold approve"
expect_eq "says so" "$OUT" "post $a published"
expect_eq "the post is published by palierctl" "$(sql "SELECT status, decided_by FROM posts WHERE id = ${a:-0}")" "published|palierctl"
run "$PALIERCTL" hold approve "${a:-0}"
expect_rc 1 "approving it again is refused"
expect "with a message naming the post" has "$ERR" "post $a is not waiting for moderation"
run "$PALIERCTL" hold reject "${a:-0}"
expect_rc 1 "rejecting a published post is refused"
expect_eq "it stays published" "$(status_of "${a:-0}")" "published"
run "$PALIERCTL" hold reject "${b:-0}" --reason "publicité"
expect_rc 0 "hold reject --reason"
expect_eq "the post is refused with that reason" "$(sql "SELECT status, reason, decided_by FROM posts WHERE id = ${b:-0}")" "refused|publicité|palierctl"
run "$PALIERCTL" hold reject "${b:-0}" --reason "encore"
expect_rc 1 "rejecting it again is refused"
run "$PALIERCTL" hold approve "${b:-0}"
expect_rc 1 "approving a refused post is refused"
expect_eq "it stays refused, with its first reason" "$(sql "SELECT status, reason FROM posts WHERE id = ${b:-0}")" "refused|publicité"
run "$PALIERCTL" hold reject "${c:-0}" --reason "pas pour toute la ville"
expect_rc 0 "hold reject of a resident's post"
until_ok 20 idle
expect_eq "palierctl's refusal tells the resident too" "$(refusals_to "$EMILIE")" "2"
expect_eq "and not the stranger" "$(refusals_to pub@example.org)" "0"
run "$PALIERCTL" hold approve 999999
expect_rc 1 "an unknown post id is refused"
run "$PALIERCTL" hold approve abc
expect_rc 1 "a malformed id is refused"
post "Anne Passante <passante@example.org>" "Yoga, suite" "Le cours reprend mardi."
d=$POST
run "$PALIERCTL" hold approve "${d:-0}" --trust
expect_rc 0 "hold approve --trust"
expect_eq "trusts the sender, by palierctl" "$(sql "SELECT trusted_by FROM trusted_senders WHERE sender = 'passante@example.org'")" "palierctl"
out=$(answer "$GARDIEN" "$(hdr "$(eml "$(notice "${d:-0}" "$GARDIEN")")" Reply-To | addr)" "REFUS")
expect_eq "a moderator's answer after palierctl decided changes nothing" "$(status_of "${d:-0}")" "published"

palierd_down
expect_eq "palierd drains and exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning in palierd's log" "$(log_problems)" ""
