#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Soaks the group protocol: paceless-group-sim over millions of seeds in parallel chunks.
#
# usage: tests/sim/soak.sh [FROM [TO]]        (default 1 1000000)
# environment: SIM (the binary; default build/tests/sim/paceless-group-sim), NODES (node counts,
# default "3 5"), STEPS (default 20000), FAULTS (default mixed), CHUNK (seeds per job, default
# 500), JOBS (default: the number of cores). Stops at the first violation, prints it with the
# command that replays it, and exits 1; chunks are independent, so any seed replays alone.
set -eu

SIM=${SIM:-build/tests/sim/paceless-group-sim}
FROM=${1:-1}
TO=${2:-1000000}
NODES=${NODES:-3 5}
STEPS=${STEPS:-20000}
FAULTS=${FAULTS:-mixed}
CHUNK=${CHUNK:-500}
JOBS=${JOBS:-$(nproc)}

[ -x "$SIM" ] || { echo "soak: no simulator at $SIM (set SIM=)" >&2; exit 2; }
out=$(mktemp -d "${TMPDIR:-/tmp}/paceless-soak.XXXXXX")
trap 'rm -rf "$out"' EXIT
start=$(date +%s)

for n in $NODES; do
	echo "soak: nodes=$n seeds $FROM-$TO, $CHUNK per job, $JOBS jobs"
	# xargs stops launching chunks once one exits 255: the first violation ends the soak.
	if ! seq "$FROM" "$CHUNK" "$TO" | xargs -P "$JOBS" -I{} sh -c '
		lo=$1; hi=$(( lo + $2 - 1 )); [ "$hi" -le "$3" ] || hi=$3
		"$4" --seeds "$lo-$hi" --nodes "$5" --steps "$6" --faults "$7" --quiet \
			>"$8/$lo.$5.out" 2>"$8/$lo.$5.err" || exit 255
		rm -f "$8/$lo.$5.out" "$8/$lo.$5.err"' _ {} "$CHUNK" "$TO" "$SIM" "$n" "$STEPS" \
		"$FAULTS" "$out"; then
		for f in "$out"/*.err; do
			[ -s "$f" ] || continue
			grep -E '^(VIOLATION|replay:)' "$f" || tail -n 5 "$f"
		done
		echo "soak: FAILED after $(( $(date +%s) - start ))s" >&2
		exit 1
	fi
done
echo "soak: OK seeds $FROM-$TO nodes '$NODES' in $(( $(date +%s) - start ))s"
