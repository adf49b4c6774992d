#!/bin/bash
# LMTP promises under failure: PostgreSQL stopped mid-run gives 451s and,
# after the client's retries, every message stored exactly once; kill -9 of
# palierd in the middle of 10,000 messages, a restart and the client's
# retries: every message that got 250 is stored, exactly once.
. "$(dirname "$0")/../lib.sh"
BLAST="$T_TOP/build/tools/lmtp-blast"
D=residence.example
FROM=emilie.pichon99@example.org
case "$PALIER_BIN" in *san*) N=3000; M=600 ;; *) N=10000; M=2000 ;; esac

# --- (a) the database goes away and comes back ---
pgdir=$T_TMP/pg2 pgport=$(free_port)
sock=$("$T_TOP/scripts/pg.sh" start "$pgdir" "$pgport") || { not_ok "a second PostgreSQL starts"; exit 1; }
trap '"$T_TOP/scripts/pg.sh" stop "$pgdir"; stop_palierd' EXIT
psql -XAtq -h "$sock" -p "$pgport" -U postgres -d postgres -c "CREATE DATABASE crash" >/dev/null
port=$(free_port)
cat > crash.conf <<EOC
[database]
url = postgresql:///crash?host=$sock&port=$pgport&user=postgres&connect_timeout=3
[security]
secret_file = $T_TMP/secret
[filters]
dir = $T_TOP/filters
[lmtp]
listen = 127.0.0.1:$port
EOC
"$PALIERCTL" -c crash.conf migrate >/dev/null
"$PALIERCTL" -c crash.conf import "$T_TOP/demo/roster.csv" >/dev/null
start_palierd crash.conf --role ingest || exit 1
"$BLAST" -p "$port" -n "$M" -s 10 -z 2048 -f "$FROM" -t residence-les-tilleuls@$D -o acks-a.txt -x down -d 90 > blast-a.out &
blast=$!
sleep 1
"$T_TOP/scripts/pg.sh" stop "$pgdir"
sleep 2
"$T_TOP/scripts/pg.sh" start "$pgdir" "$pgport" >/dev/null
wait $blast
expect_eq "every message is acknowledged in the end" "$(wc -l < acks-a.txt)" "$M"
expect "some got 451 while the database was down" grep -q "temporary\|451" "$T_TMP/palierd.log"
got=$(psql -XAtq -h "$sock" -p "$pgport" -U postgres -d crash -c "SELECT count(*), count(DISTINCT dedup_key) FROM inbound WHERE dedup_key LIKE 'mid:down-%'")
expect_eq "each is stored exactly once" "$got" "$M|$M"
stop_palierd
sed 's/^/mid:/; s/$/|residence-les-tilleuls@residence.example/' acks-a.txt | sort > want-a.txt
psql -XAtq -h "$sock" -p "$pgport" -U postgres -d crash -c "SELECT dedup_key FROM inbound" | sort > have-a.txt
expect_eq "every message that got 250 is in the database" "$(comm -23 want-a.txt have-a.txt | wc -l)" "0"

# --- (b) kill -9 in the middle of many messages ---
newdb lmtpcrash
"$PALIERCTL" migrate >/dev/null
"$PALIERCTL" import "$T_TOP/demo/roster.csv" >/dev/null
port=$(free_port)
printf '[lmtp]\nlisten = 127.0.0.1:%s\n' "$port" >> "$PALIER_CONF"
start_palierd "$PALIER_CONF" --role ingest || exit 1
"$BLAST" -p "$port" -n "$N" -s 20 -z 2048 -f "$FROM" -t residence-les-tilleuls@$D -o acks-b.txt -x kill -d 120 > blast-b.out &
blast=$!
for _ in $(seq 100); do [ "$(sql "SELECT count(*) FROM inbound")" -gt $((N / 5)) ] && break; sleep 0.1; done
kill -9 "$PALIERD_PID"
wait "$PALIERD_PID" 2>/dev/null
PALIERD_PID=
stored_at_kill=$(sql "SELECT count(*) FROM inbound")
sleep 1
start_palierd "$PALIER_CONF" --role ingest || exit 1
wait $blast
echo "# killed with $stored_at_kill of $N stored; $(cat blast-b.out)"
expect_eq "after the restart every message is acknowledged" "$(wc -l < acks-b.txt)" "$N"
expect_eq "every message is stored exactly once" \
	"$(sql "SELECT count(*) || '|' || count(DISTINCT dedup_key) FROM inbound WHERE dedup_key LIKE 'mid:kill-%'")" "$N|$N"
sed 's/^/mid:/; s/$/|residence-les-tilleuls@residence.example/' acks-b.txt > want.txt
sql "SELECT dedup_key FROM inbound WHERE dedup_key LIKE 'mid:kill-%'" | sort > have.txt
expect_eq "every acknowledged message is in the database" "$(sort want.txt | comm -23 - have.txt | wc -l)" "0"
stop_palierd
expect_eq "palierd exits 0 after the restart" "$PALIERD_RC" "0"
