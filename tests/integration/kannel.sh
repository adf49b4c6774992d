#!/bin/bash
# SMS through a real Kannel: bearerbox, smsbox and the fake SMS centre of
# kannel-extras standing in for the phones, palierd behind Kannel's get-url
# and in front of its sendsms. Inbound posts with accents (GSM and UCS-2),
# STOP/START, retries stored once, bulletins (GSM-7, UCS-2, two parts)
# delivered to every SMS resident intact, delivery reports, a poll end to
# end (invitation out, a vote back by SMS and one by email reply through
# the LMTP listener, confirmation and results out), and no
# unexpected WARNING/ERROR in Kannel's or palierd's logs. Kannel's config:
# tests/fixtures/kannel/kannel.conf.in; its logs: $T_TMP/kannel/.
. "$(dirname "$0")/../lib.sh"
. "$T_TOP/tests/kannel-lib.sh"
T_START=$SECONDS
FIX=$T_TOP/tests/fixtures/kannel

if ! kannel_available; then
	not_ok "Kannel is installed" "needs $KANNEL_BEARERBOX, $KANNEL_SMSBOX (package kannel)" \
		"and $KANNEL_FAKESMSC (package kannel-extras)"
	exit 1
fi

cleanup() {
	stop_palierd
	kannel_stop >/dev/null
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP	# so that a timeout still runs cleanup

phase() { echo "# $T_NAME: $1 at $((SECONDS - T_START)) s"; }

newdb kannel
: >> "$T_TMP/palierd.log"
"$PALIERCTL" migrate >/dev/null && "$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null ||
	{ not_ok "migrate and import the demo roster"; exit 1; }

ANNE=+33261918094		# Anne-Marie Simon, Résidence Les Tilleuls, SMS only
SHORT=38100			# palier's number: what residents text, what they see as sender
SECRET=ks$RANDOM$RANDOM
hp=$(k_port)
base=http://127.0.0.1:$hp

phase "starting Kannel"
kannel_start "$hp" "$SECRET" || exit 1
ok "bearerbox and smsbox start"

# The fake SMS centre takes one client at a time: try the intruder first.
printf '+33199000999 %s text intrus\n' "$SHORT" |
	timeout 5 curl -s --interface 127.0.0.2 "telnet://127.0.0.1:$K_SMSC_PORT" >/dev/null 2>&1
expect "a client from 127.0.0.2 is refused by the fake SMS centre (connect-allow-ip)" \
	k_wait 5 grep -q "Fakesmsc connection tried from denied host <127.0.0.2>" "$K_DIR/bearerbox.log"
fakesmsc_start || exit 1
ok "fakesmsc connects from 127.0.0.1"

# Kannel listens on loopback only (the fake SMS centre too, with our-host).
listening=$(ss -Hltunp 2>/dev/null | grep -E "pid=($K_BB_PID|$K_SB_PID)," | awk '{print $5}' | sort)
expect "Kannel listens (admin, smsbox, SMS centre, sendsms)" test "$(printf '%s\n' "$listening" | grep -c .)" -ge 4
expect_eq "and only on 127.0.0.1" "$(printf '%s\n' "$listening" | grep -v '^127\.0\.0\.1:')" ""

cat >> "$PALIER_CONF" <<EOC
[http]
listen = 127.0.0.1:$hp
public_url = $base
[smtp]
relay = file:$T_TMP/mail
[sms]
gateway = kannel
url = $K_SENDSMS_URL
user = $K_USER
password = $K_PASSWORD
sender = $SHORT
webhook_secret = $SECRET
quiet_hours = none
EOC

# Kannel 1.4.5's smsbox starts every answer to an sms-service with coding =
# DC_7BIT, so fill_message() warns for each inbound SMS that it may not set
# the coding (accept-x-kannel-headers is off, as it should be): harmless.
K_OK_MO='WARNING: Tried to set Coding field, denied\.'

# ---------------------------------------------------------------- 1. inbound
phase "inbound"
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role http || exit 1

kannel_posts() {
	sql "SELECT count(*) FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.via = 'kannel'"
}
posts_ge() { [ "$(kannel_posts)" -ge "$1" ]; }

FETE="Fête des voisins samedi à 18h, apportez un gâteau"
expect "fakesmsc injects an SMS (plain text, UTF-8)" fakesmsc_send "$ANNE $SHORT text $FETE"
expect "it becomes a post within 10 s" k_wait 10 posts_ge 1
expect_eq "in her building, from her, accents intact" \
	"$(sql "SELECT p.source, p.status, p.author, c.slug, p.body FROM posts p JOIN channels c ON c.id = p.channel_id JOIN inbound i ON i.id = p.inbound_id WHERE i.via = 'kannel' ORDER BY p.id LIMIT 1")" \
	"sms|published|Anne-Marie Simon|residence-les-tilleuls|$FETE"
expect_eq "keyed by Kannel's message id (%I, a UUID)" \
	"$(sql "SELECT count(*) FROM inbound WHERE via = 'kannel' AND dedup_key ~ '^sms:kannel:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$'")" "1"
expect_eq "the intruder's SMS never arrived" "$(sql "SELECT count(*) FROM inbound WHERE sender = '+33199000999'")" "0"
expect_eq "and from her number, to ours" \
	"$(sql "SELECT sender, recipient FROM inbound WHERE via = 'kannel'")" "$ANNE|$SHORT"

# A phone that sends UCS-2: fakesmsc's ucs2 type takes url-encoded UTF-16BE;
# Kannel passes it on as coding=2&charset=UTF-16BE.
UCS="Œufs frais : ça coûte 2 € la boîte, côté cour"
expect "fakesmsc injects a UCS-2 SMS" fakesmsc_send "$ANNE $SHORT ucs2 $(ucs2_data "$UCS")"
expect "it becomes a post" k_wait 10 posts_ge 2
expect_eq "UCS-2 text reads right (Œ, ç, €, î, ô)" \
	"$(sql "SELECT p.body FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.via = 'kannel' ORDER BY p.id DESC LIMIT 1")" "$UCS"

# An SMS in two lines (fakesmsc's data type: url-encoded bytes, here UTF-8;
# Kannel passes it as 8-bit): palier makes an SMS one paragraph, its white
# space runs one space (sms_normalize).
expect "fakesmsc injects a two-line SMS" \
	fakesmsc_send "$ANNE $SHORT data R%C3%A9union+mardi+%C3%A0+18+h%0ASalle+commune,++1er+%C3%A9tage"
expect "it becomes a post" k_wait 10 posts_ge 3
expect_eq "in one paragraph, accents intact" \
	"$(sql "SELECT p.body FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.via = 'kannel' ORDER BY p.id DESC LIMIT 1")" \
	"Réunion mardi à 18 h Salle commune, 1er étage"

stopped() { [ "$(sql "SELECT sms_stopped_at IS NOT NULL FROM residents WHERE phone = '$ANNE'")" = "$1" ]; }
expect "fakesmsc sends STOP" fakesmsc_send "$ANNE $SHORT text STOP"
expect "STOP stops her SMS (sms_stopped_at set)" k_wait 10 stopped t
expect "fakesmsc sends START" fakesmsc_send "$ANNE $SHORT text START"
expect "START resumes them" k_wait 10 stopped f
expect_eq "commands are not posts" "$(kannel_posts)" "3"
expect_eq "both are confirmed by a queued SMS" \
	"$(sql "SELECT string_agg(c.data->>'template', ',' ORDER BY o.id) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE o.recipient = '$ANNE'")" \
	"sms-stop,sms-start"
kannel_check "Kannel logged no unexpected warning (inbound)" "$K_OK_MO"

# ---------------------------------------------------- 2. retries, stored once
phase "retries"
stop_palierd
inbound_n=$(sql "SELECT count(*) FROM inbound WHERE via = 'kannel'")
fails0=$(k_count "Couldn't fetch" "$K_DIR/smsbox.log")
for i in 1 2 3; do
	expect "with palierd down, fakesmsc injects SMS $i" \
		fakesmsc_send "$ANNE $SHORT text Panne $i : l'ascenseur est bloqué au 3e étage"
done
expect "smsbox fails to call palierd for each" k_wait 10 k_count_ge "Couldn't fetch <http://127.0.0.1:$hp/" "$K_DIR/smsbox.log" $((fails0 + 3))
expect_eq "nothing is stored meanwhile" "$(sql "SELECT count(*) FROM inbound WHERE via = 'kannel'")" "$inbound_n"
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role http || exit 1
# smsbox's access log gets one line per SMS once its call settles (200):
# after that, nothing is retried any more.
settled() { [ "$(grep -ac "text=Panne.* reply: 200" "$K_DIR/smsbox-access.log" 2>/dev/null)" -ge 3 ]; }
expect "Kannel retries and gets 200 for all three within 20 s" k_wait 20 settled
expect "smsbox logged its retries" grep -aq "HTTP: Retrying request <http://127.0.0.1:$hp/sms/kannel?.*text=Panne" "$K_DIR/smsbox.log"
expect_eq "each is stored exactly once" \
	"$(sql "SELECT count(*), count(DISTINCT dedup_key), count(DISTINCT p.body) FROM inbound i JOIN posts p ON p.inbound_id = i.id WHERE i.via = 'kannel' AND p.body LIKE 'Panne %'")" "3|3|3"
expect_eq "and nothing else arrived" "$(sql "SELECT count(*) FROM inbound WHERE via = 'kannel'")" "$((inbound_n + 3))"
expect_eq "accents intact after retries" \
	"$(sql "SELECT body FROM posts WHERE body LIKE 'Panne 2 %'")" "Panne 2 : l'ascenseur est bloqué au 3e étage"
# While palierd was down smsbox could not connect: one ERROR per failed try.
kannel_check "Kannel logged no unexpected warning (retries)" "$K_OK_MO|ERROR: Couldn't fetch <http://127.0.0.1:$hp/sms/kannel\?"

# ------------------------------------------------------------- 3. outbound
phase "outbound"
stop_palierd
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role fanout,deliver,http || exit 1

mapfile -t PHONES < <(sql "SELECT r.phone FROM residents r JOIN channels c ON c.id = r.building_id WHERE c.slug = 'residence-les-tilleuls' AND r.sms AND r.phone IS NOT NULL AND r.sms_stopped_at IS NULL ORDER BY 1")
n=${#PHONES[@]}
expect "Résidence Les Tilleuls has SMS residents, Anne-Marie among them" \
	bash -c "[ $n -ge 2 ] && printf '%s\n' ${PHONES[*]} | grep -qxF '$ANNE'"

COUPURE="Coupure d'eau jeudi de 9 h à 12 h. Pensez à remplir une bouteille."
FETE2="Fête des voisins samedi à 18 h, apportez un gâteau !"
TRAVAUX=$(cat "$FIX/travaux.txt")
run "$PALIERCTL" bulletin send --channel residence-les-tilleuls --subject "Coupure d'eau" --file "$FIX/coupure.txt"
expect_rc 0 "palierctl bulletin send (GSM-7 text)"
run "$PALIERCTL" bulletin send --channel residence-les-tilleuls --subject "Fête des voisins" --file "$FIX/fete.txt"
expect_rc 0 "palierctl bulletin send (a ê: UCS-2)"
run "$PALIERCTL" bulletin send --channel residence-les-tilleuls --subject "Ravalement" --file "$FIX/travaux.txt"
expect_rc 0 "palierctl bulletin send (GSM-7, 261 characters: two parts)"

# Three bulletins to n residents, the STOP and START confirmations; the
# long bulletin goes as two parts.
want=$((3 * n + 2)) parts=$((4 * n + 2))
received_ge() { k_count_ge 'Got message [0-9]+: <' "$K_DIR/fakesmsc.log" "$1"; }
expect "the fake SMS centre gets $parts SMS ($want messages) within 30 s" k_wait 30 received_ge $parts
sms_left() { [ "$(sql "SELECT count(*) FROM outgoing WHERE kind = 'sms' AND state IN ('queued', 'sending')")" = 0 ]; }
expect "the SMS queue drains" k_wait 10 sms_left
fakesmsc_received > "$T_TMP/received.tsv"
expect_eq "no more, no less: as many SMS as palier counted segments" \
	"$(grep -c . "$T_TMP/received.tsv")" "$(sql "SELECT sum(segments) FROM outgoing WHERE kind = 'sms'")"
expect_eq "all outgoing SMS end 'sent', accepted by Kannel (no error, sent once)" \
	"$(sql "SELECT state, last_error IS NULL, attempts, sent_at IS NOT NULL, count(*) FROM outgoing WHERE kind = 'sms' GROUP BY 1, 2, 3, 4")" \
	"sent|t|1|t|$want"

bad=""
for ph in "${PHONES[@]}"; do
	c=$(grep -cxF "$SHORT	$ph	text	Palier : $COUPURE" "$T_TMP/received.tsv")
	[ "$c" = 1 ] || bad+="$ph: $c coupure; "
	c=$(grep -cxF "$SHORT	$ph	ucs-2	Palier : $FETE2" "$T_TMP/received.tsv")
	[ "$c" = 1 ] || bad+="$ph: $c fête; "
	c=$(fakesmsc_joined "$T_TMP/received.tsv" "$ph" | grep -cxF "Palier : $TRAVAUX")
	[ "$c" = 1 ] || bad+="$ph: $c travaux; "
done
if [ -z "$bad" ]; then ok "each SMS resident got the three bulletins once, intact, from $SHORT"
else not_ok "each SMS resident got the three bulletins once, intact, from $SHORT" "$bad" "$(head -n 8 "$T_TMP/received.tsv")"; fi
expect "Anne-Marie's GSM-7 bulletin (é, à) arrives as 7-bit text" \
	grep -qxF "$SHORT	$ANNE	text	Palier : $COUPURE" "$T_TMP/received.tsv"
expect "her UCS-2 bulletin (ê) arrives as UCS-2, ê intact" \
	grep -qxF "$SHORT	$ANNE	ucs-2	Palier : $FETE2" "$T_TMP/received.tsv"
expect_eq "her long bulletin arrives in two parts that join up" \
	"$(fakesmsc_joined "$T_TMP/received.tsv" "$ANNE")" "Palier : $TRAVAUX"
expect_eq "palier counted 1, 1 and 2 segments for the three bulletins" \
	"$(sql "SELECT string_agg(o.segments::text, ',' ORDER BY c.post_id) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE o.recipient = '$ANNE' AND c.purpose = 'bulletin'")" "1,1,2"
expect "her STOP confirmation reached her phone" \
	grep -q "^$SHORT	$ANNE	text	Vous ne recevrez plus de SMS de Palier" "$T_TMP/received.tsv"
expect "her START confirmation too" \
	grep -q "^$SHORT	$ANNE	text	C'est noté : vous recevrez de nouveau" "$T_TMP/received.tsv"
expect_eq "residents without SMS got none" \
	"$(cut -f2 "$T_TMP/received.tsv" | sort -u | grep -cvxF -f <(printf '%s\n' "${PHONES[@]}"))" "0"

# Delivery reports: dlr-mask=31 asks for all; bearerbox reports 8 (accepted
# by the SMS centre) and the fake SMS centre 1 (delivered), each through
# smsbox to palierd's dlr-url. Settled when palierd has logged as many
# reports as bearerbox received, two per message at least.
expect "delivery reports reach palierd (sms_report in its log)" k_wait 15 grep -q "event=sms_report via=kannel" "$T_TMP/palierd.log"
dlr_done() {
	local got made
	got=$(k_count "event=sms_report via=kannel" "$T_TMP/palierd.log")
	made=$(k_count "Receive DLR" "$K_DIR/access.log")
	[ "$got" -ge $((2 * want)) ] && [ "$got" = "$made" ]
}
expect "Kannel calls the dlr-url for every report (accepted, delivered)" k_wait 15 dlr_done
echo "# $T_NAME: $(k_count "Receive DLR" "$K_DIR/access.log") delivery reports for $want messages"
expect_eq "reports per outgoing SMS" \
	"$(sql "SELECT coalesce(report, 'none'), count(*) FROM outgoing WHERE kind = 'sms' GROUP BY 1 ORDER BY 1")" "delivered|$want"
kannel_check "Kannel logged no unexpected warning (outbound)"

# ------------------------------------------------- 4. a poll, end to end
# Invitations out through Kannel, a vote back from the phone through Kannel
# and one by email reply through the LMTP listener, confirmations, results.
phase "poll"
stop_palierd
LPORT=$(k_port)
printf '[lmtp]\nlisten = 127.0.0.1:%s\n' "$LPORT" >> "$PALIER_CONF"
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" || exit 1
got() { grep -qF -- "$1" <(fakesmsc_received); }
run "$PALIERCTL" poll create --channel residence-les-tilleuls --question "Faut-il repeindre le hall ?" \
	--option Oui --option Non --closes "$(date -d '+1 day' '+%Y-%m-%d 18:00')" --from "Conseil syndical"
expect_rc 0 "palierctl poll create"
expect "her invitation reaches her phone through Kannel" \
	k_wait 30 got "$SHORT	$ANNE	text	Conseil syndical : sondage consultatif. Faut-il repeindre le hall ? Répondez 1 pour Oui, 2 pour Non."
expect "she answers 2 from her phone" fakesmsc_send "$ANNE $SHORT text 2"
ballot() { [ "$(sql "SELECT b.choice || b.source FROM ballots b JOIN residents r ON r.id = b.resident_id WHERE r.phone = '$ANNE'")" = "$1" ]; }
expect "her vote is counted" k_wait 10 ballot 2sms
expect "her confirmation reaches her phone" k_wait 20 got "$SHORT	$ANNE	text	Conseil syndical : merci, votre vote \"Non\" est bien enregistré."
inv=$(sql "SELECT o.id FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.purpose = 'poll-invite' AND o.recipient = 'emilie.pichon99@example.org'")
k_wait 20 test -s "$(printf '%s/mail/%08d.eml' "$T_TMP" "$inv")"
tok=$(tr -d '\r' < "$(printf '%s/mail/%08d.eml' "$T_TMP" "$inv")" | grep -A1 -i '^reply-to:' | grep -o 'vote+[a-z0-9]*' | head -n 1)
out=$(timeout 20 swaks --protocol LMTP --server 127.0.0.1 --port "$LPORT" --helo test.example \
	--from emilie.pichon99@example.org --to "$tok@residence.example" --header "Subject: Re: Votre avis" --body "Oui" </dev/null 2>&1)
expect "Émilie votes by replying, through the LMTP listener" has "$out" "250 2.0.0"
expect_eq "the tally has both" "$("$PALIERCTL" poll results 1 --json | jq -c '[.voted, [.options[].votes], .by_channel.sms, .by_channel.email]')" "[2,[1,1],1,1]"
run "$PALIERCTL" poll close 1
expect_rc 0 "palierctl poll close"
expect "the results reach her phone in one SMS" \
	k_wait 30 got "$SHORT	$ANNE	text	Conseil syndical : résultats du sondage \"Faut-il repeindre le hall ?\" : Oui 50 %, Non 50 %. Nombre de réponses : 2."
results_sent() {
	[ "$(sql "SELECT o.state FROM outgoing o JOIN contents c ON c.id = o.content_id
		WHERE c.purpose = 'poll-results' AND o.recipient = 'emilie.pichon99@example.org'")" = sent ]
}
expect "and Émilie's by email" k_wait 20 results_sent
kannel_check "Kannel logged no unexpected warning (poll)" "$K_OK_MO"

# ------------------------------------------------------- 5. logs, shutdown
phase "shutdown"
stop_palierd
expect_eq "palierd exits 0" "$PALIERD_RC" "0"
expect_eq "palierd logged no unexpected warning" "$(log_problems)" ""
kannel_stop
# bearerbox announces its shutdown as a WARNING, every time.
kannel_check "Kannel shuts down cleanly" 'WARNING: Killing signal or HTTP admin command received, shutting down\.\.\.' 
phase "done"
