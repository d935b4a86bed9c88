#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Runs every libFuzzer target for a bounded time on its seed corpus.
# usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
set -eu
build=$1
secs=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for dir in "$here"/*/; do
	name=$(basename "$dir")
	exe="$build/tests/fuzz/fuzz_$name"
	[ -x "$exe" ] || { echo "fuzz: $name: target not built" >&2; status=1; continue; }
	work=$(mktemp -d)
	cp "$dir"corpus/* "$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${secs}s"
	if ! "$exe" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$dir" -print_final_stats=0 "$work" >"$work.log" 2>&1; then
		echo "fuzz: $name FAILED; artifact in $dir, log:" >&2
		tail -40 "$work.log" >&2
		status=1
	else
		grep -E "^#[0-9]+.*DONE" "$work.log" | tail -1 || true
	fi
	rm -rf "$work" "$work.log"
done
exit $status
