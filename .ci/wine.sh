#!/usr/bin/env bash
# Runs the Windows (amd64) tests of ./platform and ./core under wine on a
# Debian machine, as root; see docs/PLATFORMS.md section 2.
#
#   .ci/wine.sh [PACKAGE...]        default: ./platform ./core
#
# Steps: install wine64 (Debian 12: wine 8.0) if missing, create a wine
# prefix once, install the bcryptprimitives.dll stub that every Go >= 1.22
# binary needs and wine 8.0 lacks (internal/winstub), cross-compile each
# package's test binary with GOOS=windows and run it under wine from the
# package directory. Cross-process tests re-execute the test binary; under
# wine, exec of a Windows binary works as on Windows.
#
# Environment:
#   WINEPREFIX       wine prefix to use as it is. Unset (the default): a
#                    base prefix, ~/.cache/zerobuffer/wineprefix, is created
#                    on first use (~15-25 s, ~700 MB) and each run works in
#                    a private copy of it (about 2 s) with its own
#                    wineserver, so that runs on one machine at once never
#                    share a wineserver: the one a finishing run stops at
#                    exit would otherwise kill the other run's tests.
#   ZB_WINE_FLAGS    flags for every test binary; default "-test.short"
#                    (translated system calls are slow: the stress tests'
#                    full lengths take many minutes), for example
#                    "-test.v -test.run=Semaphore" or "" for full lengths
#
# Idempotent; exits non-zero if any step or any package fails (every
# package is run before that). Not tested by wine: privileges, ACLs, other
# sessions and timing (see docs/PLATFORMS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/apt.sh
export PATH="$PATH:/usr/local/go/bin"
start=$SECONDS
log() { printf '[wine %4ds] %s\n' $((SECONDS - start)) "$*"; }

WINE=/usr/lib/wine/wine64 # Debian's wine64 package has no /usr/bin/wine
WINESERVER=/usr/lib/wine/wineserver
if [ ! -x "$WINE" ]; then
	log "installing wine64"
	apt_install wine64
fi

# No Mono/Gecko installers, no debugger (a crash must fail, not hang), no
# wine diagnostics mixed into the test output.
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=,winedbg.exe=d"
# make_prefix DIR creates a wine prefix in DIR.
make_prefix() {
	log "creating wine prefix $1"
	mkdir -p "$1"
	WINEPREFIX=$1 "$WINE" wineboot --init >/dev/null 2>&1 || true
	WINEPREFIX=$1 "$WINESERVER" -w
	[ -f "$1/system.reg" ] || { log "wineboot failed"; exit 1; }
}
private=""
# Stops this run's wineserver (its own, unless WINEPREFIX was given) and
# removes the private prefix.
cleanup() {
	[ -n "${WINEPREFIX:-}" ] || return 0
	"$WINESERVER" -k 2>/dev/null || true
	if [ -n "$private" ]; then
		"$WINESERVER" -w 2>/dev/null || true
		rm -rf "$private"
	fi
}
trap cleanup EXIT
if [ -n "${WINEPREFIX:-}" ]; then
	[ -f "$WINEPREFIX/system.reg" ] || make_prefix "$WINEPREFIX"
else
	base="${HOME:-/root}/.cache/zerobuffer/wineprefix"
	mkdir -p "$(dirname "$base")"
	# One run creates the base prefix; a run started meanwhile waits.
	exec 9>"$base.lock"
	flock 9
	[ -f "$base/system.reg" ] || make_prefix "$base"
	flock -u 9
	exec 9>&-
	private=$(mktemp -d /tmp/zerobuffer-wine.XXXXXX)
	cp -a "$base/." "$private/"
	export WINEPREFIX=$private
fi
go run ./internal/winstub "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
log "wine $("$WINE" --version 2>/dev/null || echo '?'), prefix $WINEPREFIX"

# shellcheck source=cross-run.sh
. .ci/cross-run.sh
cross_run windows amd64 .exe 15m "${ZB_WINE_FLAGS--test.short}" "$WINE" "$@"
