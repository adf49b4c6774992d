#!/bin/bash
# The model test of votes: for several random plans (tests/poll-model.py),
# residents of the whole town vote concurrently by SMS and by email reply,
# change their minds, answer unclearly, and the gateway retries SMS (some
# retries racing their original); then the poll closes and late votes come.
# Every time, the ballots in the database equal the reference model's, the
# tally equals the model's counts, and nothing after the close counts.
. "$(dirname "$0")/../lib.sh"
D=residence.example
ROUNDS=${POLL_MODEL_ROUNDS:-3}
: > "$T_TMP/palierd.log"
newdb poll_model
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null

export WAIT_EVENT=http_listening
conf_all_roles
trap stop_palierd EXIT
start_palierd "$PALIER_CONF" || exit 1

CITY=$(sql "SELECT slug FROM channels WHERE kind = 'city'")
LATER=$(date -d '+2 days' '+%Y-%m-%d 18:00')

for ((round = 1; round <= ROUNDS; round++)); do
	seed=$((RANDOM * 32768 + RANDOM))
	run "$PALIERCTL" poll create --channel "$CITY" --question "Question $round ?" \
		--option Oui --option Non --option "Sans avis" --closes "$LATER"
	[ "$RC" = 0 ] || { not_ok "round $round: the poll opens" "$ERR"; continue; }
	poll=$(printf '%s' "$OUT" | grep -o '^poll [0-9]*' | cut -d' ' -f2)
	settle 60
	# Who votes how: SMS from each elector's phone, else a reply from their
	# address to the vote+ address of the invitation they received.
	sql "SELECT e.resident_id, r.phone FROM electorate e JOIN residents r ON r.id = e.resident_id
		WHERE e.poll_id = $poll AND r.phone IS NOT NULL
		AND r.id = (SELECT min(id) FROM residents x WHERE x.phone = r.phone)" |
		awk -F'|' '{ print $1, "sms", $2, "-" }' > "$T_TMP/voters"
	sql "SELECT e.resident_id, r.email, o.id FROM electorate e JOIN residents r ON r.id = e.resident_id
		JOIN outgoing o ON o.resident_id = r.id AND o.kind = 'email' AND o.state = 'sent'
		JOIN contents c ON c.id = o.content_id AND c.poll_id = $poll AND c.purpose = 'poll-invite'
		WHERE e.poll_id = $poll AND r.phone IS NULL" |
	while IFS='|' read -r rid mail oid; do
		tok=$(tr -d '\r' < "$(printf '%s/mail/%08d.eml' "$T_TMP" "$oid")" |
			awk '/^$/ { exit } /^[ \t]/ { h = h $0; next } { print h; h = $0 } END { print h }' |
			grep -io '^reply-to:.*' | grep -o 'vote+[a-z0-9]*' | head -n 1)
		echo "$rid email $mail ${tok:--}"
	done >> "$T_TMP/voters"
	n_sms=$(grep -c ' sms ' "$T_TMP/voters")
	n_mail=$(grep -c ' email ' "$T_TMP/voters")
	expect "round $round: voters by SMS ($n_sms) and by email ($n_mail)" test "$n_sms" -gt 20 -a "$n_mail" -gt 5
	expect_eq "round $round: every email voter has a vote+ token" "$(grep -c ' email .* -$' "$T_TMP/voters")" "0"

	python3 "$T_TOP/tests/poll-model.py" "$seed" "$base" "$LPORT" "$D" "$T_TMP/voters" open \
		> "$T_TMP/model" 2> "$T_TMP/model.err"
	expect_eq "round $round (seed $seed): every message was accepted" "$?:$(cat "$T_TMP/model.err")" "0:"
	sql "SELECT resident_id || ' ' || choice FROM ballots WHERE poll_id = $poll ORDER BY resident_id" > "$T_TMP/db"
	expect_eq "round $round: the ballots equal the model's ($(wc -l < "$T_TMP/model") voters)" \
		"$(diff "$T_TMP/model" "$T_TMP/db" | head -n 10)" ""
	want=$(awk '{ n[$2]++ } END { printf "[%d,%d,%d]", n[1], n[2], n[3] }' "$T_TMP/model")
	expect_eq "round $round: the tally equals the model's" \
		"$("$PALIERCTL" poll results "$poll" --json | jq -c '[.options[].votes]')" "$want"
	expect_eq "round $round: one vote row per message, retries included" \
		"$(sql "SELECT count(*) - count(DISTINCT inbound_id) FROM votes WHERE poll_id = $poll")" "0"

	run "$PALIERCTL" poll close "$poll"
	before=$(sql "SELECT md5(string_agg(resident_id || ':' || choice || ':' || vote_id, ',' ORDER BY resident_id)) FROM ballots WHERE poll_id = $poll")
	late=$(python3 "$T_TOP/tests/poll-model.py" "$seed" "$base" "$LPORT" "$D" "$T_TMP/voters" late 2>>"$T_TMP/model.err")
	after=$(sql "SELECT md5(string_agg(resident_id || ':' || choice || ':' || vote_id, ',' ORDER BY resident_id)) FROM ballots WHERE poll_id = $poll")
	expect_eq "round $round: $late votes after the close change nothing" "$after" "$before"
	expect_eq "round $round: and are recorded as late" \
		"$(sql "SELECT count(*) FROM votes v JOIN inbound i ON i.id = v.inbound_id WHERE v.poll_id = $poll AND i.dedup_key LIKE '%late%'" )/$(sql "SELECT count(*) FROM votes v JOIN inbound i ON i.id = v.inbound_id WHERE v.poll_id = $poll AND i.dedup_key LIKE '%late%' AND v.outcome = 'late'")" "$late/$late"
	settle 60
done

stop_palierd
expect_eq "palierd exits 0" "$PALIERD_RC" "0"
expect_eq "no unexpected warning" "$(log_problems)" ""
