#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Runs the group benchmark (ordered messages, 3 nodes on loopback): libpaceless-group and
# Galera side by side.
#
#   sudo bench/run_group.sh [--quick] [--build] [--paceless-only] [group_bench.py options]
#
# --quick          smoke run, about 3 minutes (1 run per point, 1 s probes)
# --build          (re)build bench/group_bench in build-gbench first (release, assertions on)
# --paceless-only  no Galera (nothing installed, no root needed)
# Installs galera-4 (libgalera_smm.so) with apt-get unless --paceless-only. Traffic stays on
# 127.0.0.1; node logs and Galera's data dirs go to /dev/shm and are removed afterwards.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
build=
galera=1
quick=
for a in "$@"; do
	case "$a" in
	--build) build=1 ;;
	--paceless-only) galera= ;;
	--quick) quick=1 ;;
	esac
done

if [ -n "$galera" ] && ! dpkg -s galera-4 >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ]; then
		echo "run_group.sh: galera-4 is not installed; run as root, or --paceless-only" >&2
		exit 1
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends galera-4
fi

bin="$repo/build-gbench/bench/group_bench"
if [ -n "$build" ] || [ ! -x "$bin" ]; then
	if [ ! -d "$repo/build-gbench" ]; then
		meson setup "$repo/build-gbench" --buildtype=release -Db_ndebug=false -Dtests=false
	fi
	ninja -C "$repo/build-gbench" bench/group_bench
fi

# Pass the rest through to the driver, minus this script's own flags.
for a in "$@"; do
	shift
	case "$a" in
	--build|--paceless-only|--quick) ;;
	*) set -- "$@" "$a" ;;
	esac
done
[ -n "$quick" ] && set -- --quick "$@"
[ -z "$galera" ] && set -- --systems paceless "$@"

out="${BENCH_OUT:-/var/tmp}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# Debian's interpreter: the python3 first on PATH may be another install.
exec /usr/bin/python3 "$here/group_bench.py" --bin "$bin" --json "$out/bench-group-$stamp.json" "$@"
