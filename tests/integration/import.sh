#!/bin/bash
# Roster import: plain, Excel and Windows-1252 files; E.164 phones; idempotent
# re-imports that keep what residents chose; every bad line reported as
# "line N: reason" and nothing written; database down; 10 000 residents.
. "$(dirname "$0")/../lib.sh"
FX=$T_TOP/tests/fixtures/roster

# usedb NAME: switch to a database that newdb NAME made earlier.
usedb() { case $PALIER_BIN in *san*) T_DB=t_san_$1 ;; *) T_DB=t_$1 ;; esac; PALIER_CONF=$T_TMP/$1.conf; export PALIER_CONF; }
imp() { run "$PALIERCTL" import "$@"; }
migrated() { newdb "$1"; "$PALIERCTL" migrate >/dev/null 2>&1 || not_ok "migrate $1"; }
summary() {	# FILE RESIDENTS NEW UPDATED UNCHANGED CHANNELS CNEW CUPDATED
	echo "$1: $2 residents ($3 new, $4 updated, $5 unchanged), $6 channels ($7 new, $8 updated)"
}
# scratch: an emptied scratch database (cheaper than CREATE DATABASE).
scratch() {
	usedb import_scratch
	sql "TRUNCATE channels, residents, publishers RESTART IDENTITY CASCADE" >/dev/null
}
# snap: lib.sh's snapshot (same tables, same columns) in one connection, for loops.
snap() {
	psql -XAtq -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$T_DB" \
		-c "SELECT 'c', id, kind, slug, name, parent_id, address, updated_at FROM channels ORDER BY id" \
		-c "SELECT 'r', r.* FROM residents r ORDER BY id" | md5sum
}
rows() { sql "SELECT (SELECT count(*) FROM channels) || ' ' || (SELECT count(*) FROM residents)"; }
# resident NAME: building slug, unit, email, phone, digest, sms of one resident.
resident() {
	sql "SELECT c.slug, r.unit, coalesce(r.email, '-'), coalesce(r.phone, '-'), r.digest, r.sms
	     FROM residents r JOIN channels c ON c.id = r.building_id WHERE r.name = '${1//\'/\'\'}'"
}
# problems FILE ERRFILE: the exact stderr of a refused import of FILE.
problems() {
	local n
	n=$(wc -l < "$2")
	cat "$2"
	echo "palierctl: import: $1: $n problem$([ "$n" -gt 1 ] && echo s); nothing was written"
}

migrated import_scratch
migrated import_empty
migrated import

# ---------------------------------------------------------------- plain.csv
imp "$FX/plain.csv"
expect_rc 0 "plain.csv imports"
expect_eq "plain.csv: the summary line" "$OUT" "$(summary "$FX/plain.csv" 5 5 0 0 7 7 0)"
expect_eq "plain.csv: nothing on stderr" "$ERR" ""
expect_eq "plain.csv: the channel tree, slugs folded from the names" \
	"$(sql "SELECT c.kind, c.slug, c.name, coalesce(p.slug, '-') FROM channels c
	        LEFT JOIN channels p ON p.id = c.parent_id ORDER BY c.id")" \
	"city|saint-aubin-sur-loire|Saint-Aubin-sur-Loire|-
district|centre-ville|Centre-Ville|saint-aubin-sur-loire
building|residence-les-tilleuls|Résidence Les Tilleuls|centre-ville
building|le-clos-des-vignes|Le Clos des Vignes|centre-ville
district|les-pres|Les Prés|saint-aubin-sur-loire
building|batiment-a-les-acacias|Bâtiment A - Les Acacias|les-pres
building|tour-bellevue|Tour Bellevue|saint-aubin-sur-loire"
expect_eq "plain.csv: residents with E.164 phones, digests and SMS choices" \
	"$(sql "SELECT c.slug, r.unit, r.name, coalesce(r.email, '-'), coalesce(r.phone, '-'), r.digest, r.sms
	        FROM residents r JOIN channels c ON c.id = r.building_id ORDER BY r.id")" \
	"residence-les-tilleuls|RDC A|Émilie Pichon|emilie.pichon@example.fr|+33261912256|daily|f
residence-les-tilleuls|1B|Jean-Pierre Lefèvre|jp.lefevre@example.org|-|weekly|f
le-clos-des-vignes|Bât. B 2e étage; porte droite|Françoise Guérin|-|+33612345678|immediate|t
batiment-a-les-acacias|Appt 4|Mamadou Diallo|mamadou.diallo@example.fr|+33261910317|none|t
tour-bellevue|Appt 1204|Hélène N'Diaye|helene.ndiaye@example.org|+33261914408|daily|f"
expect_eq "plain.csv: a building keeps its postal address (building_address)" \
	"$(sql "SELECT coalesce(address, 'NULL') FROM channels WHERE slug IN ('le-clos-des-vignes', 'tour-bellevue') ORDER BY slug")" \
	"3, place de l'Église
1 place du Belvédère"

# Same file again: no row touched, not even updated_at.
before=$(snapshot)
imp "$FX/plain.csv"
expect_rc 0 "plain.csv again imports"
expect_eq "plain.csv again: everything unchanged" "$OUT" "$(summary "$FX/plain.csv" 5 0 0 5 7 0 0)"
expect_eq "plain.csv again: no row written (snapshot with updated_at)" "$(snapshot)" "$before"

# ---------------------------------------------------------------- excel.csv
expect "excel.csv is what Excel writes: BOM, CRLF, ';'" \
	test "$(head -c 3 "$FX/excel.csv" | od -An -tx1 | tr -d ' ')" = efbbbf -a \
	"$(grep -c $'\r$' "$FX/excel.csv")" -ge 7
imp "$FX/excel.csv"
expect_rc 0 "excel.csv over plain.csv imports"
expect_eq "excel.csv reads as plain.csv: all unchanged" "$OUT" "$(summary "$FX/excel.csv" 5 0 0 5 7 0 0)"
expect_eq "excel.csv over plain.csv writes no row" "$(snapshot)" "$before"

plain_res=$("$PALIERCTL" residents --json | jq -S 'map(del(.id))')
plain_ch=$("$PALIERCTL" channels --json | jq -S .)
expect_eq "plain.csv: residents --json and channels --json list 5 and 7" \
	"$(printf '%s' "$plain_res" | jq -sc 'map(length)') $(printf '%s' "$plain_ch" | jq -sc 'map(length)')" "[5] [7]"
expect_eq "plain.csv: channels --json counts residents below each channel" \
	"$(printf '%s' "$plain_ch" | jq -r 'sort_by(.slug) | map("\(.slug)=\(.residents)") | join(" ")')" \
	"batiment-a-les-acacias=1 centre-ville=3 le-clos-des-vignes=1 les-pres=1 residence-les-tilleuls=2 saint-aubin-sur-loire=5 tour-bellevue=1"
scratch
imp "$FX/excel.csv"
expect_rc 0 "excel.csv imports into an empty database"
expect_eq "excel.csv: the summary line" "$OUT" "$(summary "$FX/excel.csv" 5 5 0 0 7 7 0)"
expect_eq "excel.csv: residents --json equals plain.csv's (ids aside)" \
	"$("$PALIERCTL" residents --json | jq -S 'map(del(.id))')" "$plain_res"
expect_eq "excel.csv: channels --json equals plain.csv's" "$("$PALIERCTL" channels --json | jq -S .)" "$plain_ch"
expect_eq "excel.csv: the quoted newline and ';' land in the unit" \
	"$(sql "SELECT unit FROM residents WHERE name = 'Françoise Guérin'")" "Bât. B 2e étage; porte droite"
usedb import

# ---------------------------------------------------------------- stdin
imp - < "$FX/plain.csv"
expect_rc 0 "import - reads standard input"
expect_eq "import -: the summary line names -" "$OUT" "$(summary - 5 0 0 5 7 0 0)"
expect_eq "import -: no row written" "$(snapshot)" "$before"

# ---------------------------------------------------------------- edits
# Émilie: new email and digest; her old email had bounced.
sql "UPDATE residents SET email_suspended_at = now(), bounce_score = 7 WHERE name = 'Émilie Pichon'"
sed '2s/emilie.pichon@example.fr,02 61 91 22 56,daily/emilie.pichon@example.org,02 61 91 22 56,weekly/' \
	"$FX/plain.csv" > edit1.csv
others=$(sql "SELECT id, updated_at FROM residents WHERE name <> 'Émilie Pichon' ORDER BY id")
imp edit1.csv
expect_rc 0 "a new email and digest import"
expect_eq "a new email and digest: 1 updated" "$OUT" "$(summary edit1.csv 5 0 1 4 7 0 0)"
expect_eq "a new email and digest are stored" "$(resident 'Émilie Pichon')" \
	"residence-les-tilleuls|RDC A|emilie.pichon@example.org|+33261912256|weekly|f"
expect_eq "a new email clears the bounce record" \
	"$(sql "SELECT email_suspended_at IS NULL, bounce_score FROM residents WHERE name = 'Émilie Pichon'")" "t|0"
expect_eq "the other residents are not touched" \
	"$(sql "SELECT id, updated_at FROM residents WHERE name <> 'Émilie Pichon' ORDER BY id")" "$others"

# Jean-Pierre chose his digest himself (by email): the roster does not override it.
sql "UPDATE residents SET digest = 'none', digest_by_resident = true WHERE name = 'Jean-Pierre Lefèvre'"
sed '3s/,weekly,no$/,immediate,no/' edit1.csv > edit2.csv
before=$(snapshot)
imp edit2.csv
expect_rc 0 "a digest the resident chose: imports"
expect_eq "a digest the resident chose: counted unchanged" "$OUT" "$(summary edit2.csv 5 0 0 5 7 0 0)"
expect_eq "a digest the resident chose: kept" "$(resident 'Jean-Pierre Lefèvre')" \
	"residence-les-tilleuls|1B|jp.lefevre@example.org|-|none|f"
expect_eq "a digest the resident chose: no row written" "$(snapshot)" "$before"
sed '3s/jp.lefevre@example.org/jean-pierre.lefevre@example.org/' edit2.csv > edit3.csv
imp edit3.csv
expect_eq "a digest the resident chose: kept when the email changes" "$OUT$(resident 'Jean-Pierre Lefèvre')" \
	"$(summary edit3.csv 5 0 1 4 7 0 0)residence-les-tilleuls|1B|jean-pierre.lefevre@example.org|-|none|f"

# Françoise sent STOP: the same phone keeps her stopped; a new phone does not.
sql "UPDATE residents SET sms_stopped_at = now() WHERE name = 'Françoise Guérin'"
imp edit3.csv
expect_eq "STOP and the same phone: unchanged" "$OUT" "$(summary edit3.csv 5 0 0 5 7 0 0)"
expect_eq "STOP and the same phone: still stopped" \
	"$(sql "SELECT sms_stopped_at IS NOT NULL FROM residents WHERE name = 'Françoise Guérin'")" "t"
expect_eq "STOP shows in residents --json" \
	"$("$PALIERCTL" residents --json | jq -c '[.[] | select(.sms_stopped) | .name]')" '["Françoise Guérin"]'
sed '4s/06 12 34 56 78/06 12 34 56 77/' edit3.csv > edit4.csv
imp edit4.csv
expect_eq "a new phone: 1 updated" "$OUT" "$(summary edit4.csv 5 0 1 4 7 0 0)"
expect_eq "a new phone clears STOP" \
	"$(sql "SELECT phone, sms_stopped_at IS NULL FROM residents WHERE name = 'Françoise Guérin'")" "+33612345677|t"

# A building renamed (same slug): the channel is updated, not duplicated.
sed 's/Résidence Les Tilleuls/Résidence les Tilleuls/' edit4.csv > edit5.csv
imp edit5.csv
expect_eq "a renamed building: 1 channel updated" "$OUT" "$(summary edit5.csv 5 0 0 5 7 0 1)"
expect_eq "a renamed building: new name, same slug" \
	"$(sql "SELECT count(*), max(name) FROM channels WHERE slug = 'residence-les-tilleuls'")" "1|Résidence les Tilleuls"

# ---------------------------------------------------------------- cp1252.csv
expect "cp1252.csv is not UTF-8 (the fixture is Windows-1252 bytes)" \
	bash -c '! iconv -f UTF-8 -t UTF-8 "$1" >/dev/null 2>&1' _ "$FX/cp1252.csv"
scratch
imp "$FX/cp1252.csv"
expect_rc 0 "cp1252.csv imports"
expect_eq "cp1252.csv: the summary line" "$OUT" "$(summary "$FX/cp1252.csv" 3 3 0 0 3 3 0)"
expect_eq "cp1252.csv: a note says how it was read" "$ERR" \
	"palierctl: import: $FX/cp1252.csv is not UTF-8: read as Windows-1252"
expect_eq "cp1252.csv: accents, œ and ’ right in the database" \
	"$(sql "SELECT name || '|' || unit || '|' || coalesce(email, '-') || '|' || coalesce(phone, '-') || '|' || digest || '|' || sms FROM residents ORDER BY id")" \
	"Jérôme Lœuillet|2e étage gauche|jerome.loeuillet@example.fr|+33261915712|weekly|false
Agnès Bénard-Ménard|RDC droite|-|+33261915713|daily|true
François Garçon|1er étage face|francois.garcon@example.org|-|immediate|false"
expect_eq "cp1252.csv: channel names and slugs" \
	"$(sql "SELECT slug || '|' || name FROM channels ORDER BY id")" \
	"saint-aubin-sur-loire|Saint-Aubin-sur-Loire
quartier-de-la-gare|Quartier de la Gare
residence-l-orangerie|Résidence L’Orangerie"

# A UTF-8 file with one stray Windows-1252 byte is neither: reading it all as
# Windows-1252 would turn every accent into mojibake ("Ã©").
scratch
{ cat "$FX/plain.csv"
  printf 'Saint-Aubin-sur-Loire,Les Prés,Bâtiment A - Les Acacias,5 allée des Acacias,Appt 5,Lucie L\222Hermite,lucie.lhermite@example.fr,,daily,no\n'
} > mixed.csv
imp mixed.csv
expect_eq "a UTF-8 file with a stray cp1252 byte writes no mojibake" \
	"$(sql "SELECT count(*) FROM residents WHERE name LIKE '%Ã%'") $(sql "SELECT count(*) FROM channels WHERE name LIKE '%Ã%'")" "0 0"
usedb import

# ---------------------------------------------------------------- overseas.csv
scratch
imp "$FX/overseas.csv"
expect_rc 0 "overseas.csv imports"
expect_eq "overseas.csv: the summary line" "$OUT" "$(summary "$FX/overseas.csv" 19 19 0 0 2 2 0)"
expect_eq "overseas.csv: each number in E.164 with its own country code" \
	"$(sql "SELECT unit || ' ' || phone FROM residents ORDER BY unit::int")" \
	"1 +590690123456
2 +590590123456
3 +594694123456
4 +594594123456
5 +596696123456
6 +596697123456
7 +596596123456
8 +262692123456
9 +262693123456
10 +262262123456
11 +262639981234
12 +262269123456
13 +508412345
14 +32470123456
15 +33612345679
16 +33612345680
17 +33612345681
18 +33612345682
19 +3221234567"
expect_eq "overseas.csv: no district, so buildings hang from the city" \
	"$(sql "SELECT p.slug FROM channels c JOIN channels p ON p.id = c.parent_id WHERE c.kind = 'building'")" \
	"saint-aubin-sur-loire"
usedb import

# ---------------------------------------------------------------- malformed files
usedb import_empty
expect_eq "the empty database is empty" "$(rows)" "0 0"
usedb import
before=$(snap)
for err in "$FX"/*.err; do
	f=${err%.err}.csv
	b=$(basename "$f")
	[ -s "$err" ] || not_ok "$b: its .err file is empty"
	want=$(problems "$f" "$err")
	for db in import import_empty; do
		usedb $db
		imp "$f"
		expect_rc 1 "$b ($db db): exit 1"
		expect_eq "$b ($db db): every problem as line N: reason" "$ERR" "$want"
		expect_eq "$b ($db db): nothing on stdout" "$OUT" ""
		if [ $db = import ]; then
			expect_eq "$b ($db db): nothing written" "$(snap)" "$before"
		else
			expect_eq "$b ($db db): still no channel, no resident" "$(rows)" "0 0"
		fi
	done
done
usedb import

# Other files that cannot be rosters.
: > empty.csv
printf 'city,building,name,email\r\n\r\n' > header-only.csv
printf 'city,building,name,email\nSaint-Aubin,Tour Bellevue,Jos\201 Martin,jose@example.fr\n' > undefined-byte.csv
H='city,district,building,building_address,unit,name,email,phone,digest,sms'
C='Saint-Aubin-sur-Loire,Centre-Ville,Résidence Les Tilleuls,12 rue des Écoles'
printf '%s\n%s,RDC A,Émilie Pichon,emilie.pichon@example.fr,,daily,no\n\n\n%s,"1A,Anne Simon,,02 61 91 80 94,weekly,yes\n' \
	"$H" "$C" "$C" > blank-then-unterminated.csv
printf '%s\r\n"Saint-Aubin-\r\nsur-Loire",Centre-Ville,"Les\r\nTilleuls",,RDC A,Émilie Pichon,pas-une-adresse,,daily,no\r\n%s,1A,Anne Simon,,02 61 91 80,weekly,no\r\n' \
	"$H" "$C" > crlf-multiline.csv
for t in "empty.csv|line 1: the file is empty; it needs a header row" \
	"header-only.csv|line 1: the file has a header but no resident" \
	"undefined-byte.csv|line 2: is not UTF-8 text (save the file as \"CSV UTF-8\")" \
	"blank-then-unterminated.csv|line 5: a quoted value is never closed" \
	"crlf-multiline.csv|line 2: email 'pas-une-adresse' is not an email address (like marie@example.fr)
line 5: phone '02 61 91 80' has 8 digits; a French number has 10 (like 06 12 34 56 78)"; do
	f=${t%%|*}
	printf '%s\n' "${t#*|}" > "$f.err"
	before=$(snap)
	imp "$f"
	expect_eq "$f: exit 1 and line N: reason" "$RC
$ERR" "1
$(problems "$f" "$f.err")"
	expect_eq "$f: nothing written" "$(snap)" "$before"
done

# A slug the database gives to another kind of channel.
printf '%s\nSaint-Aubin-sur-Loire,Les Prés,Centre-Ville,8 chemin des Prés,1,Noé Blanc,noe.blanc@example.fr,,daily,no\n' "$H" > conflict.csv
before=$(snapshot)
imp conflict.csv
expect_rc 1 "a building slug that names a district in the database: exit 1"
expect_eq "a building slug that names a district: the line and the slug" "$ERR" \
	"line 2: the building slug 'centre-ville' already names a district; choose another with a building_slug column
palierctl: import: conflict.csv: conflicts with the directory; nothing was written"
expect_eq "a building slug that names a district: nothing written" "$(snapshot)" "$before"
printf '%s,building_slug\nSaint-Aubin-sur-Loire,Les Prés,Centre-Ville,8 chemin des Prés,1,Noé Blanc,noe.blanc@example.fr,,daily,no,residence-centre-ville\n' "$H" > conflict-fixed.csv
imp conflict-fixed.csv
expect_eq "a building_slug column resolves it" "$RC $OUT" "0 $(summary conflict-fixed.csv 1 1 0 0 3 1 0)"
expect_eq "and the building has that slug under its district" \
	"$(sql "SELECT c.name || '|' || p.slug FROM channels c JOIN channels p ON p.id = c.parent_id WHERE c.slug = 'residence-centre-ville'")" \
	"Centre-Ville|les-pres"

# Two towns each have a "Résidence du Parc": the second town's roster must not
# take the first town's building (and its residents) for its own. Within one
# file the same case is an error ("give one of them a building_slug column").
scratch
printf 'city,building,unit,name,email\nSaint-Aubin-sur-Loire,Résidence du Parc,1,Anne Simon,anne.simon@example.fr\n' > town-a.csv
printf 'city,building,unit,name,email\nMontreuil-Bellay,Résidence du Parc,1,Paul Morel,paul.morel@example.fr\n' > town-b.csv
imp town-a.csv
expect_rc 0 "town A's roster imports"
before=$(snapshot)
imp town-b.csv
expect_eq "town B's building with town A's slug: exit 1, with its line" "$RC $(printf '%s\n' "$ERR" | grep -c '^line 2: ')" "1 1"
expect_eq "town B's building with town A's slug: town A's building stays in town A" \
	"$(sql "SELECT p.slug FROM channels c JOIN channels p ON p.id = c.parent_id WHERE c.slug = 'residence-du-parc'")" \
	"saint-aubin-sur-loire"
expect_eq "town B's building with town A's slug: nothing written" "$(snapshot)" "$before"
usedb import

# Line numbers in a file with bare CR line ends (Excel for Mac's "CSV (Macintosh)").
printf '%s\r%s,RDC A,Émilie Pichon,pas-une-adresse,,daily,no\r%s,1A,Anne Simon,,02 61 91 80,weekly,no\r' "$H" "$C" "$C" > mac-cr.csv
printf '%s\n' "line 2: email 'pas-une-adresse' is not an email address (like marie@example.fr)" \
	"line 3: phone '02 61 91 80' has 8 digits; a French number has 10 (like 06 12 34 56 78)" > mac-cr.csv.err
imp mac-cr.csv
expect_eq "mac-cr.csv (CR line ends): each problem on its own line number" "$RC
$ERR" "1
$(problems mac-cr.csv mac-cr.csv.err)"

# A file that is not there; no file at all.
before=$(snapshot)
imp "$T_TMP/no-such-roster.csv"
expect_rc 1 "a missing file: exit 1"
expect_eq "a missing file: named in one line" "$ERR" \
	"palierctl: import: $T_TMP/no-such-roster.csv: No such file or directory"
run "$PALIERCTL" import
expect_rc 1 "import without a file: exit 1"
expect_eq "a missing file: nothing written" "$(snapshot)" "$before"

# The database is down: a good file waits (75); a bad file is bad anyway (1).
cat > down.conf <<EOC
[database]
url = postgresql:///nowhere?host=$T_TMP&port=1&connect_timeout=2
EOC
run "$PALIERCTL" -c down.conf import "$FX/plain.csv"
expect_rc 75 "database down, good file: exit 75"
expect "database down, good file: says so" has "$ERR" "the database is unreachable"
run "$PALIERCTL" -c down.conf import "$FX/many-errors.csv"
expect_rc 1 "database down, bad file: exit 1 (the file's errors come first)"
expect_eq "database down, bad file: its problems" "$ERR" "$(problems "$FX/many-errors.csv" "$FX/many-errors.err")"

# ---------------------------------------------------------------- 10 000 residents
scratch
"$T_TOP/tests/gen-roster.sh" 10000 > big.csv
t0=$EPOCHREALTIME
imp big.csv
t1=$EPOCHREALTIME
expect_rc 0 "10000 residents import"
expect "10000 residents: all new" has "$OUT" "big.csv: 10000 residents (10000 new, 0 updated, 0 unchanged), "
expect_eq "10000 residents in the database" "$(sql 'SELECT count(*) FROM residents')" 10000
echo "# import of 10000 residents: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s"
before=$(snapshot)
t0=$EPOCHREALTIME
imp big.csv
t1=$EPOCHREALTIME
expect_rc 0 "10000 residents again"
expect "10000 residents again: all unchanged" has "$OUT" "big.csv: 10000 residents (0 new, 0 updated, 10000 unchanged), "
expect "10000 residents again: no channel touched" has "$OUT" " (0 new, 0 updated)"
expect_eq "10000 residents again: no row written" "$(snapshot)" "$before"
echo "# re-import of 10000 residents: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')s"
