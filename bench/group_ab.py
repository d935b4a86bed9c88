#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""A/B of libpaceless-group builds at fixed rates: is a change faster, and by how much.

Each round starts, for each group_bench binary in turn, a 3-node group on 127.0.0.1
(group_bench.py's Group), floods it for --warmup s (not counted: the cache fills), then runs
every rate of --rates for --dur s, and prints per run: delivered msg/s, p50 and the worst
node's p99 (us), each node's p50/p99, and how busy the machine's CPUs were. Binaries alternate
round by round, so that a host that changes speed weighs on both. No incumbent here: for
paceless against Galera, group_bench.py. Network: 127.0.0.1 only.

  /usr/bin/python3 bench/group_ab.py --bins OLD/group_bench,NEW/group_bench \\
      --rates 100000,100000 --rounds 3
"""
import argparse
import os
import sys
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import group_bench as gb  # noqa: E402


def cpu_jiffies():
    """(busy, total) jiffies of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bins", required=True, help="comma list of group_bench binaries")
    ap.add_argument("--rates", default="100000", help="comma list of total msg/s")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dur", type=float, default=4.0, help="s per run")
    ap.add_argument("--size", type=int, default=100)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--pace-us", type=int, default=0)
    ap.add_argument("--port-base", type=int, default=25000)
    o = ap.parse_args()
    bins = [b for b in o.bins.split(",") if b]
    for b in bins:
        if not os.access(b, os.X_OK):
            sys.exit("no %s" % b)
    port = o.port_base
    for rnd in range(o.rounds):
        for b in bins:
            args = SimpleNamespace(bin=b, nodes=3, cache_mb=128, submit_mb=0, pace_us=o.pace_us,
                                   workers=64, appliers=1, keys=1, galera_lib="",
                                   galera_opts="", tls_dir=None, workdir="/dev/shm",
                                   keep=False, warm=0.5, settle=0.5, lat_max_ms=50)
            g = gb.Group(args, "paceless", port)
            port += 10
            try:
                if o.warmup:
                    g.run(0, o.size, o.warmup, 64)
                for r in [float(x) for x in o.rates.split(",") if x]:
                    c0 = cpu_jiffies()
                    s = g.run(r, o.size, o.dur)
                    c1 = cpu_jiffies()
                    per = " ".join("%d/%d" % (n["p50_us"], n["p99_us"]) for n in s["nodes"])
                    print("round %d %-30s %7.0f/s: %7.0f delivered, p50 %5d p99 %6d max %6d us, "
                          "busy %.0f%%, nodes p50/p99 %s%s" %
                          (rnd, b[-30:], r, s["delivered_per_s"], s["p50_us"], s["p99_us"],
                           s["max_us"], 100.0 * (c1[0] - c0[0]) / max(1, c1[1] - c0[1]), per,
                           "" if s["ok"] else "  FAIL"), flush=True)
            finally:
                g.close()


if __name__ == "__main__":
    main()
