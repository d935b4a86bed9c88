#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Runs the DHCP benchmarks (DORA rate/latency, lease-file load, failover pairs) side by side
# with the incumbents.
#
#   sudo bench/run.sh [--quick] [--build]
#
# --quick  smoke run, about 2-3 minutes in all (dhcp_dora --quick, dhcp_leaseload --quick)
# --build  (re)build paceless-dhcpd in build-bench first (release, assertions on)
# Installs the real peers it needs with apt-get. Needs root: the benches run in network
# namespaces made by tests/system/lab.py and send traffic only there, on TEST-NET addresses.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
quick=
build=
for a in "$@"; do
	case "$a" in
	--quick) quick=--quick ;;
	--build) build=1 ;;
	*) echo "usage: $0 [--quick] [--build]" >&2; exit 2 ;;
	esac
done

if [ "$(id -u)" != 0 ]; then
	echo "run.sh needs root (network namespaces)" >&2
	exit 1
fi

need=
for p in kea-dhcp4-server kea-admin isc-dhcp-server python3 iproute2 util-linux; do
	dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
done
if [ -n "$need" ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need
fi

bin="$repo/build-bench/src/dhcp/paceless-dhcpd"
if [ -n "$build" ] || [ ! -x "$bin" ]; then
	if [ ! -d "$repo/build-bench" ]; then
		meson setup "$repo/build-bench" --buildtype=release -Db_ndebug=false -Dtests=false
	fi
	ninja -C "$repo/build-bench" src/dhcp/paceless-dhcpd bench/dhcpstorm
fi
[ -x "$repo/build-bench/bench/dhcpstorm" ] || ninja -C "$repo/build-bench" bench/dhcpstorm

# Debian's interpreter: the python3 first on PATH may be another install.
py=/usr/bin/python3
out="${BENCH_OUT:-/var/tmp}"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
echo "== machine: $(nproc) CPUs, $(uname -r), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== dhcp_dora.py $quick"
"$py" "$here/dhcp_dora.py" $quick --paceless "$bin" --json "$out/bench-dora-$stamp.json"
echo
echo "== dhcp_capacity.py $quick (dhcpstorm: past perfdhcp's own limit)"
"$py" "$here/dhcp_capacity.py" $quick --paceless "$bin" \
	--storm "$repo/build-bench/bench/dhcpstorm" --json "$out/bench-capacity-$stamp.json"
echo
echo "== dhcp_leaseload.py $quick"
"$py" "$here/dhcp_leaseload.py" $quick --paceless "$bin" --json "$out/bench-leaseload-$stamp.json"
echo
echo "== dhcp_failover.py $quick (a paceless pair against an ISC pair)"
"$py" "$here/dhcp_failover.py" $quick --paceless-build "$repo/build-bench" \
	--json "$out/bench-failover-$stamp.json"
echo
echo "results (JSON): $out/bench-dora-$stamp.json $out/bench-capacity-$stamp.json" \
	"$out/bench-leaseload-$stamp.json $out/bench-failover-$stamp.json"
