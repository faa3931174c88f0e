# shellcheck shell=bash
# Sourced by qemu-arm64.sh and wine.sh: builds each package's test binary
# for another GOOS/GOARCH and runs it through an emulator, from the
# package directory (tests read their testdata relative to it).
#
#   cross_run GOOS GOARCH SUFFIX TIMEOUT FLAGS EMULATOR [PACKAGE...]
#
# FLAGS is a space-separated list of test flags. Every package is run;
# returns non-zero if any failed. Needs log() from the caller.
cross_run() {
	local goos=$1 goarch=$2 suffix=$3 timeout=$4 flags=$5 emu=$6
	shift 6
	local pkgs=("$@")
	[ ${#pkgs[@]} -gt 0 ] || pkgs=(./platform ./core)
	local out failed=() pkg bin t0
	out=$(mktemp -d)
	for pkg in "${pkgs[@]}"; do
		bin="$out/$(basename "$pkg").test$suffix"
		log "build $pkg ($goos/$goarch)"
		if ! GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 go test -c -o "$bin" "$pkg"; then
			failed+=("$pkg (build)")
			continue
		fi
		[ -f "$bin" ] || { log "$pkg has no tests"; continue; }
		log "run $pkg"
		t0=$SECONDS
		# shellcheck disable=SC2086 # flags is a list
		local rc=0
		(cd "$pkg" && "$emu" "$bin" -test.count=1 -test.timeout="$timeout" $flags) || rc=$?
		if [ $rc -eq 0 ]; then
			log "ok   $pkg ($((SECONDS - t0)) s)"
		else
			# A test failure prints its reason above; an emulator or
			# process crash may print nothing, so give the exit status.
			log "FAIL $pkg ($((SECONDS - t0)) s): exit status $rc of $(basename "$emu") $(basename "$bin")"
			failed+=("$pkg")
		fi
	done
	rm -rf "$out"
	if [ ${#failed[@]} -gt 0 ]; then
		log "failed: ${failed[*]}"
		return 1
	fi
	log "all passed"
}
