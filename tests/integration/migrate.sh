#!/bin/bash
# Migrations: applied once, in order, under a lock; commands need them.
. "$(dirname "$0")/../lib.sh"
newdb migrate

run "$PALIERCTL" channels
expect_rc 1 "commands refuse an unmigrated database"
expect "and say to migrate" has "$ERR" "run 'palierctl migrate'"

# Two at once: the advisory lock serialises them; each file applies once.
"$PALIERCTL" migrate >m1.out 2>&1 & p1=$!
"$PALIERCTL" migrate >m2.out 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
expect_eq "two concurrent migrates both succeed" "$r1 $r2" "0 0"
expect_eq "each migration is recorded once" "$(sql 'SELECT count(*) = count(DISTINCT version) FROM schema_migrations')" "t"
n=$(ls "$T_TOP"/sql/[0-9][0-9][0-9]_*.sql | wc -l)
expect_eq "every sql/ file is applied" "$(sql 'SELECT count(*) FROM schema_migrations')" "$n"
expect "only one of them applied 001" test "$(cat m1.out m2.out | grep -c 'applied 001_base')" = 1

run "$PALIERCTL" migrate
expect_rc 0 "migrate again succeeds"
expect "and changes nothing" has "$OUT" "schema is up to date"

run "$PALIERCTL" channels
expect_rc 0 "commands work after migrate"

# A database that is not there: exit 75, never 0 or 1.
cat > down.conf <<EOC
[database]
url = postgresql:///nowhere?host=$T_TMP&port=1&connect_timeout=2
EOC
run "$PALIERCTL" -c down.conf channels
expect_rc 75 "an unreachable database exits 75"
expect "and says so" has "$ERR" "the database is unreachable"
run "$PALIERCTL" -c down.conf migrate
expect_rc 75 "migrate against an unreachable database exits 75"

# A server that takes the connection and never answers (a host dropping
# packets, a hung proxy): given up after 10 s when the URL sets no timeout.
mute=$(free_port)
perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => "127.0.0.1", LocalPort => $ARGV[0], Listen => 5, ReuseAddr => 1) or die; sleep 60' "$mute" &
mute_pid=$!
sleep 0.3
printf '[database]\nurl = postgresql://palier@127.0.0.1:%s/palier\n' "$mute" > mute.conf
t0=$(date +%s)
run "$PALIERCTL" -c mute.conf channels
t1=$(date +%s)
kill "$mute_pid" 2>/dev/null
expect_rc 75 "a database that never answers: exits 75"
expect "after the default timeout, not forever" test $((t1 - t0)) -ge 9 -a $((t1 - t0)) -le 20
