#!/bin/bash
# peers.sh — palier against mlmmj on the workloads of PEERS.md, into the same
# counting smtp-sink: one post to 10,000 members (personalised, and mlmmj's
# bulk mode), and 2,000 posts into a 10-member list (accepted, then
# delivered). Not part of `make bench`: it takes about 3 minutes, most of it
# mlmmj's one-transaction-per-member sending and its fork+exec per post. Installs mlmmj when missing and
# run as root. GNU Mailman 3 is not automated (PEERS.md gives its figures and
# how to run it). Exits 0 whatever the figures.
#   tests/bench/peers.sh
# Environment: as run.sh, plus PEERS_MEMBERS (10000), PEERS_PERMEMBER (1000
#   members for mlmmj's personalised run: it sends ≈ 23 a second), PEERS_POSTS (2000),
#   PEERS_MLMMJ_POSTS (200: mlmmj takes each post in turn, 3 to 47 a second).
set -uo pipefail
PG_PORT=55438
. "$(dirname "$0")/common.sh"
MEMBERS=${PEERS_MEMBERS:-10000}
PERMEMBER=${PEERS_PERMEMBER:-1000}
POSTS=${PEERS_POSTS:-2000}
MLMMJ_POSTS=${PEERS_MLMMJ_POSTS:-200}
MLMMJ=/usr/bin

# sink_count: messages (DATA) the counting smtp-sink has accepted so far.
sink_count() {
	tail -c 200 "$W/sink.count" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1 | grep . || echo 0
}

# wait_count N SECONDS [PID]: until the sink has counted N (0 on success);
# gives up after SECONDS, or when PID (a palierd) dies.
wait_count() {
	local end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		[ "$(sink_count)" -ge "$1" ] && return 0
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then return 1; fi
		sleep 0.1
	done
	return 1
}

# rate_of N T0 T1: N per second between T0 and T1, rounded.
rate_of() { calc "$1 / ($3 - $2)" "%.0f"; }

# mlmmj_list NAME MEMBERS: a list in $W/mlmmj/NAME relaying to the sink; one
# subscriber per line, all at example.org.
mlmmj_list() {
	local l=$W/mlmmj/$1 i
	mkdir -p "$W/mlmmj"
	printf '%s\nfr\n' "$DOMAIN" | "$MLMMJ/mlmmj-make-ml" -L "$1" -s "$W/mlmmj" >/dev/null 2>&1 || return 1
	echo 127.0.0.1 > "$l/control/relayhost"
	echo "$sinkport" > "$l/control/smtpport"
	touch "$l/control/tocc"
	for ((i = 1; i <= $2; i++)); do echo "membre$i@example.org"; done > "$l/subscribers.d/m"
	ML=$l
}

# mlmmj_post LIST N: the bulletin, as Postfix's pipe would hand post N to mlmmj.
mlmmj_post() {
	{
		printf 'Return-Path: <mairie@saint-aubin.example>\nDelivered-To: %s@%s\n' "$(basename "$1")" "$DOMAIN"
		printf 'From: Mairie <mairie@saint-aubin.example>\nTo: %s@%s\nSubject: Travaux\n' "$(basename "$1")" "$DOMAIN"
		printf 'Message-Id: <peer-%s-%s@saint-aubin.example>\nMIME-Version: 1.0\n' "$2" "$RANDOM"
		printf 'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n'
		cat "$W/bulletin.txt"
	} | "$MLMMJ/mlmmj-receive" -F -L "$1"
}

bench_start "palier against its peers"
if [ ! -x "$MLMMJ/mlmmj-receive" ]; then
	if [ "$(id -u)" = 0 ]; then
		say "# installing mlmmj"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mlmmj >"$W/apt.log" 2>&1 ||
			{ say "peers: could not install mlmmj"; tail -n 5 "$W/apt.log"; exit 1; }
	else
		say "peers: mlmmj is missing: apt-get install mlmmj"
		exit 1
	fi
fi
write_bulletin
sinkport=$(free_port)
"$SINK" -c "${sink_user[@]}" "127.0.0.1:$sinkport" 1024 >"$W/sink.count" 2>&1 &
started+=($!)
disown $!
wait_port "$sinkport" || { say "peers: smtp-sink did not start"; exit 1; }
load_roster "$MEMBERS"

# ---------------------------------------------------------------- one post to MEMBERS
# palier: a bulletin to the whole city, one personalised message per resident.
newdb peer_bulletin
printf '[smtp]\nrelay = 127.0.0.1:%s\nsessions = 4\n[sms]\ngateway = file:%s\nquiet_hours = 00:00-23:59\n' \
	"$sinkport" "$W/sms" >> "$W/peer_bulletin.conf"
mkdir -p "$W/sms"
emails=$(psql_db peer_bulletin -c "SELECT count(*) FROM residents WHERE email IS NOT NULL")
city=$(psql_db peer_bulletin -c "SELECT slug FROM channels WHERE kind = 'city'")
if start_palierd peer_bulletin db_connected --role fanout,deliver; then
	pid=$PALIERD_PID
	c0=$(sink_count)
	t0=$(now)
	"$BIN/palierctl" -c "$W/peer_bulletin.conf" bulletin send --channel "$city" --subject "Travaux" \
		--file "$W/bulletin.txt" --from "Mairie de Saint-Aubin-sur-Loire" >/dev/null
	if wait_count $((c0 + emails)) 300 "$pid"; then
		t1=$(now)
		hwm=$(awk '/^VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$pid/status")
		say "one post -> $MEMBERS, personalised: palier $emails messages in $(calc "$t1 - $t0") s = $(rate_of "$emails" "$t0" "$t1") msg/s (palierd peak RSS $hwm MB)"
		result "palier 1 -> $MEMBERS" "$(rate_of "$emails" "$t0" "$t1") msg/s" "personalised" 1
	else
		say "one post -> $MEMBERS, personalised: palier did not finish: $(($(sink_count) - c0)) of $emails delivered$(kill -0 "$pid" 2>/dev/null || echo "; palierd died: $(grep -v 'prog=palierd' "$W/peer_bulletin.log" | tail -n 1)")"
		result "palier 1 -> $MEMBERS" "$(($(sink_count) - c0)) of $emails" "personalised" 0 "did not finish"
	fi
	stop_pid "$pid"
fi

# mlmmj: one transaction per member (its own VERP), on fewer members: ≈ 23/s.
mlmmj_list verp "$PERMEMBER"
c0=$(sink_count)
t0=$(now)
mlmmj_post "$ML" 1
if wait_count $((c0 + PERMEMBER)) 300; then
	t1=$(now)
	say "one post -> $PERMEMBER, personalised: mlmmj $PERMEMBER messages in $(calc "$t1 - $t0") s = $(rate_of "$PERMEMBER" "$t0" "$t1") msg/s"
	result "mlmmj 1 -> $PERMEMBER" "$(rate_of "$PERMEMBER" "$t0" "$t1") msg/s" "one per member" 1
else
	say "one post -> $PERMEMBER, personalised: mlmmj did not finish in 300 s ($(($(sink_count) - c0)) sent)"
	result "mlmmj 1 -> $PERMEMBER" "$(($(sink_count) - c0)) in 300 s" "one per member" 0 "did not finish"
fi

# mlmmj bulk: 500 recipients per transaction, no VERP.
mlmmj_list bulk "$MEMBERS"
: > "$ML/control/verp"
echo 500 > "$ML/control/maxverprecips"
c0=$(sink_count)
tx=$(((MEMBERS + 499) / 500))
t0=$(now)
mlmmj_post "$ML" 1
if wait_count $((c0 + tx)) 300; then
	t1=$(now)
	say "one post -> $MEMBERS, bulk (500 per transaction): mlmmj $MEMBERS recipients in $(calc "$t1 - $t0") s = $(rate_of "$MEMBERS" "$t0" "$t1") recipients/s (palier has no bulk mode: every message carries its resident's tokens)"
	result "mlmmj 1 -> $MEMBERS bulk" "$(rate_of "$MEMBERS" "$t0" "$t1") rcpt/s" "500 per transaction" 1
else
	result "mlmmj 1 -> $MEMBERS bulk" "did not finish" "500 per transaction" 0
fi

# ---------------------------------------------------------------- POSTS into a 10-member list
# palier: ten residents of one building on immediate notification, the others
# on the daily digest; one of the ten posts POSTS times (each goes to the 9 others).
newdb peer_posts
lport=$(free_port)
printf '[lmtp]\nlisten = 127.0.0.1:%s\n[smtp]\nrelay = 127.0.0.1:%s\nsessions = 4\n[sms]\ngateway = file:%s\nquiet_hours = 00:00-23:59\n' \
	"$lport" "$sinkport" "$W/sms" >> "$W/peer_posts.conf"
read -r building from < <(psql_db peer_posts -F ' ' -c "SELECT c.slug, (SELECT email FROM residents
	WHERE building_id = c.id AND email IS NOT NULL ORDER BY id LIMIT 1) FROM channels c
	WHERE (SELECT count(email) FROM residents WHERE building_id = c.id) >= 10 ORDER BY c.id LIMIT 1")
psql_db peer_posts -c "UPDATE residents SET digest = CASE WHEN id IN (SELECT r.id FROM residents r
	JOIN channels c ON c.id = r.building_id WHERE c.slug = '$building' AND r.email IS NOT NULL
	ORDER BY r.id LIMIT 10) THEN 'immediate' ELSE 'daily' END" >/dev/null
if start_palierd peer_posts lmtp_listening --role ingest,fanout,deliver; then
	pid=$PALIERD_PID
	c0=$(sink_count)
	t0=$(now)
	smtp_source "$W/peer_posts.out" -L -s 20 -m "$POSTS" -l 2048 -f "$from" -t "$building@$DOMAIN" "127.0.0.1:$lport"
	ta=$(now)
	stored=$(psql_db peer_posts -c "SELECT count(*) FROM posts WHERE status = 'published'")
	note "palierd made of them: $(psql_db peer_posts -c "SELECT string_agg(n || ' ' || status || coalesce(' (' || reason || ')', ''), ', ')
		FROM (SELECT status, reason, count(*) AS n FROM posts GROUP BY 1, 2 ORDER BY 3 DESC) x"); $(grep -c 'level=warn' "$W/peer_posts.log") warnings in its log$(grep -q 'event=filter_limit' "$W/peer_posts.log" && echo ", $(grep -c 'event=filter_limit' "$W/peer_posts.log") filter_limit")"
	if wait_count $((c0 + stored * 9)) 120 "$pid"; then
		t1=$(now)
		say "$POSTS posts into a 10-member list: palier accepted $stored in $(calc "$ta - $t0") s = $(rate_of "$POSTS" "$t0" "$ta") posts/s, delivered to the 9 others in $(calc "$t1 - $t0") s = $(rate_of "$POSTS" "$t0" "$t1") posts/s"
		result "palier $POSTS posts" "$(rate_of "$POSTS" "$t0" "$ta") / $(rate_of "$POSTS" "$t0" "$t1") posts/s" "accepted / delivered" 1
	else
		say "$POSTS posts into a 10-member list: palier accepted $stored in $(calc "$ta - $t0") s = $(rate_of "$POSTS" "$t0" "$ta") posts/s, but delivered only $(($(sink_count) - c0)) of $((stored * 9))$(kill -0 "$pid" 2>/dev/null || echo "; palierd died: $(grep -v 'prog=palierd' "$W/peer_posts.log" | tail -n 1)")"
		result "palier $POSTS posts" "$(rate_of "$POSTS" "$t0" "$ta") posts/s accepted" "accepted / delivered" 0 "not delivered"
	fi
	stop_pid "$pid"
fi

# mlmmj: each post handed to mlmmj-receive -F in turn, as one Postfix pipe
# would (bulk: one transaction per post), so accepted is also sent.
mlmmj_list dix 10
: > "$ML/control/verp"
echo 500 > "$ML/control/maxverprecips"
c0=$(sink_count)
t0=$(now)
for ((i = 1; i <= MLMMJ_POSTS; i++)); do mlmmj_post "$ML" "$i"; done
ta=$(now)
if wait_count $((c0 + MLMMJ_POSTS)) 300; then
	t1=$(now)
	say "$MLMMJ_POSTS posts into a 10-member list: mlmmj accepted them in $(calc "$ta - $t0") s = $(rate_of "$MLMMJ_POSTS" "$t0" "$ta") posts/s, delivered in $(calc "$t1 - $t0") s = $(rate_of "$MLMMJ_POSTS" "$t0" "$t1") posts/s"
	result "mlmmj $MLMMJ_POSTS posts" "$(rate_of "$MLMMJ_POSTS" "$t0" "$ta") / $(rate_of "$MLMMJ_POSTS" "$t0" "$t1") posts/s" "accepted / delivered" 1
else
	result "mlmmj $MLMMJ_POSTS posts" "$(rate_of "$MLMMJ_POSTS" "$t0" "$ta") posts/s accepted" "accepted / delivered" 0 "not delivered"
fi

note "GNU Mailman 3.3.8, measured by hand (PEERS.md): 67-69 msg/s personalised, 1,250-1,500 rcpt/s bulk, 45-60 / 18 posts/s, 1.5 GB RSS"
summary
exit 0
