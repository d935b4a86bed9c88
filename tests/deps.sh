#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Installs the Debian 12 packages that building, testing, the demo and the benchmarks need.
# usage: tests/deps.sh [build|test|demo|bench]...   (root; idempotent)
set -eu
build="meson ninja-build gcc clang pkg-config libuv1-dev libjansson-dev libssl-dev"
test="libcmocka-dev libclang-rt-14-dev python3-pytest iproute2 isc-dhcp-server isc-dhcp-client
      isc-dhcp-relay udhcpc dhcpcd-base procps openssl"
demo="iproute2 isc-dhcp-client udhcpc dhcpcd-base isc-dhcp-relay python3"
bench="kea-dhcp4-server kea-admin isc-dhcp-server python3 iproute2"
want=""
for kind in "${@:-build}"; do
	eval "want=\"\$want \$$kind\""
done
want="$build $want"
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# Daemons from these packages must not start on their own (isc-dhcp-server, kea).
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.paceless
	[ -e /usr/sbin/policy-rc.d ] || { cp /usr/sbin/policy-rc.d.paceless /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; cleanup_policy=1; }
	apt-get install -y -q --no-install-recommends $missing >/dev/null
	[ "${cleanup_policy:-0}" = 1 ] && rm -f /usr/sbin/policy-rc.d
	rm -f /usr/sbin/policy-rc.d.paceless
fi
