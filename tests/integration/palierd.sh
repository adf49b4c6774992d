#!/bin/bash
# palierd: starts, creates its key file, reloads on SIGHUP (keeping the old
# config when the new one is bad), drains and exits 0 on SIGTERM.
. "$(dirname "$0")/../lib.sh"
newdb palierd
"$PALIERCTL" migrate >/dev/null

wait_log() { # wait_log PATTERN: up to 10 s for the log to show it
	for _ in $(seq 100); do grep -q -- "$1" d.log && return 0; sleep 0.1; done
	return 1
}
cat >> "$PALIER_CONF" <<EOC
[lmtp]
listen = 127.0.0.1:$(free_port)
[http]
listen = 127.0.0.1:$(free_port)
[smtp]
relay = file:$T_TMP/mail
[sms]
gateway = file:$T_TMP/sms
EOC
cp "$PALIER_CONF" live.conf
"$PALIERD" -c live.conf >d.log 2>&1 & pid=$!
expect "palierd starts" wait_log "event=started"
expect "palierd connects to PostgreSQL" wait_log "event=db_connected"
expect "the key file is created" test -f "$T_TMP/secret"
expect_eq "the key file is private" "$(stat -c %a "$T_TMP/secret")" "600"

echo "nonsense line" >> live.conf
kill -HUP $pid
expect "a bad reload is refused with file and line" wait_log "event=reload_refused error=\"live.conf:[0-9]*:"
expect "palierd survives a bad reload" kill -0 $pid

cp "$PALIER_CONF" live.conf
kill -HUP $pid
expect "a good reload is taken" wait_log "event=reloaded"

kill -TERM $pid
wait $pid; rc=$?
expect_eq "SIGTERM exits 0" "$rc" "0"
expect "and logs that it stopped" grep -q "event=stopped" d.log
expect "no sanitizer report" bash -c "! grep -qE 'Sanitizer|runtime error:' d.log"

# The key stays the same across restarts.
k1=$(cat "$T_TMP/secret")
"$PALIERD" -c live.conf >d2.log 2>&1 & pid=$!
sleep 0.5; kill -TERM $pid; wait $pid
expect_eq "the key is kept across restarts" "$(cat "$T_TMP/secret")" "$k1"
