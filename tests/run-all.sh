#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Every test: unit (gcc, then ASan+UBSan), clang -Werror build, bounded fuzzing, system tests.
# Run as root on Debian 12 from anywhere; installs what it needs. Exit status 0 = all passed.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-30}

tests/deps.sh build test

step() { printf '\n=== %s\n' "$*"; }

step "build (gcc, -Werror) and unit tests"
[ -d build ] || meson setup build >/dev/null
ninja -C build
meson test -C build --print-errorlogs

step "unit tests under ASan+UBSan"
[ -d build-asan ] || meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	meson test -C build-asan --print-errorlogs

step "release builds (-O3 finds more) with gcc and clang, -Werror"
[ -d build-release ] || meson setup build-release --buildtype=release -Db_ndebug=false -Dtests=false >/dev/null
ninja -C build-release
[ -d build-clang ] || CC=clang meson setup build-clang --buildtype=release -Db_ndebug=false -Dtests=false >/dev/null
ninja -C build-clang

step "purity: no I/O, clocks or threads under proto/"
# (A call through a pointer, ops->send(), is the state machine's output, not I/O.)
if grep -nE '(^|[^>._[:alnum:]])(socket|send|recv|read|write|open|fopen|time|clock_gettime|gettimeofday|pthread_[a-z_]+|fsync|fdatasync|sleep|usleep|rand|random)\s*\(' src/*/proto/*.c; then
	echo "proto/ code must stay pure (see DESIGN.md)" >&2
	exit 1
fi

step "fuzzing, ${FUZZ_SECONDS}s per target"
[ -d build-fuzz ] || CC=clang meson setup build-fuzz -Dfuzz=true -Dtests=false >/dev/null
ninja -C build-fuzz
tests/fuzz/run.sh build-fuzz "$FUZZ_SECONDS"

step "system tests against the ASan+UBSan builds (daemon, failover link, group nodes)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	PACELESS_BUILD="$root/build-asan" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	tests/system/test_dhcpd_clients.py tests/system/test_dhcpd_bad_input.py \
	tests/system/test_dhcpd_reload.py tests/system/test_dhcpd_crash.py \
	tests/system/test_dhcpd_ping_check.py tests/system/test_dhcpd_ctl.py \
	tests/system/test_dhcpd_rewrite.py tests/system/test_failover_link_isc.py \
	tests/system/test_failover_pairs.py::test_kill_primary_auto_partner_down \
	tests/system/test_failover_pairs.py::test_partition_between_servers \
	tests/system/test_group_order.py tests/system/test_group_arbitrator.py \
	tests/system/test_group_recovery.py

step "system tests (network namespaces, real clients and servers)"
PACELESS_BUILD="$root/build" /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/system
