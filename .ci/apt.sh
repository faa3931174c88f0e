# Sourced by the .ci scripts that install Debian packages.
#
# apt_install PKG... installs the packages, waiting for apt's locks while
# another apt or dpkg process holds them (a second CI run on the machine,
# unattended-upgrades after boot) instead of failing at once: up to 10
# minutes, then it fails. Any other apt-get failure fails at once, with
# apt-get's own message.
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	local attempt out
	for attempt in $(seq 1 120); do
		if out=$({ apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@" >/dev/null; } 2>&1); then
			return 0
		fi
		if ! grep -qE 'Could not get lock|Unable to lock|Unable to acquire the dpkg frontend lock' <<<"$out"; then
			printf '%s\n' "$out" >&2
			return 1
		fi
		[ "$attempt" = 1 ] && echo "apt is busy (another apt or dpkg process holds its lock); waiting up to 10 minutes" >&2
		sleep 5
	done
	printf '%s\n' "$out" >&2
	echo "apt was still locked after 10 minutes" >&2
	return 1
}
