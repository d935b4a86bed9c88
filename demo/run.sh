#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# The demo: installs what it needs (Debian 12, root), builds, and runs demo/demo.py.
set -eu
cd "$(dirname "$0")/.."
tests/deps.sh build demo
[ -d build-demo ] || meson setup build-demo -Dtests=false >/dev/null
ninja -C build-demo >/dev/null
export PACELESS_BUILD=build-demo
exec /usr/bin/python3 demo/demo.py
