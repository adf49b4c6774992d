#!/bin/bash
# Polls end to end on the file backends: palierctl opens a poll, the
# invitations go by email (Reply-To vote+<token>) and SMS, residents vote by
# SMS (webhook) and by replying (LMTP), change their vote, answer unclearly,
# vote late; gateway retries count once; a token from another address is
# held; the poll closes (by command and at its time) and the results go out.
. "$(dirname "$0")/../lib.sh"
D=residence.example
: > "$T_TMP/palierd.log"
newdb polls
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null

export WAIT_EVENT=http_listening
conf_all_roles
trap stop_palierd EXIT
start_palierd "$PALIER_CONF" || exit 1

sms() { curl -s -o /dev/null -w '%{http_code}' "$base/sms/kannel?secret=s3cret&from=$1&to=12345&id=$2&text=$3"; }
lmtp() { timeout 20 swaks --protocol LMTP --server 127.0.0.1 --port "$LPORT" --helo test.example "$@" </dev/null 2>&1; }
# The last message of PURPOSE sent to RECIPIENT as the backend wrote it:
# an SMS's text, an email as its reader sees it (mail_text).
sent() {
	local id
	id=$(sql "SELECT o.id FROM outgoing o JOIN contents c ON c.id = o.content_id
		WHERE c.purpose = '$1' AND o.recipient = '$2' AND o.state = 'sent' ORDER BY o.id DESC LIMIT 1")
	[ -n "$id" ] || return 0
	case $2 in
	+*) cat "$(printf '%s/sms/%08d.sms' "$T_TMP" "$id")" ;;
	*) mail_text "$(printf '%s/mail/%08d.eml' "$T_TMP" "$id")" ;;
	esac
}
count() { sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = '$1' AND o.recipient = '$2'"; }
ballot() { sql "SELECT b.choice || ':' || b.source || ':' || b.changes FROM ballots b JOIN residents r ON r.id = b.resident_id WHERE b.poll_id = $1 AND (r.phone = '$2' OR r.email = '$2')"; }

TILLEULS=residence-les-tilleuls
ANNE=+33261918094		# Anne-Marie Simon, Les Tilleuls, SMS only
ANNE_Q=%2B33261918094
EMILIE=emilie.pichon99@example.org
MANUEL=manuel.pichon@example.com
LATER=$(date -d '+2 days' '+%Y-%m-%d 18:00')

# ---- opening a poll ----
run "$PALIERCTL" poll create --channel $TILLEULS --question "Faut-il repeindre le hall ?" --option Oui --closes "$LATER"
expect_rc 1 "a poll with one option is refused"
expect "with a clear message" has "$ERR" "2 to 9 options"
run "$PALIERCTL" poll create --channel $TILLEULS --question "Q ?" --option Oui --option Non --closes "2020-01-01 10:00"
expect_rc 1 "a poll that closes in the past is refused"
expect "and says so" has "$ERR" "already past"
run "$PALIERCTL" poll create --channel nulle-part --question "Q ?" --option Oui --option Non --closes "$LATER"
expect_rc 1 "a poll in an unknown channel is refused"
run "$PALIERCTL" poll create --channel $TILLEULS --question "Q ?" --option Oui --option oui --closes "$LATER"
expect_rc 1 "two options that are the same are refused"
expect_eq "and nothing was written" "$(sql 'SELECT count(*) FROM polls') $(sql 'SELECT count(*) FROM outgoing')" "0 0"

want=$(sql "SELECT count(*) FROM residents r JOIN channels b ON b.id = r.building_id WHERE b.slug = '$TILLEULS'
	AND ((r.email IS NOT NULL) OR (r.phone IS NOT NULL))")
run "$PALIERCTL" poll create --channel $TILLEULS --question "Faut-il repeindre le hall ?" \
	--option Oui --option Non --option "Sans avis" --closes "$LATER" --from "Conseil syndical"
expect_rc 0 "palierctl poll create opens a poll"
expect "and says how many were asked" has "$OUT" "poll 1 opened (code A): $want residents asked"
expect_eq "the electorate is every resident of the building" "$(sql 'SELECT count(*) FROM electorate WHERE poll_id = 1')" "$want"
settle
inv=$(sent poll-invite $EMILIE)
expect "the email invitation has a vote+ Reply-To" has "$(printf '%s' "$inv" | grep -i '^Reply-To:')" "vote+"
expect "and says how to answer" has "$inv" "répondez simplement 1, 2 ou 3"
expect "and that the poll is consultative" has "$inv" "consultatif"
TOKEN=$(printf '%s' "$inv" | grep -i '^Reply-To:' | grep -o 'vote+[a-z0-9]*' | head -n 1)
expect_eq "the SMS invitation lists the answers" "$(sent poll-invite $ANNE | grep -o 'Répondez 1 pour Oui, 2 pour Non, 3 pour Sans avis')" \
	"Répondez 1 pour Oui, 2 pour Non, 3 pour Sans avis"

# ---- votes by SMS ----
expect_eq "an SMS vote gets 200" "$(sms $ANNE_Q v1 '1')" "200"
expect_eq "it is her ballot" "$(ballot 1 $ANNE)" "1:sms:0"
expect_eq "a gateway retry of it gets 200" "$(sms $ANNE_Q v1 '1')" "200"
expect_eq "and counts once" "$(sql 'SELECT count(*) FROM votes') $(ballot 1 $ANNE)" "1 1:sms:0"
settle
expect "she gets a confirmation by SMS" has "$(sent poll-vote $ANNE)" 'votre vote "Oui" est bien enregistré'
expect_eq "she may change her mind" "$(sms $ANNE_Q v2 'Non%20merci')" "200"
expect_eq "the last vote counts, the change is kept" "$(ballot 1 $ANNE) $(sql "SELECT string_agg(outcome || choice, ',' ORDER BY id) FROM votes")" \
	"2:sms:1 counted1,counted2"
sms $ANNE_Q v3 '1%20ou%202' >/dev/null
sms $ANNE_Q v4 '7' >/dev/null
settle
expect_eq "an unclear answer changes nothing" "$(ballot 1 $ANNE)" "2:sms:1"
expect_eq "and gets one clarifying SMS, once" "$(count poll-clarify $ANNE)" "1"
expect "which lists the choices" has "$(sent poll-clarify $ANNE)" "1 pour Oui, 2 pour Non, 3 pour Sans avis"
sms $ANNE_Q v5 "Fuite%20d%27eau%20au%203e" >/dev/null
expect_eq "a text that is no answer is a post, as before" \
	"$(sql "SELECT count(*) FROM posts WHERE source = 'sms' AND body = 'Fuite d''eau au 3e'")" "1"
expect_eq "an unknown number's '1' is no vote" "$(sms %2B33699999999 v6 '1') $(sql "SELECT count(*) FROM votes")" "200 4"

# ---- votes by email ----
out=$(lmtp --from $EMILIE --to "$TOKEN@$D" --header "Subject: Re: Votre avis : Faut-il repeindre le hall ?" \
	--body $'Oui\n\nLe lun. 23 nov. 2026 à 10:12, Conseil syndical <residence-les-tilleuls@residence.example> a écrit :\n> 1 : Oui\n> 2 : Non\n')
expect "a reply to the invitation is taken" has "$out" "250 2.0.0"
expect_eq "and counts the resident's words, not the quoted invitation" "$(ballot 1 $EMILIE)" "1:email:0"
out=$(lmtp --from $MANUEL --to "$TOKEN@$D" --header "Subject: Re: vote" --body "2")
expect_eq "her token used from another address is held, never counted" \
	"$(sql "SELECT outcome FROM votes v JOIN inbound i ON i.id = v.inbound_id WHERE i.sender = '$MANUEL'") $(ballot 1 $MANUEL)" "held "
lmtp --from $EMILIE --to "$TOKEN@$D" --header "Subject: Absence" --header "Auto-Submitted: auto-replied" --body "Je suis absente." >/dev/null
expect_eq "an auto-reply to the vote address is no vote" "$(sql "SELECT count(*) FROM votes WHERE source = 'email'")" "2"
settle
expect "the email voter gets her confirmation" has "$(sent poll-vote $EMILIE)" "Votre choix : Oui"

# ---- two open polls: codes ----
run "$PALIERCTL" poll create --channel $TILLEULS --question "Fête des voisins samedi ou dimanche ?" \
	--option Samedi --option Dimanche --closes "$LATER"
expect "a second poll gets code B" has "$OUT" "(code B)"
settle
expect "her SMS invitation now carries the code" has "$(sent poll-invite $ANNE)" "B1 pour Samedi, B2 pour Dimanche"
sms $ANNE_Q v7 'dimanche' >/dev/null
expect_eq "an answer only one poll has counts there" "$(ballot 2 $ANNE)" "2:sms:0"
sms $ANNE_Q v8 'A3' >/dev/null
expect_eq "a coded answer counts in its poll" "$(ballot 1 $ANNE)" "3:sms:2"
sms $ANNE_Q v9 '1' >/dev/null
expect_eq "a bare number with two polls open is unclear" \
	"$(sql "SELECT outcome FROM votes v JOIN inbound i ON i.id = v.inbound_id WHERE i.dedup_key = 'sms:kannel:v9'") $(ballot 1 $ANNE) $(ballot 2 $ANNE)" \
	"unclear 3:sms:2 2:sms:0"

# ---- results and closing ----
run "$PALIERCTL" poll results 1 --json
expect_rc 0 "poll results --json"
expect_eq "the tally is exact" "$(printf '%s' "$OUT" | jq -cS '[.id, .closed, .electorate, .voted, [.options[].votes], .by_channel]')" \
	"[1,false,$want,2,[1,0,1],{\"email\":1,\"sms\":1}]"
page() { curl -s -o "$T_TMP/page.html" -w '%{http_code}' "$base/polls/$1"; }
expect_eq "an open poll has its public page" "$(page 1)" "200"
expect "which says how to vote" has "$(cat "$T_TMP/page.html")" "Le sondage est en cours"
expect_eq "and shows no count before the close" "$(grep -c 'voix' "$T_TMP/page.html")" "0"
expect_eq "an unknown poll's page is 404" "$(page 999) $(page abc) $(page 0)" "404 404 404"
run "$PALIERCTL" poll close 1
expect_rc 0 "palierctl poll close closes it"
expect_eq "a closed poll's page shows its results" "$(page 1)" "200"
expect "as an inline SVG chart" has "$(cat "$T_TMP/page.html")" "<svg"
expect "and as text" has "$(cat "$T_TMP/page.html")" "<strong>Sans avis</strong> : 1 voix (50 %)"
expect "with the turnout" has "$(cat "$T_TMP/page.html")" "Nombre de réponses : 2 sur $want habitants consultés"

# The page in a real browser: headless Chromium, no JavaScript needed.
chrome() { timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
	--user-data-dir="$T_TMP/chromium" --disable-javascript "$@" 2>>"$T_TMP/chromium.log"; }
chrome --dump-dom "$base/polls/1" > "$T_TMP/dom.html"
expect "Chromium shows the question" has "$(cat "$T_TMP/dom.html")" "Faut-il repeindre le hall ?"
expect "and the figures" has "$(cat "$T_TMP/dom.html")" "Oui</strong> : 1 voix (50 %)"
chrome --screenshot="$T_TMP/poll.png" --window-size=800,1000 --force-device-scale-factor=2 "$base/polls/1" >/dev/null
expect "Chromium takes a screenshot of it" test -s "$T_TMP/poll.png"
bars=$(python3 "$T_TOP/tests/png-bars.py" "$T_TMP/poll.png" 0 51 160)
expect_eq "in which two bars of equal length are drawn (zoom 200 %)" "$bars" "2 equal"
run "$PALIERCTL" poll close 1
expect_rc 1 "closing it again is an error"
settle
expect "SMS voters get the results in one SMS" has "$(sent poll-results $ANNE)" "Oui 50 %, Non 0 %, Sans avis 50 %"
expect "email voters get them by email" has "$(sent poll-results $EMILIE)" "Nombre de réponses : 2 sur $want"
expect "with the link to the results page" has "$(sent poll-results $EMILIE)" "$base/polls/1"
expect_eq "people who did not vote get no results message" "$(count poll-results $MANUEL)" "0"
sms $ANNE_Q v10 'A1' >/dev/null
sms $ANNE_Q v11 'A2' >/dev/null
settle
expect_eq "a vote after the close is refused" "$(ballot 1 $ANNE) $(sql "SELECT count(*) FROM votes WHERE outcome = 'late'")" "3:sms:2 2"
expect_eq "with one polite reply" "$(count poll-closed $ANNE)" "1"
expect "that says it is over" has "$(sent poll-closed $ANNE)" "est terminé"

run "$PALIERCTL" digest run --now
expect_rc 0 "the digests are built"
settle
dig=$(sent digest $EMILIE)
expect "the next digest has the closed poll's results" has "$dig" "$(printf 'Résultats du sondage\n')"
expect "with its figures" has "$dig" "Sans avis : 1 voix (50 %)"
expect "and the open poll, with how to vote by reply" has "$dig" "Fête des voisins samedi ou dimanche ?"
expect "to her own vote address" has "$dig" "à vote+"

soon=$(date -d '+3 seconds' --iso-8601=seconds)
run "$PALIERCTL" poll create --channel $TILLEULS --question "Ouvrir le local vélos ?" --option Oui --option Non --closes "$soon"
expect_rc 0 "a poll closing in 3 s opens"
until_ok 20 test "$(sql "SELECT state FROM polls WHERE id = 3")" = closed
expect_eq "palierd closes it at its time" "$(sql "SELECT state FROM polls WHERE id = 3")" "closed"

# ---- a poll by email from a publisher: a draft, confirmed by OK ----
CONSEIL=conseil@syndic.example
"$PALIERCTL" publisher add $TILLEULS $CONSEIL --name "Conseil syndical" >/dev/null
END=$(date -d '+3 days' '+%d/%m/%Y')
out=$(lmtp --from $CONSEIL --to "$TILLEULS@$D" --header "Subject: Sondage : Installer un composteur ?" \
	--body $'Bonjour,\n\n1. Oui\n2. Non\n3. Sans avis\n\nFin : '"$END"$' 18h\n\nLe conseil syndical')
expect "a publisher's \"Sondage :\" mail is taken" has "$out" "250 2.0.0"
draft=$(sql "SELECT id || ' ' || state || ' ' || array_to_string(options, '/') || ' ' || to_char(closes_at AT TIME ZONE 'Europe/Paris', 'DD/MM/YYYY HH24:MI') FROM polls WHERE question = 'Installer un composteur ?'")
expect_eq "it is kept as a draft, options and end as written" "${draft#* }" "draft Oui/Non/Sans avis $END 18:00"
DRAFT=${draft%% *}
expect_eq "and nobody is asked yet" "$(sql "SELECT count(*) FROM electorate WHERE poll_id = $DRAFT")" "0"
settle
conf=$(sent poll-draft $CONSEIL)
expect "the publisher gets what will be sent" has "$conf" "Répondez 1 pour Oui, 2 pour Non, 3 pour Sans avis"
expect "and how to send it" has "$conf" "répondez OK à ce courriel"
STOK=$(printf '%s' "$conf" | grep -i '^Reply-To:' | grep -o 'sondage+[a-z0-9]*' | head -n 1)
expect "the answer goes to a sondage+ address" test -n "$STOK"
lmtp --from $MANUEL --to "$STOK@$D" --header "Subject: Re: Votre sondage" --body "OK" >/dev/null
expect_eq "an OK from anyone else changes nothing" "$(sql "SELECT state FROM polls WHERE id = $DRAFT")" "draft"
out=$(lmtp --from $CONSEIL --to "$STOK@$D" --header "Subject: Re: Votre sondage est prêt" --body $'OK\n\n> Votre sondage est prêt.')
expect "the publisher's OK is taken" has "$out" "250 2.0.0"
until_ok 20 test "$(sql "SELECT state FROM polls WHERE id = $DRAFT")" = open
expect_eq "and the poll opens" "$(sql "SELECT state FROM polls WHERE id = $DRAFT")" "open"
expect_eq "with its electorate" "$(sql "SELECT count(*) FROM electorate WHERE poll_id = $DRAFT")" "$want"
settle
expect "and its invitations" has "$(sent poll-invite $ANNE)" "Installer un composteur ?"
out=$(lmtp --from $CONSEIL --to "$TILLEULS@$D" --header "Subject: Sondage : Une seule option ?" --body $'1. Oui\n')
settle
expect_eq "a draft with one option makes no poll" "$(sql "SELECT count(*) FROM polls WHERE question = 'Une seule option ?'")" "0"
expect "and the publisher is told why" has "$(sent poll-draft $CONSEIL)" "il faut au moins deux choix"
lmtp --from $EMILIE --to "$TILLEULS@$D" --header "Subject: Sondage : qui vient samedi ?" --body $'1. moi\n2. pas moi' >/dev/null
expect_eq "a resident's \"Sondage :\" mail is an ordinary post" \
	"$(sql "SELECT p.kind FROM posts p WHERE p.subject = 'Sondage : qui vient samedi ?'") $(sql "SELECT count(*) FROM polls WHERE question = 'qui vient samedi ?'")" "post 0"

expect_eq "palierd is still running" "$(dead && echo dead || echo alive)" "alive"
stop_palierd
expect_eq "palierd exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning" "$(log_problems)" ""
