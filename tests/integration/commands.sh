#!/bin/bash
# Commands by email to aide@: applied in the intake transaction, answered
# at most once a day per sender and command (the answer is an outgoing
# email rendered from templates/command-*.txt), never answered to a
# stranger (no backscatter) nor to an auto-reply (no loops).
. "$(dirname "$0")/../lib.sh"
D=residence.example
AIDE=aide@$D
: > "$T_TMP/palierd.log"
newdb commands
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null

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
# aide FROM SUBJECT BODY [SWAKS-ARGS...]: a message to aide@; OUT is the session.
aide() {
	local from=$1 subject=$2 body=$3
	shift 3
	OUT=$(lmtp --from "$from" --to "$AIDE" --header "Subject: $subject" --body "$body" "$@")
	has "$OUT" "250 2.0.0 <$AIDE>" || not_ok "LMTP takes '$subject' from $from" "$OUT"
}
# Nothing left to send now.
idle() { [ "$(sql "SELECT count(*) FROM outgoing WHERE state IN ('queued', 'sending') AND not_before <= now()")" = 0 ]; }
settle() { until_ok 20 idle || not_ok "the outgoing queue empties within 20 s" "$(sql "SELECT id, state, recipient, last_error FROM outgoing WHERE state IN ('queued', 'sending')")"; }
# answers EMAIL [TEMPLATE]: the answers queued for EMAIL (with that template).
answers() {
	sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id
		WHERE c.purpose = 'answer' AND lower(o.recipient) = lower('$1')
		${2:+AND c.data->>'template' = '$2'}"
}
# answer_row EMAIL TEMPLATE: the last such answer's outgoing id.
answer_row() {
	sql "SELECT o.id FROM outgoing o JOIN contents c ON c.id = o.content_id
		WHERE c.purpose = 'answer' AND lower(o.recipient) = lower('$1') AND c.data->>'template' = '$2'
		ORDER BY o.id DESC LIMIT 1"
}
eml() { printf '%s/mail/%08d.eml' "$T_TMP" "${1:-0}"; }
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
# The body, decoded (answers are text/plain, quoted-printable).
text_of() { perl -MMIME::QuotedPrint -0777 -ne 's/\r\n/\n/g; s/\A.*?\n\n//s; print decode_qp($_)' "$1" 2>/dev/null; }
res() { sql "SELECT $2 FROM residents WHERE email = '$1'"; }
disposition_of() { sql "SELECT disposition FROM inbound WHERE sender = '$1' AND subject = '${2//\'/\'\'}' ORDER BY id DESC LIMIT 1"; }
printf 'Coupure d’eau jeudi de 9 h à 12 h.\n' > "$T_TMP/bulletin.txt"
bulletin() {
	run "$PALIERCTL" bulletin send --channel residence-les-tilleuls --subject "$1" --file "$T_TMP/bulletin.txt"
	POST=$(printf '%s' "$OUT" | sed -n 's/^bulletin \([0-9]*\) queued.*/\1/p')
}
emails_for_post() {
	sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id
		WHERE c.post_id = ${1:-0} AND o.kind = 'email' AND o.recipient = '$2'"
}
fanned_out() { [ "$(sql "SELECT fanned_out_at IS NOT NULL FROM posts WHERE id = ${POST:-0}")" = t ]; }

start_palierd "$PALIER_CONF" || exit 1

# ---------------------------------------------------------------- STOP
EMILIE=emilie.pichon99@example.org	# daily digest, a phone but no SMS
aide "$EMILIE" "STOP" "STOP"
expect "a resident's STOP is accepted" has "$OUT" "250 2.0.0 <$AIDE> stored as message"
expect_eq "it is kept as a command" "$(disposition_of "$EMILIE" STOP)" "command"
expect_eq "her email is stopped at once (in the intake transaction)" "$(res "$EMILIE" "email_stopped_at IS NOT NULL")" "t"
expect_eq "her SMS are not (a STOP by email stops email)" "$(res "$EMILIE" "sms_stopped_at IS NULL")" "t"
expect_eq "no post comes of it" "$(sql "SELECT count(*) FROM posts WHERE sender = '$EMILIE'")" "0"
expect_eq "one answer is queued" "$(answers "$EMILIE")" "1"
settle
row=$(answer_row "$EMILIE" command-stop)
expect_eq "the answer goes out although she stopped: it is the STOP's own" \
	"$(sql "SELECT state, after_stop FROM outgoing WHERE id = ${row:-0}")" "sent|t"
f=$(eml "$row")
expect "the answer is written by the file relay" test -f "$f"
expect_eq "to her" "$(hdr "$f" To | addr)" "$EMILIE"
expect_eq "from aide@" "$(hdr "$f" From | addr)" "$AIDE"
expect_eq "its subject" "$(subject_of "$f")" "C'est noté : vous ne recevrez plus de courriels"
expect_eq "it is marked auto-generated (no loop)" "$(hdr "$f" Auto-Submitted)" "auto-generated"
text=$(text_of "$f")
expect "it greets her and says it is the last one" bash -c \
	'printf "%s" "$1" | grep -qF "Bonjour Émilie Pichon," && printf "%s" "$1" | grep -qF "Ce message est le dernier."' _ "$text"
expect "it does not speak of SMS she does not get" bash -c '! printf "%s" "$1" | grep -q "SMS"' _ "$text"
stopped_at=$(res "$EMILIE" email_stopped_at)
bulletin "Coupure d'eau jeudi"
until_ok 20 fanned_out
expect_eq "a bulletin after her STOP sends her no email" "$(emails_for_post "$POST" "$EMILIE")" "0"
expect_eq "her neighbour still gets it" "$(emails_for_post "$POST" manuel.pichon@example.com)" "1"

# A second STOP the same day: nothing new.
aide "$EMILIE" "Re: C'est noté : vous ne recevrez plus de courriels" "stop"
expect_eq "a second STOP the same day is kept as a command" \
	"$(disposition_of "$EMILIE" "Re: C'est noté : vous ne recevrez plus de courriels")" "command"
settle
expect_eq "but not answered again" "$(answers "$EMILIE")" "1"
expect_eq "and her STOP keeps its first time" "$(res "$EMILIE" email_stopped_at)" "$stopped_at"

# STOP from a resident who also gets SMS: the answer says they go on.
MARIE=marie.aubry@example.net	# email, phone, sms = yes
aide "$MARIE" "Désabonner" "Merci de me désabonner."
settle
f=$(eml "$(answer_row "$MARIE" command-stop)")
expect_eq "'Désabonner' is a STOP" "$(res "$MARIE" "email_stopped_at IS NOT NULL, sms_stopped_at IS NULL")" "t|t"
expect "its answer says the SMS go on" has "$(text_of "$f")" "Vous recevrez encore les SMS. Pour les arrêter, envoyez STOP par SMS."

# ---------------------------------------------------------------- frequencies
MANUEL=manuel.pichon@example.com	# daily in the roster
aide "$MANUEL" "HEBDO" "HEBDO"
expect_eq "HEBDO sets the digest to weekly, as the resident's own choice" \
	"$(res "$MANUEL" "digest, digest_by_resident")" "weekly|t"
settle
row=$(answer_row "$MANUEL" command-frequency)
expect_eq "HEBDO is answered" "$(sql "SELECT state FROM outgoing WHERE id = ${row:-0}")" "sent"
f=$(eml "$row")
expect_eq "with the frequency answer" "$(subject_of "$f")" "C'est noté : votre choix est enregistré"
expect "which names the new frequency" has "$(text_of "$f")" "vous recevrez désormais les nouvelles une fois par semaine, le dimanche, en un seul courriel."
run "$PALIERCTL" import "$T_TOP/demo/roster.csv"
expect_rc 0 "the roster is imported again"
expect_eq "a re-import (which says daily) keeps the resident's weekly" \
	"$(res "$MANUEL" "digest, digest_by_resident")" "weekly|t"
expect_eq "and leaves the others as the roster says" "$(res karine_lecomte@example.com "digest, digest_by_resident")" "daily|f"
GILLES=gilles.simon@mail.example.fr
aide "$GILLES" "Immédiat" "Merci."
expect_eq "'Immédiat' (with its accent) sets immediate" "$(res "$GILLES" digest)" "immediate"
settle
expect "and is answered with the frequency" has "$(text_of "$(eml "$(answer_row "$GILLES" command-frequency)")")" \
	"dès qu'un message arrive, un courriel par message"

# ---------------------------------------------------------------- AIDE
KARINE=karine_lecomte@example.com
aide "$KARINE" "AIDE" "AIDE"
settle
row=$(answer_row "$KARINE" command-aide)
f=$(eml "$row")
expect_eq "AIDE is answered" "$(sql "SELECT state FROM outgoing WHERE id = ${row:-0}")" "sent"
expect_eq "with the help" "$(subject_of "$f")" "Aide : ce que vous pouvez faire par courriel"
text=$(text_of "$f")
expect "which gives her building's address" has "$text" "Pour écrire à vos voisins : envoyez votre message à residence-les-tilleuls@$D"
expect "and her frequency" has "$text" "Aujourd'hui, vous recevez les nouvelles chaque jour, vers 18 h, en un seul courriel."
expect "and the command words" bash -c 'for w in QUOTIDIEN HEBDO IMMEDIAT STOP REPRENDRE; do printf "%s" "$1" | grep -q "^$w : " || exit 1; done' _ "$text"
aide "$KARINE" "aide" "aide svp"
settle
expect_eq "AIDE twice the same day: answered once" "$(answers "$KARINE")" "1"
ARNAUD=arnaud.dasilva@example.org
aide "$ARNAUD" "Bonjour" "$(printf 'Bonjour,\n\nAIDE\n\nMerci')"
settle
expect_eq "AIDE in the body (the subject says nothing) is answered" "$(answers "$ARNAUD" command-aide)" "1"

# ---------------------------------------------------------------- unknown words
LUCIEN=lucien.perrin@example.net
aide "$LUCIEN" "Question" "Bonjour, savez-vous quand passe le facteur ?"
settle
row=$(answer_row "$LUCIEN" command-unknown)
f=$(eml "$row")
expect_eq "a message without a command word gets the command-unknown answer" \
	"$(sql "SELECT state FROM outgoing WHERE id = ${row:-0}")" "sent"
expect_eq "that says so" "$(subject_of "$f")" "Nous n'avons pas compris votre demande"
text=$(text_of "$f")
expect "and points to the building's address" has "$text" "Pour écrire à vos voisins : envoyez votre message à residence-les-tilleuls@$D (et non à cette adresse)."
expect "it never quotes what was received (no relaying)" bash -c '! grep -qi "facteur" "$1"' _ "$f"
expect_eq "nothing about him changed" "$(res "$LUCIEN" "digest, digest_by_resident, email_stopped_at IS NULL")" "daily|f|t"

# ---------------------------------------------------------------- auto-replies, strangers
ELODIE=elodie.leroux@courriel.example.org
aide "$ELODIE" "Absente : STOP" "Je suis absente jusqu'au 3 décembre. STOP" --header "Auto-Submitted: auto-replied"
expect_eq "an auto-reply (Auto-Submitted) to aide@ is kept as automatic" "$(disposition_of "$ELODIE" "Absente : STOP")" "automatic"
aide "$ELODIE" "Réponse automatique : STOP" "Je suis absente. HEBDO"
expect_eq "so is one with an out-of-office subject" "$(disposition_of "$ELODIE" "Réponse automatique : STOP")" "automatic"
aide "$ELODIE" "AIDE" "AIDE" --header "Precedence: bulk"
expect_eq "and one with Precedence: bulk" "$(disposition_of "$ELODIE" AIDE)" "automatic"
settle
expect_eq "none of them is answered" "$(answers "$ELODIE")" "0"
expect_eq "none of them acts (their STOP and HEBDO are not commands)" \
	"$(res "$ELODIE" "email_stopped_at IS NULL, digest, digest_by_resident")" "t|daily|f"
STRANGER=inconnu@example.net
aide "$STRANGER" "AIDE" "AIDE"
expect "a stranger's AIDE is accepted by LMTP" has "$OUT" "250 2.0.0 <$AIDE>"
aide "$STRANGER" "STOP" "STOP"
aide "$STRANGER" "Bonjour" "Qui êtes-vous ?"
settle
expect_eq "a stranger gets no answer at all (no backscatter)" \
	"$(sql "SELECT count(*) FROM outgoing WHERE lower(recipient) = '$STRANGER'")" "0"
expect_eq "the display name never makes a resident" \
	"$(OUT=$(lmtp --from x@example.net --header "From: \"$KARINE\" <x@example.net>" --to "$AIDE" --header "Subject: STOP" --body STOP); settle; sql "SELECT count(*) FROM outgoing WHERE recipient = 'x@example.net'")|$(res "$KARINE" "email_stopped_at IS NULL")" "0|t"

# ---------------------------------------------------------------- REPRENDRE
aide "$EMILIE" "REPRENDRE" "REPRENDRE"
expect_eq "REPRENDRE resumes her email" "$(res "$EMILIE" "email_stopped_at IS NULL")" "t"
settle
row=$(answer_row "$EMILIE" command-reprendre)
f=$(eml "$row")
expect_eq "REPRENDRE is answered" "$(sql "SELECT state FROM outgoing WHERE id = ${row:-0}")" "sent"
expect_eq "with the resume answer" "$(subject_of "$f")" "C'est noté : les nouvelles reprennent"
expect "which gives her frequency" has "$(text_of "$f")" "Vous les recevrez chaque jour, vers 18 h, en un seul courriel."
bulletin "Coupure d'eau vendredi"
until_ok 20 fanned_out
expect_eq "a bulletin after REPRENDRE reaches her again" "$(emails_for_post "$POST" "$EMILIE")" "1"
settle
expect_eq "every answer went out: nothing failed or was cancelled" \
	"$(sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'answer' AND o.state <> 'sent'")" "0"

palierd_down
expect_eq "palierd drains and exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning in palierd's log" "$(log_problems)" ""
