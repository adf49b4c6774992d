# common.sh — sourced by tests/bench/run.sh and tests/bench/peers.sh: the
# work directory, helpers, a private PostgreSQL with fsync on, the roster and
# the bulletin. Everything started is recorded in started[] and stopped by the
# EXIT trap; nothing is ever killed by name.
# Environment: PALIER_BIN (default bin/), KEEP=1 keeps the work directory.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
BIN=${PALIER_BIN:-$top/bin}
DOMAIN=residence.example
PG_PORT=${PG_PORT:-55437}
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source

W=$(mktemp -d /tmp/palier-bench.XXXXXX)
chmod 755 "$W"
started=()		# pids of everything we started, stopped by cleanup
names=() figures=() targets=() verdicts=()

cleanup() {
	local p
	for p in "${started[@]}"; do stop_pid "$p"; done
	scripts/pg.sh stop "$W/pg" >/dev/null 2>&1 || true
	if [ -n "${KEEP:-}" ]; then echo "# work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }
note() { printf '#   %s\n' "$*"; }
now() { date +%s.%N; }
# calc EXPR [FORMAT]: floating-point arithmetic (awk), printed with %.1f
# unless a format is given. EXPR is parenthesised: a ">" in it must not
# become awk's output redirection.
calc() { awk "BEGIN { printf \"${2:-%.1f}\", ($1) }"; }
# result NAME FIGURE TARGET PASS(0/1) [NOTE]: one row of the summary table.
result() {
	names+=("$1"); figures+=("$2"); targets+=("$3")
	if [ "$4" = 1 ]; then verdicts+=("pass"); else verdicts+=("MISSED${5:+ ($5)}"); fi
}

# stop_pid PID: TERM, then KILL after 10 s; never a broad kill.
stop_pid() {
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

used_ports=" "
# free_port: a TCP port on 127.0.0.1 that nothing listens on now (and not handed out before).
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 30000))
		case $used_ports in *" $p "*) continue ;; esac
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null && continue
		used_ports+="$p "
		echo "$p"
		return 0
	done
	return 1
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
	local i
	for ((i = 0; i < ${2:-10} * 10; i++)); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_for PATTERN FILE [SECONDS]
wait_for() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		grep -q -- "$1" "$2" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The server's own psql, not Debian's pg_wrapper (a Perl script): polling
# during a run must cost the machine as little as possible.
PSQL=$(ls -d /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -n 1)
PSQL=${PSQL:-psql}
psql_db() { "$PSQL" -XAtq -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$1" "${@:2}"; }

# newdb NAME: a copy of the roster database, and $W/NAME.conf pointing at it.
newdb() {
	psql_db postgres -c "CREATE DATABASE $1 TEMPLATE bench_roster" >/dev/null || return 1
	conf "$1" > "$W/$1.conf"
}

conf() {
	cat <<EOC
[database]
url = postgresql:///$1?host=$PG_SOCK&port=$PG_PORT&user=postgres
[mail]
domain = $DOMAIN
[security]
secret_file = $W/secret
[filters]
dir = $top/filters
[templates]
dir = $top/templates
EOC
}

# start_palierd NAME EVENT ARGS...: palierd -c $W/NAME.conf ARGS in the background
# (PALIERD_PID), its log in $W/NAME.log; waits until it logs event=EVENT.
start_palierd() {
	local name=$1 event=$2
	shift 2
	"$BIN/palierd" -c "$W/$name.conf" "$@" >"$W/$name.log" 2>&1 &
	PALIERD_PID=$!
	disown "$PALIERD_PID"	# its death is reported here, not as a job notice
	started+=("$PALIERD_PID")
	if ! wait_for "event=$event" "$W/$name.log" 15; then
		say "$name: palierd did not start:"
		tail -n 5 "$W/$name.log" | sed 's/^/#   /'
		return 1
	fi
}

# cpu_s PID: user+system CPU seconds the process used so far.
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo "?"
}

# pg_cpu: CPU seconds used so far by the private PostgreSQL's processes
# that are alive (the postmaster's children: backends, WAL writer...).
pg_cpu() {
	local pm
	pm=$(head -n 1 "$W/pg/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" -v hz="$(getconf CLK_TCK)" \
		'{ sub(/.*\) /, "") } $2 == pm { t += $12 + $13 } END { printf "%.1f", t / hz }'
}

# cpu_diff A B: B - A, or "n/a" when processes ended in between (their time is lost).
cpu_diff() { awk -v a="$1" -v b="$2" 'BEGIN { if (b >= a) printf "%.1f", b - a; else printf "n/a" }'; }

# slow_statements SINCE-BYTE: the statements PostgreSQL logged as slow since then,
# grouped by their first words, with count and worst duration.
slow_statements() {
	tail -c +"$(($1 + 1))" "$W/pg/log" 2>/dev/null |
		awk '/duration: [0-9.]+ ms  (execute|statement)/ {
			d = $0; sub(/.*duration: /, "", d); sub(/ ms.*/, "", d)
			s = $0; sub(/.*(execute [^:]*|statement): /, "", s)
			s = substr(s, 1, 90); n[s]++; if (d + 0 > m[s]) m[s] = d + 0
		} END { for (s in n) printf "%6d x  max %7.0f ms  %s\n", n[s], m[s], s }' |
		sort -k4,4nr | head -n 5 | sed 's/^/#     /'
}
pg_log_size() { stat -c %s "$W/pg/log" 2>/dev/null || echo 0; }

load_avg() { cut -d' ' -f1 /proc/loadavg; }

# bench_start TITLE TOOLS...: checks the tools, says how busy the machine is,
# starts the private PostgreSQL (fsync and synchronous_commit on, as in
# production) and logs its statements slower than 250 ms.
bench_start() {
	local title=$1 t
	shift
	for t in "$BIN/palierd" "$BIN/palierctl" "$SINK" "$SOURCE" psql "$@"; do
		if ! command -v "$t" >/dev/null; then
			say "bench: $t is missing (run make deps, then make)"
			exit 1
		fi
	done
	if [ "$(id -u)" = 0 ]; then sink_user=(-u nobody); else sink_user=(); fi
	say "# $title: $(nproc) cores, load average $(load_avg) at start, work directory $W"
	if awk "BEGIN { exit !($(load_avg) > 1.5) }"; then
		note "warning: this machine is busy (load $(load_avg)): the figures below are noisy"
	fi
	if ! PG_SOCK=$(PG_FSYNC=on scripts/pg.sh start "$W/pg" "$PG_PORT"); then
		say "bench: could not start PostgreSQL"
		exit 1
	fi
	psql_db postgres -c "ALTER SYSTEM SET log_min_duration_statement = 250" \
		-c "SELECT pg_reload_conf()" >/dev/null
}

# load_roster N: tests/gen-roster.sh N imported into the database bench_roster,
# analysed as autovacuum would have by then; newdb copies it.
load_roster() {
	local t0 t1
	tests/gen-roster.sh "$1" > "$W/roster.csv" 2>/dev/null
	psql_db postgres -c "CREATE DATABASE bench_roster" >/dev/null
	conf bench_roster > "$W/bench_roster.conf"
	t0=$(now)
	if ! "$BIN/palierctl" -c "$W/bench_roster.conf" migrate >/dev/null ||
	   ! "$BIN/palierctl" -c "$W/bench_roster.conf" import "$W/roster.csv" >"$W/import.out" 2>&1; then
		say "bench: could not load the roster:"; tail -n 5 "$W/import.out"
		exit 1
	fi
	t1=$(now)
	# The directory only, as autovacuum would have by then: an empty table
	# analysed as empty (inbound, posts, outgoing) makes every foreign-key
	# check against it a sequential scan until autovacuum analyses it again,
	# which a production system never sees and a one-minute run never leaves.
	psql_db bench_roster -c "VACUUM ANALYZE channels, residents, publishers" >/dev/null
	say "import: $1 residents migrated and imported in $(calc "$t1 - $t0") s ($(psql_db bench_roster -c \
		"SELECT count(email) || ' with an email, ' || count(phone) || ' with a phone, ' || (SELECT count(*) FROM channels) || ' channels' FROM residents"))"
}

# smtp_source LOG ARGS...: runs smtp-source (bounded); sets ELAPSED and RC.
smtp_source() {
	local log=$1 t0 t1
	shift
	t0=$(now)
	timeout "${SOURCE_TIMEOUT:-300}" "$SOURCE" "$@" >"$log" 2>&1
	RC=$?
	t1=$(now)
	ELAPSED=$(calc "$t1 - $t0" "%.3f")
}

# The number of messages to send for a run of about SECONDS at RATE (msg/s), a multiple of 20.
scaled_n() { calc "int(($1 * $2 + 19) / 20) * 20" "%d"; }

# timed_source LOG FIRST MAX ARGS...: smtp-source ARGS -m N, from N = FIRST
# and growing until a run lasts 5 s (or sends MAX, or fails). Sets N and
# ELAPSED (the last run), RC and SENT (every run's messages added up).
timed_source() {
	local log=$1 n=$2 max=$3
	shift 3
	SENT=0
	while :; do
		smtp_source "$log" -m "$n" "$@"
		SENT=$((SENT + n))
		N=$n
		[ "$RC" = 0 ] || return 0
		awk "BEGIN { exit !($ELAPSED < 5) }" || return 0
		[ "$n" -lt "$max" ] || return 0
		n=$(scaled_n "$(calc "$n / $ELAPSED")" 8)
		[ "$n" -ge $((N * 2)) ] || n=$((N * 2))
		[ "$n" -le "$max" ] || n=$max
	done
}

# ceiling ARGS...: smtp-source's rate (msg/s) with ARGS, over a run of at least 5 s.
ceiling() {
	timed_source "$W/ceiling.out" 5000 2000000 "$@"
	calc "$N / $ELAPSED" "%.0f"
}

# max_of A B: the larger number.
max_of() { if [ "$1" -ge "$2" ]; then echo "$1"; else echo "$2"; fi; }

# The bulletin: about 5 KB of French, as a mairie writes it.
write_bulletin() {
	cat > "$W/bulletin.txt" <<'EOF'
Madame, Monsieur,

La mairie de Saint-Aubin-sur-Loire vous informe que des travaux de rénovation du réseau d'eau potable auront lieu dans plusieurs quartiers de la commune à partir du lundi 8 juin. Ces travaux, engagés avec le syndicat intercommunal des eaux, doivent remplacer des canalisations posées il y a plus de cinquante ans et réduire les fuites qui nous coûtent chaque année près d'un quart de l'eau produite.

Pendant la durée du chantier, des coupures d'eau de courte durée sont à prévoir, en général entre 9 h et 12 h. Les habitants concernés seront prévenus au moins quarante-huit heures à l'avance par un avis déposé dans le hall de leur immeuble et par un message de la mairie. Nous vous conseillons de prévoir quelques bouteilles d'eau et de ne pas lancer de machine à laver le matin des coupures.

La circulation sera modifiée rue des Écoles, avenue de la Gare et place de la Mairie. Le stationnement y sera interdit du côté des travaux ; des places provisoires seront ouvertes sur le parking du gymnase Jean-Moulin. Les bus de la ligne 2 seront déviés par le boulevard Victor-Hugo et l'arrêt « Mairie » sera déplacé d'une cinquantaine de mètres.

Les personnes âgées, les personnes en situation de handicap et les familles avec de jeunes enfants qui auraient besoin d'aide (portage d'eau, accompagnement) peuvent s'inscrire auprès du centre communal d'action sociale, au rez-de-chaussée de la mairie, ou par téléphone aux heures d'ouverture. Des bénévoles du comité des fêtes et de l'association des locataires se sont déjà proposés : qu'ils en soient remerciés.

Une réunion publique d'information aura lieu le jeudi 4 juin à 18 h 30 dans la salle des fêtes. Les techniciens du syndicat des eaux et l'entreprise chargée des travaux répondront à vos questions. Le calendrier détaillé, rue par rue, sera affiché à l'accueil de la mairie et dans chaque résidence, et il est aussi disponible sur le site de la ville : https://www.saint-aubin.example/travaux-eau

Nous savons que ces travaux vont gêner la vie de chacun pendant quelques semaines. Nous ferons tout pour limiter le bruit, la poussière et la durée des coupures, et pour que les trottoirs restent praticables pour les poussettes et les fauteuils roulants. En cas de problème, de fuite ou de dégât constaté près du chantier, signalez-le sans attendre à l'accueil de la mairie.

Quartier par quartier, voici ce qui est prévu. Centre-Ville : du 8 au 19 juin, rue des Écoles puis place de la Mairie ; le marché du samedi est maintenu, déplacé sur le parvis de l'église. Les Prés : du 15 au 26 juin, allée des Acacias et chemin des Prés ; l'accès à l'école maternelle se fera par l'entrée du gymnase. Quartier de la Gare : du 22 juin au 3 juillet, avenue de la Gare ; la gare routière reste ouverte. Bellevue : en juillet, après la fin de l'année scolaire, pour ne pas gêner les trajets des élèves.

Les commerçants des rues concernées ont été reçus en mairie le 28 mai. Une signalétique spéciale indiquera que les magasins restent ouverts pendant les travaux, et la ville prendra en charge deux mois de droits de terrasse pour les cafés et restaurants touchés. Nous vous invitons à continuer de faire vos courses dans nos commerces de proximité : ils comptent sur vous.

Par ailleurs, nous vous rappelons que la collecte des encombrants passera le premier mardi du mois, que la déchetterie sera fermée le lundi de Pentecôte et que les inscriptions pour le centre de loisirs de cet été sont ouvertes jusqu'au 20 juin. Les dossiers sont à retirer à l'accueil ou à télécharger en ligne. Les familles qui ont besoin d'une aide pour les remplir peuvent prendre rendez-vous avec l'écrivain public, présent en mairie le mercredi matin.

Enfin, la fête de la musique aura lieu le samedi 21 juin sur la place du Marché et dans le parc du Château : les musiciens amateurs qui souhaitent se produire peuvent se faire connaître auprès du service culturel avant le 10 juin. Venez nombreux, en famille ou entre voisins !

À l'approche de l'été, le plan canicule est de nouveau activé. Les personnes de plus de soixante-cinq ans, les personnes isolées ou fragiles et leurs proches peuvent demander leur inscription sur le registre communal : en cas de forte chaleur, un agent ou un bénévole les appellera chaque jour pour prendre de leurs nouvelles et, si besoin, leur apporter de l'eau ou les accompagner vers la salle rafraîchie de la médiathèque. L'inscription est gratuite et confidentielle ; elle peut être faite par la personne elle-même, par un membre de sa famille, par un voisin ou par son médecin traitant.

Merci de votre compréhension et de votre patience.

Le maire, et l'ensemble de l'équipe municipale
Mairie de Saint-Aubin-sur-Loire, 1 place de la Mairie, ouverte du lundi au vendredi de 8 h 30 à 12 h et de 13 h 30 à 17 h 30, le samedi de 9 h à 12 h.
EOF
}

# summary: the table of every result() so far.
summary() {
	local i
	say ""
	say "# summary (load average $(load_avg) at the end)"
	printf '%-18s %-34s %-26s %s\n' BENCHMARK FIGURE TARGET RESULT
	for i in "${!names[@]}"; do
		printf '%-18s %-34s %-26s %s\n' "${names[$i]}" "${figures[$i]}" "${targets[$i]}" "${verdicts[$i]}"
	done
}
