#!/bin/bash
# run.sh — palier's test runner. Starts one private PostgreSQL cluster, runs
# every unit test (cmocka, TAP output) and every integration test script,
# first against the plain build (bin/), then against the ASan+UBSan build
# (build/san/bin), stops the cluster and ends with "N passed, N failed".
#   tests/run.sh [PATTERN]   only the tests whose file name contains PATTERN
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
pattern=${1:-}
export T_ROOT=$(mktemp -d /tmp/palier-test.XXXXXX)
chmod 755 "$T_ROOT"
pass=0 fail=0
failed_names=()

cleanup() {
	scripts/pg.sh stop "$T_ROOT/pg" >/dev/null 2>&1 || true
	[ -n "${KEEP:-}" ] || rm -rf "$T_ROOT"
}
trap cleanup EXIT

export PG_PORT=55432
if ! PG_SOCK=$(PG_FSYNC=off scripts/pg.sh start "$T_ROOT/pg" $PG_PORT); then
	echo "not ok - could not start PostgreSQL"
	echo "0 passed, 1 failed"
	exit 1
fi
export PG_SOCK

# Reads TAP-like lines from a test's output: counts them and echoes them
# with the suite's label. A test that crashed without saying "not ok" fails.
tally() {
	local label=$1 name=$2 log=$3 rc=$4 before=$fail seen=0
	while IFS= read -r line; do
		case $line in
		"ok "*) pass=$((pass + 1)); seen=1; echo "[$label] $line" ;;
		"not ok "*) fail=$((fail + 1)); seen=1; failed_names+=("[$label] $name: ${line#not ok }"); echo "[$label] $line" ;;
		"#"*) echo "[$label] $line" ;;
		esac
	done < "$log"
	if [ "$rc" -ne 0 ] && [ $fail -eq $before ]; then
		fail=$((fail + 1)); failed_names+=("[$label] $name: exited $rc")
		echo "[$label] not ok - $name exited $rc"; tail -n 20 "$log" | sed 's/^/#   /'
	elif [ $seen -eq 0 ]; then
		fail=$((fail + 1)); failed_names+=("[$label] $name: ran no test")
		echo "[$label] not ok - $name ran no test"
	fi
}

run_suite() {
	local label=$1 bindir=$2 unitdir=$3 rc
	export PALIER_BIN=$top/$bindir
	export CMOCKA_MESSAGE_OUTPUT=TAP
	for t in "$unitdir"/test_*; do
		[ -x "$t" ] || continue
		case $(basename "$t") in *"$pattern"*) ;; *) continue ;; esac
		log=$T_ROOT/unit-$label.log
		"$t" >"$log" 2>&1
		rc=$?	# before any expansion below: $(basename) would reset it
		tally "$label" "$(basename "$t")" "$log" "$rc"
	done
	for t in tests/integration/*.sh; do
		case $(basename "$t") in *"$pattern"*) ;; *) continue ;; esac
		export T_TMP=$T_ROOT/$label-$(basename "$t" .sh)
		mkdir -p "$T_TMP"; chmod 755 "$T_TMP"
		log=$T_ROOT/int-$label.log
		timeout 600 bash "$t" >"$log" 2>&1
		rc=$?
		tally "$label" "$(basename "$t")" "$log" "$rc"
	done
}

# Sanitizers: any report fails the run, with an exit code no test expects.
export ASAN_OPTIONS=exitcode=86:abort_on_error=0:detect_leaks=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:exitcode=87:print_stacktrace=1
export LSAN_OPTIONS=exitcode=88

# The two suites run side by side (most of a test is waiting on servers);
# each writes its own log and counts, read back here in order.
suite() { # suite LABEL BINDIR UNITDIR
	pass=0 fail=0 failed_names=()
	run_suite "$@" > "$T_ROOT/suite-$1.log" 2>&1
	{ echo "$pass $fail"; printf '%s\n' "${failed_names[@]}"; } > "$T_ROOT/suite-$1.count"
}
suite plain bin build/obj/tests &
p1=$!
suite asan+ubsan build/san/bin build/san/tests &
p2=$!
wait $p1 $p2
pass=0 fail=0 failed_names=()
for label in plain asan+ubsan; do
	cat "$T_ROOT/suite-$label.log"
	{
		read -r p f
		pass=$((pass + p)) fail=$((fail + f))
		while IFS= read -r line; do [ -n "$line" ] && failed_names+=("$line"); done
	} < "$T_ROOT/suite-$label.count"
done

if [ ${#failed_names[@]} -gt 0 ]; then
	echo "# failed:"
	printf '#   %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
