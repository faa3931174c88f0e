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
#   WINEPREFIX       wine prefix (default ~/.cache/zerobuffer/wineprefix);
#                    created on first use (~15-25 s, ~700 MB)
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
export PATH="$PATH:/usr/local/go/bin"
start=$SECONDS
log() { printf '[wine %4ds] %s\n' $((SECONDS - start)) "$*"; }

WINE=/usr/lib/wine/wine64 # Debian's wine64 package has no /usr/bin/wine
WINESERVER=/usr/lib/wine/wineserver
if [ ! -x "$WINE" ]; then
	log "installing wine64"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fi

export WINEPREFIX="${WINEPREFIX:-${HOME:-/root}/.cache/zerobuffer/wineprefix}"
# No Mono/Gecko installers, no debugger (a crash must fail, not hang), no
# wine diagnostics mixed into the test output.
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=,winedbg.exe=d"
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	log "creating wine prefix $WINEPREFIX"
	mkdir -p "$WINEPREFIX"
	"$WINE" wineboot --init >/dev/null 2>&1 || true
	"$WINESERVER" -w
	[ -f "$WINEPREFIX/system.reg" ] || { log "wineboot failed"; exit 1; }
fi
go run ./internal/winstub "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
log "wine $("$WINE" --version 2>/dev/null || echo '?'), prefix $WINEPREFIX"

trap '"$WINESERVER" -k 2>/dev/null || true' EXIT
# shellcheck source=cross-run.sh
. .ci/cross-run.sh
cross_run windows amd64 .exe 15m "${ZB_WINE_FLAGS--test.short}" "$WINE" "$@"
