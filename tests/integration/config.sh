#!/bin/bash
# Config: embedded defaults, -n, and bad lines reported with file and line.
. "$(dirname "$0")/../lib.sh"

unset PALIER_CONF
# The embedded defaults name filters/ and templates/ relative to where palierd runs.
run bash -c "cd '$T_TOP' && '$PALIERD' -n"
expect_rc 0 "palierd -n on embedded defaults exits 0"
expect "palierd -n names the embedded defaults" has "$OUT" "(embedded defaults)"

cat > good.conf <<'EOF2'
; a comment
[database]
url = postgresql:///palier

[mail]
domain = mairie-saint-aubin.example   ; inline comment
from_name = Mairie de Saint-Aubin
[lmtp]
listen = 127.0.0.1:2424
max_size = 20M
[sms]
quiet_hours = none
[digest]
daily_at = 17:30
weekly_on = Monday
EOF2
run bash -c "cd '$T_TOP' && '$PALIERD' -n -c '$T_TMP/good.conf'"
expect_rc 0 "a good config passes -n"
run env PALIER_CONF=good.conf "$PALIERCTL" config
expect "PALIER_CONF is read by palierctl" has "$OUT" "domain = mairie-saint-aubin.example"
expect "sizes are parsed" has "$OUT" "max_size = 20971520"
expect "weekdays are case-insensitive" has "$OUT" "weekly_on = monday"

# bad_conf NAME LINE-5-TEXT EXPECTED-REASON: the bad line is always line 5.
bad_conf() {
	local name=$1 line=$2 want=$3
	printf '[mail]\ndomain = residence.example\n\n[lmtp]\n%s\n' "$line" > "$name.conf"
	run "$PALIERD" -n -c "$name.conf"
	expect_rc 78 "palierd -n exits 78 on $name"
	expect_eq "palierd -n reports $name with file and line" "$ERR" "palierd: $name.conf:5: $want"
}
bad_conf unknown-key "listn = 127.0.0.1:2424" "unknown key 'listn' in [lmtp]"
bad_conf bad-size "max_size = 10X" "[lmtp] max_size: '10X' is not a size (like 512K or 10M)"
bad_conf small-size "max_size = 10" "[lmtp] max_size: '10' is outside 1024..1073741824 bytes"
bad_conf no-port "listen = localhost" "[lmtp] listen: 'localhost' is not host:port, unix:/path or /path"
bad_conf no-equals "listen" "not a 'key = value' line or [section]"
printf '[lmtp]\nlisten = 127.0.0.1:1\n\n\nlisten = 127.0.0.1:2\n' > twice.conf
run "$PALIERD" -n -c twice.conf
expect_eq "a key set twice is reported on its second line" "$ERR" "palierd: twice.conf:5: [lmtp] listen is set twice"

printf '[mail]\ndomain = x.example\n[lmtpp]\nlisten = 127.0.0.1:1\n' > section.conf
run "$PALIERD" -n -c section.conf
expect_eq "an unknown section is named" "$ERR" "palierd: section.conf:4: unknown section [lmtpp]"

printf '[sms]\nmax_segments = 11\n' > range.conf
run "$PALIERCTL" -c range.conf config
expect_rc 1 "palierctl refuses a bad config with exit 1"
expect_eq "palierctl names file and line" "$ERR" "palierctl: range.conf:2: [sms] max_segments: 11 is outside 1..10"

run "$PALIERD" -n -c missing.conf
expect_rc 78 "a missing config file exits 78"
expect "a missing config file is named" has "$ERR" "missing.conf: No such file or directory"

printf '[security]\nsecret_file = %s/open-secret\n' "$T_TMP" > open.conf
printf '%064d\n' 0 > open-secret; chmod 644 open-secret
run "$PALIERD" -n -c open.conf
expect_rc 78 "a key file others can read fails -n"
expect "the open key file is named" has "$ERR" "others may read it"

run "$PALIERD" --role ingest,bogus -n
expect_rc 64 "an unknown role is a usage error"
run bash -c "cd '$T_TOP' && '$PALIERD' --role ingest,http -n"
expect "--role picks roles" has "$OUT" "roles ingest,http"

# A bad filter rule and a broken template stop -n with file and line.
mkdir -p badfilters badtpl
printf 'rule x\n\tif body /(unclosed/\n\ttopic annonces\n' > badfilters/10-bad.rules
printf '[filters]\ndir = %s/badfilters\n' "$T_TMP" > badrule.conf
run bash -c "cd '$T_TOP' && '$PALIERD' -n -c '$T_TMP/badrule.conf'"
expect_rc 78 "a bad filter rule fails -n"
expect "and is named with file and line" has "$ERR" "badfilters/10-bad.rules:2:"
cp "$T_TOP"/templates/* badtpl/
printf 'Bonjour {{#resident}}{{name}}\n' > badtpl/post.txt
printf '[templates]\ndir = %s/badtpl\n' "$T_TMP" > badtpl.conf
run bash -c "cd '$T_TOP' && '$PALIERD' -n -c '$T_TMP/badtpl.conf'"
expect_rc 78 "a broken template fails -n"
expect "and is named with its file" has "$ERR" "badtpl/post.txt:"
