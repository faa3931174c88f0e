#!/usr/bin/env bash
# Runs the linux/arm64 tests of ./platform and ./core under qemu-user on a
# Debian machine, as root; see docs/PLATFORMS.md section 4.
#
#   .ci/qemu-arm64.sh [PACKAGE...]   default: ./platform ./core
#
# This checks that the code builds and works on arm64 (futex semaphores,
# atomics, mmap, cross-process re-execution); it cannot find memory-
# ordering bugs, because qemu runs on the x86 host's stronger ordering,
# and -race needs cgo, so it is not used.
#
# Cross-process tests re-execute the test binary (os.Executable, which
# qemu reports as the arm64 binary). Containers have no binfmt_misc, so the
# kernel cannot run that binary by itself: ZB_EXEC_PREFIX names the
# emulator, and internal/testproc starts children as "$ZB_EXEC_PREFIX
# BINARY ...".
#
# Environment:
#   ZB_QEMU_FLAGS   flags for every test binary; default "-test.short"
#                   (emulation is slow), for example "-test.v -test.run=Sem"
#                   or "" for full lengths
#
# Idempotent; exits non-zero if any step or any package fails (every
# package is run before that).
set -euo pipefail
cd "$(dirname "$0")/.."
. .ci/apt.sh
export PATH="$PATH:/usr/local/go/bin"
start=$SECONDS
log() { printf '[qemu %4ds] %s\n' $((SECONDS - start)) "$*"; }

if ! command -v qemu-aarch64 >/dev/null; then
	log "installing qemu-user"
	apt_install qemu-user
fi
QEMU=$(command -v qemu-aarch64)
export ZB_EXEC_PREFIX="$QEMU"
log "$("$QEMU" --version | head -n1)"

# shellcheck source=cross-run.sh
. .ci/cross-run.sh
cross_run linux arm64 "" 20m "${ZB_QEMU_FLAGS--test.short}" "$QEMU" "$@"
