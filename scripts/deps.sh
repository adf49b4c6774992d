#!/bin/bash
# deps.sh — installs the Debian packages that palier's build, tests and demo
# need, only those missing, as root or through sudo. `make deps` runs it;
# `make check` and `make demo` run it first.
set -euo pipefail

packages=(
	# build
	gcc make pkg-config
	libesmtp-dev libcurl4-gnutls-dev libpq-dev libetpan-dev libpcre2-dev
	libmicrohttpd-dev libinih-dev libjansson-dev libcsv-dev libutf8proc-dev
	libssl-dev libxml2-dev libcmocka-dev
	# tests and demo: the real servers and tools they talk to
	postgresql postgresql-client postfix kannel kannel-extras dovecot-imapd swaks jq
	curl openssl iproute2 procps
	chromium fonts-dejavu-core python3	# the poll page in a browser; test helpers
)

missing=()
for p in "${packages[@]}"; do
	case $p in \#*) continue ;; esac
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" = 0 ]; then
	sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	echo "deps: these Debian packages are missing: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root (or give this user sudo), or install them with apt-get" >&2
	exit 1
fi
# Postfix asks how to configure itself: we only use its test tools.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q >/dev/null
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	"${missing[@]}" >/tmp/palier-deps.log 2>&1 ||
	{ tail -n 30 /tmp/palier-deps.log >&2; echo "deps: apt-get install failed (log: /tmp/palier-deps.log)" >&2; exit 1; }
echo "deps: done"
