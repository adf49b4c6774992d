#!/bin/bash
# Inbound SMS webhooks over real HTTP: Kannel-style GET and Twilio-style
# signed POST, commands, idempotency, hostile texts, a dead database.
. "$(dirname "$0")/../lib.sh"
newdb smshttp
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null

port=$(free_port)
base=http://127.0.0.1:$port
cat >> "$PALIER_CONF" <<EOC
[http]
listen = 127.0.0.1:$port
public_url = $base
[sms]
webhook_secret = s3cret
allow = 127.0.0.1
password = tok123
EOC
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role http || exit 1

# Ready before the first SMS: the intake has connected and run its write
# once, for no item (a cold first batch took 160 ms while a gateway piled up
# connections).
intake_warm() { [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle' AND query LIKE 'WITH j AS (SELECT * FROM unnest(%'")" = 1 ]; }
until_ok 10 intake_warm
expect_eq "palierd's intake is connected and warm before any SMS" "$(intake_warm && echo yes)" "yes"
expect_eq "and wrote nothing" "$(sql "SELECT count(*) FROM inbound")" "0"

ANNE=%2B33261918094		# Anne-Marie Simon, Résidence Les Tilleuls, SMS only
kannel() { curl -s -o "$T_TMP/body" -w '%{http_code}' "$base/sms/kannel?secret=s3cret&$1"; }

code=$(kannel "from=$ANNE&to=12345&id=k1&text=Fuite+d%27eau+au+3e%2C+le+gardien+est+pr%C3%A9venu")
expect_eq "an SMS from a resident gets 200" "$code" "200"
expect_eq "it is a post in her building, from her" \
	"$(sql "SELECT p.source, p.status, p.author, c.slug, p.body FROM posts p JOIN channels c ON c.id = p.channel_id WHERE p.source = 'sms'")" \
	"sms|published|Anne-Marie Simon|residence-les-tilleuls|Fuite d'eau au 3e, le gardien est prévenu"
code=$(kannel "from=$ANNE&to=12345&id=k1&text=Fuite+d%27eau+au+3e%2C+le+gardien+est+pr%C3%A9venu")
expect_eq "a gateway retry with the same id gets 200" "$code" "200"
expect_eq "and is stored once" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key = 'sms:kannel:k1'")" "1"

expect_eq "a wrong secret gets 403" "$(curl -s -o /dev/null -w '%{http_code}' "$base/sms/kannel?secret=nope&from=$ANNE&text=x&id=k2")" "403"
expect_eq "no secret gets 403" "$(curl -s -o /dev/null -w '%{http_code}' "$base/sms/kannel?from=$ANNE&text=x&id=k3")" "403"
expect_eq "nothing from them is stored" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key IN ('sms:kannel:k2', 'sms:kannel:k3')")" "0"

# STOP, even with a zero-width space inside it: committed, confirmed once.
code=$(kannel "from=$ANNE&id=k4&text=ST%E2%80%8BOP")
expect_eq "STOP gets 200" "$code" "200"
expect_eq "STOP stops her SMS" "$(sql "SELECT sms_stopped_at IS NOT NULL FROM residents WHERE phone = '+33261918094'")" "t"
expect_eq "one confirmation is queued, allowed past the STOP" \
	"$(sql "SELECT o.kind, o.after_stop, c.data->>'template' FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE o.recipient = '+33261918094'")" \
	"sms|t|sms-stop"
kannel "from=$ANNE&id=k5&text=stop" >/dev/null
expect_eq "a second STOP is not confirmed again" "$(sql "SELECT count(*) FROM outgoing WHERE recipient = '+33261918094'")" "1"
expect_eq "STOP is not a post" "$(sql "SELECT count(*) FROM posts WHERE source = 'sms'")" "1"

code=$(kannel "from=$ANNE&id=k6&text=Start")
expect_eq "START resumes her SMS" "$(sql "SELECT sms_stopped_at IS NULL FROM residents WHERE phone = '+33261918094'")" "t"
expect_eq "START is confirmed" "$(sql "SELECT count(*) FROM outgoing o JOIN contents c ON c.id = o.content_id WHERE c.data->>'template' = 'sms-start'")" "1"

# "Stop aux incivilités" is a post, not a command.
kannel "from=$ANNE&id=k7&text=Stop+aux+incivilit%C3%A9s+dans+le+hall" >/dev/null
expect_eq "a sentence starting with Stop is a post" "$(sql "SELECT count(*) FROM posts WHERE body LIKE 'Stop aux%'")" "1"

# UCS-2 arrives as URL-encoded UTF-16BE: "Été" then " chaud".
code=$(kannel "from=$ANNE&id=k8&coding=2&charset=UTF-16BE&text=%00%C9%00t%00%E9%00+%00c%00h%00a%00u%00d")
expect_eq "a UCS-2 SMS gets 200" "$code" "200"
expect_eq "and reads right" "$(sql "SELECT body FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key = 'sms:kannel:k8'")" "Été chaud"

# Unknown and alphanumeric senders: kept, never posted, never answered.
kannel "from=%2B33199000999&id=k9&text=Bonjour" >/dev/null
kannel "from=ORANGE&id=k10&text=Votre+forfait" >/dev/null
expect_eq "unknown senders are kept as ignored" "$(sql "SELECT count(*) FROM inbound WHERE dedup_key IN ('sms:kannel:k9', 'sms:kannel:k10') AND disposition = 'ignored'")" "2"
expect_eq "and never answered" "$(sql "SELECT count(*) FROM outgoing WHERE recipient NOT LIKE '+33261918094'")" "0"

# Hostile texts.
code=$(kannel "from=$ANNE&id=k11&text=")
expect_eq "an empty SMS gets 200" "$code" "200"
expect_eq "and makes no post" "$(sql "SELECT count(*) FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key = 'sms:kannel:k11'")" "0"
long=$(head -c 10000 /dev/zero | tr '\0' 'a')
expect_eq "a 10 KB SMS gets 200" "$(kannel "from=$ANNE&id=k12&text=$long")" "200"
expect_eq "invalid UTF-8 gets 200" "$(kannel "from=$ANNE&id=k13&text=caf%E9+%FF%FE")" "200"
expect_eq "and is stored as valid text" "$(sql "SELECT body FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key = 'sms:kannel:k13'")" "café ÿþ"
expect_eq "repeated text parameters get 400" "$(kannel "from=$ANNE&id=k14&text=a&text=b")" "400"
expect_eq "emoji pass" "$(kannel "from=$ANNE&id=k15&text=%F0%9F%8D%B0+g%C3%A2teau")" "200"

# Twilio: signature over the public URL and the sorted parameters.
twilio() { # twilio TOKEN-USED FORM-FIELDS... : posts them, signed with TOKEN-USED
	local tok=$1 data="" sig concat
	shift
	concat=$(printf "%s\n" "$@" | LC_ALL=C sort | tr -d '\n=' )
	sig=$(printf '%s' "$base/sms/twilio$concat" | openssl dgst -sha1 -hmac "$tok" -binary | base64)
	for f in "$@"; do data+="${data:+&}$(printf '%s' "${f%%=*}")=$(printf '%s' "${f#*=}" | jq -sRr @uri)"; done
	curl -s -o "$T_TMP/body" -w '%{http_code}' -H "X-Twilio-Signature: $sig" --data "$data" "$base/sms/twilio"
}
code=$(twilio tok123 "From=+33261918094" "To=+33700000000" "Body=Chat perdu, roux, répond à Caramel" "MessageSid=SM1")
expect_eq "a signed Twilio post gets 200" "$code" "200"
expect_eq "its answer is TwiML" "$(cat "$T_TMP/body")" '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
expect_eq "and is stored" "$(sql "SELECT body FROM posts p JOIN inbound i ON i.id = p.inbound_id WHERE i.dedup_key = 'sms:twilio:SM1'")" "Chat perdu, roux, répond à Caramel"
code=$(twilio wrong "From=+33261918094" "To=+33700000000" "Body=x" "MessageSid=SM2")
expect_eq "a bad Twilio signature gets 403" "$code" "403"
code=$(curl -s -o /dev/null -w '%{http_code}' --data "From=%2B33261918094&Body=x&MessageSid=SM3" "$base/sms/twilio")
expect_eq "a missing Twilio signature gets 403" "$code" "403"

# A burst, as Kannel sends them: 300 requests, 100 at a time, every tenth
# a retry of another (the same id, maybe while the first still waits for
# its commit). Each is answered 200 and stored once.
seq 1 300 | awk '{ print $1 % 10 ? $1 : $1 - 5 }' | xargs -P 100 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	"$base/sms/kannel?secret=s3cret&from=$ANNE&id=burst-{}&text=Rafale+{}" > "$T_TMP/burst"
expect_eq "a burst of 300: every request gets 200" "$(sort "$T_TMP/burst" | uniq -c | awk '{ print $1, $2 }')" "300 200"
expect_eq "each of its 270 messages is stored once" \
	"$(sql "SELECT count(*), count(DISTINCT dedup_key) FROM inbound WHERE dedup_key LIKE 'sms:kannel:burst-%'")" "270|270"
expect_eq "and posted once" "$(sql "SELECT count(*) FROM posts WHERE body LIKE 'Rafale %'")" "270"

# Stopping while requests wait for their commit: each one answered 200 is stored.
seq 1 200 | xargs -P 100 -I{} curl -s -o /dev/null -w '{} %{http_code}\n' \
	"$base/sms/kannel?secret=s3cret&from=$ANNE&id=stop-{}&text=Arret+{}" > "$T_TMP/stopping" &
burst=$!
for ((i = 0; i < 100; i++)); do	# stopped in the middle of it
	[ "$(grep -c ' 200$' "$T_TMP/stopping")" -ge 30 ] && break
	sleep 0.1
done
stop_palierd
wait "$burst"
ok=$(awk '$2 == 200 { print "sms:kannel:stop-" $1 }' "$T_TMP/stopping" | sort)
stored=$(sql "SELECT dedup_key FROM inbound WHERE dedup_key LIKE 'sms:kannel:stop-%' ORDER BY 1" | sort)
expect_eq "stopping with requests in flight: every 200 was stored" "$(comm -23 <(echo "$ok") <(echo "$stored"))" ""
echo "# $T_NAME: stopping: $(grep -c ' 200$' "$T_TMP/stopping") of 200 answered 200 before the stop, $(echo "$stored" | grep -c .) stored"
expect_eq "palierd exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning" "$(log_problems 'event=sms_forbidden')" ""

# A dead database: 503, so that the gateway tries again.
sed -i "s|^url = .*|url = postgresql:///nowhere?host=$T_TMP\&port=1|" "$PALIER_CONF"
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role http || exit 1
expect_eq "with the database down, an SMS gets 503" "$(kannel "from=$ANNE&id=k20&text=hello")" "503"
stop_palierd

# A database that accepts and never answers: no delivery report waits for
# it more than half a second, so none holds one of the server's threads
# from the other requests for long; each gets 503 (the gateway sends it
# again).
mute=$(free_port)
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 64, ReuseAddr => 1) or die; sleep 60' "$mute" &
mute_pid=$!
sleep 0.3
sed -i "s|^url = .*|url = postgresql://palier@127.0.0.1:$mute/palier?connect_timeout=3|" "$PALIER_CONF"
WAIT_EVENT=http_listening start_palierd "$PALIER_CONF" --role http || exit 1
curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}\n' \
	"$base/sms/kannel?secret=s3cret&from=$ANNE&id=k21&text=hello" > "$T_TMP/sms_mute" &
sms=$!
seq 1 8 | xargs -P 8 -I{} curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}\n' \
	"$base/sms/dlr/kannel?secret=s3cret&id={}&status=1" > "$T_TMP/dlr_mute" &
dlrs=$!
sleep 0.5
expect_eq "a mute database: meanwhile the server answers other requests" \
	"$(curl -s --max-time 2.5 "$base/healthz")" "ok"
wait "$dlrs"
expect_eq "8 delivery reports at once: each gets 503" \
	"$(awk '{ print $1 }' "$T_TMP/dlr_mute" | sort | uniq -c | awk '{ print $1, $2 }')" "8 503"
expect_eq "and palierd logs them so" "$(grep -c 'event=sms_report via=kannel outgoing=[1-8] report=delivered status=503$' "$T_TMP/palierd.log")" "8"
expect_eq "each within 5 s, while connecting takes 3 s" \
	"$(awk '$2 < 5 { n++ } END { print n + 0 }' "$T_TMP/dlr_mute")" "8"
wait "$sms"
# The intake's first connection (3 s) fails while the SMS waits: its batch
# fails at once after that, not after another 3 s.
expect_eq "an SMS that came while the intake connected gets 503, within 5 s" \
	"$(awk '{ print $1, ($2 < 5 ? "in time" : "after " $2 " s") }' "$T_TMP/sms_mute")" "503 in time"
kill "$mute_pid" 2>/dev/null
stop_palierd
