#!/bin/bash
# palierctl filters test: channel, topic, decision, and the rules (file:line).
. "$(dirname "$0")/../lib.sh"
newdb filters

printf 'From: a@example.fr\r\nTo: "Les Tilleuls" <residence-les-tilleuls@residence.example>\r\nSubject: Vends poussette\r\n\r\n#quartier Bonjour, je vends une poussette en bon etat, 30 euros.\r\n' > vente.eml
run "$PALIERCTL" filters test vente.eml
expect_rc 0 "filters test exits 0"
expect "it names the channel and the move" has "$OUT" "channel:  residence-les-tilleuls, moved to its district"
expect "it names the topic" has "$OUT" "topic:    annonces"
expect "it names the decision" has "$OUT" "decision: publish"
expect "it names each rule with file and line" has "$OUT" "10-scope.rules:"
expect "it names the topic rule" bash -c "printf '%s' \"\$1\" | grep -qE '20-topics.rules:[0-9]+ +annonce'" _ "$OUT"

run bash -c "printf 'CHAT PERDU roux' | '$PALIERCTL' filters test - --sms --role unknown"
expect "an SMS from a stranger is held" has "$OUT" "decision: hold"

run "$PALIERCTL" filters test missing.eml
expect_rc 1 "a missing file is a user error"
run "$PALIERCTL" filters test vente.eml --role mayor
expect_rc 1 "an unknown role is a user error"
