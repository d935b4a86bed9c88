#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Ordered-message throughput and latency of libpaceless-group and Galera, side by side.

Three nodes on 127.0.0.1, one process each (bench/group_bench, built by meson), for each
system and message size:

  max      the highest offered rate (all nodes submitting, open loop, evenly paced) that the
           group delivers completely with p99 under --lat-max-ms: doubling, then bisection
           with --probe s probes, then --runs confirmation runs (10% lower while their
           median fails, 3 times at most).
  latency  --runs runs at half that max: submit-to-delivery p50/p99/max of each node's own
           messages at that node (CLOCK_MONOTONIC stamps in the payload).
  flood    (last) every node keeps WINDOW messages in flight for --confirm s, for each of
           --windows (Galera: WINDOW client threads per node, each with one write-set in
           flight): delivered msgs/s.
  RSS      the largest VmHWM of the three processes over all of the above, against the
           configured cache (--cache-mb: libpaceless-group's cache_bytes, Galera's
           gcache.size).

Prints a table per system and size and the ratios paceless/Galera. Run as root only for
apt-get (bench/run_group.sh installs galera-4); the processes themselves need no privilege.
Network: 127.0.0.1 only.
"""
import argparse
import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


class Node:
    """One group_bench process; lines from its stdout arrive on a queue."""

    def __init__(self, args, system, index, port_base, workdir):
        cmd = [args.bin, "--system", system, "--index", str(index), "--nodes", str(args.nodes),
               "--port-base", str(port_base), "--cache-mb", str(args.cache_mb),
               "--submit-mb", str(args.submit_mb), "--pace-us", str(args.pace_us),
               "--workdir", workdir, "--workers", str(args.workers),
               "--appliers", str(args.appliers), "--keys", str(args.keys),
               "--galera-lib", args.galera_lib]
        if args.galera_opts:
            cmd += ["--galera-opts", args.galera_opts]
        if args.tls_dir:
            cmd += ["--tls-dir", args.tls_dir]
        self.log_path = os.path.join(workdir, "node%d.log" % index)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def expect(self, timeout):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("node %s: no answer in %.0f s (log: %s)" %
                               (self.proc.args[4], timeout, self.log_path))
        if line is None:
            raise RuntimeError("node %s exited (%s; log: %s)" %
                               (self.proc.args[4], self.proc.poll(), self.log_path))
        return line

    def stop(self):
        try:
            self.send("quit")
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # this process only, by its pid
            self.proc.wait()
        self.log.close()


class Group:
    def __init__(self, args, system, port_base):
        self.args = args
        self.system = system
        self.dir = tempfile.mkdtemp(prefix="gbench-%s-" % system, dir=args.workdir)
        self.nodes = []
        self.run_id = 0
        self.hwm_kb = 0
        # The first node bootstraps; the others join it once it is up (Galera needs that).
        try:
            self.nodes.append(Node(args, system, 0, port_base, self.dir))
            self._expect(self.nodes[0], "up")
            for i in range(1, args.nodes):
                self.nodes.append(Node(args, system, i, port_base, self.dir))
                self._expect(self.nodes[i], "up")
            for n in self.nodes:
                self._expect(n, "ready")
        except BaseException:
            self.args.keep = True
            self.close()
            raise

    def _expect(self, node, what):
        line = node.expect(120)
        if not line.startswith(what):
            raise RuntimeError("expected %s, got: %s" % (what, line))

    def run(self, rate_total, size, dur, window=0):
        """One run on every node at once. rate_total 0: closed loop with window per node."""
        self.run_id += 1
        a = self.args
        t0 = time.monotonic_ns() + 300_000_000
        per_node = rate_total / a.nodes
        cmd = "run %d %.3f %d %d %d %d %d" % (self.run_id, per_node, max(window, 1), size, t0,
                                              int(dur * 1000), int(a.warm * 1000))
        for n in self.nodes:
            n.send(cmd)
        res = []
        for n in self.nodes:
            r = json.loads(n.expect(dur + 60))
            if "error" in r:
                raise RuntimeError(r["error"])
            res.append(r)
        time.sleep(a.settle)
        return self._summary(res, rate_total)

    def _summary(self, res, rate_total):
        self.hwm_kb = max([self.hwm_kb] + [r["hwm_kb"] for r in res])
        s = {
            "offered": rate_total,
            "delivered_per_s": statistics.mean(r["delivered_per_s"] for r in res),
            "p50_us": statistics.median(r["p50_us"] for r in res),
            "p99_us": max(r["p99_us"] for r in res),
            "max_us": max(r["max_us"] for r in res),
            "sent": sum(r["sent"] for r in res),
            "undelivered": sum(r["sent"] - r["own_done"] for r in res),
            "send_fail": sum(r["send_fail"] for r in res),
            "hwm_kb": max(r["hwm_kb"] for r in res),
            "bound_kb": max(status_kb(r, "bound_kb") for r in res),
            "nodes": res,
        }
        ok = s["undelivered"] == 0 and s["send_fail"] == 0
        if rate_total:
            ok = ok and s["delivered_per_s"] >= 0.97 * rate_total and \
                s["p99_us"] <= self.args.lat_max_ms * 1000
        s["ok"] = ok
        return s

    def close(self):
        for n in self.nodes:
            n.stop()
        if self.args.keep:
            print("   logs kept in", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def status_kb(r, key):
    """A key=value figure from a node's status line (paceless: bound_kb), 0 when absent."""
    for kv in r.get("status", "").split():
        k, _, v = kv.partition("=")
        if k == key:
            return int(v)
    return 0


def log(msg):
    print(msg, flush=True)


def fmt_run(s):
    return ("%8.0f/s delivered, p50 %7.0f us, p99 %8.0f us, max %8.0f us%s" %
            (s["delivered_per_s"], s["p50_us"], s["p99_us"], s["max_us"],
             "" if s["ok"] else "  FAIL(undelivered %d, fail %d)" %
             (s["undelivered"], s["send_fail"])))


class Bench:
    """One system and size: a group, restarted (and the break counted) when it falls apart."""

    def __init__(self, args, system, size):
        self.args, self.system, self.size = args, system, size
        self.breaks = []
        self.hwm_kb = 0
        self.bound_kb = 0
        self.form_s = []
        self.g = None
        self._start()

    def _start(self):
        global PORT
        log("   starting %d nodes (ports %d..)" % (self.args.nodes, PORT))
        t = time.monotonic()
        self.g = Group(self.args, self.system, PORT)
        PORT += 10 * self.args.nodes + 10  # fresh ports: no TIME_WAIT or late peer in the way
        self.form_s.append(round(time.monotonic() - t, 2))

    def run(self, rate, dur, window=0):
        s = self.g.run(rate, self.size, dur, window)
        self.hwm_kb = max(self.hwm_kb, self.g.hwm_kb)
        self.bound_kb = max(self.bound_kb, s["bound_kb"])
        if not all(r["healthy"] for r in s["nodes"]):
            what = "flood window %d" % window if not rate else "%.0f/s" % rate
            log("   !! the group lost a member or its primary component at %s; logs kept in %s; "
                "restarting it" % (what, self.g.dir))
            self.breaks.append(what)
            self.args.keep, keep = True, self.args.keep
            self.g.close()
            self.args.keep = keep
            self._start()
            s["ok"] = False
        return s

    def close(self):
        self.g.close()


PORT = 0
TARGET_HALF = 100000.0  # issue 3: p99 < 1 ms at half of 200,000 msg/s


def find_max(b):
    a = b.args
    rate, lo, hi = a.start_rate, 0, 0
    while rate <= a.rate_cap:
        s = b.run(rate, a.probe)
        log("   probe %9.0f/s: %s" % (rate, fmt_run(s)))
        if not s["ok"]:
            hi = rate
            break
        lo = rate
        rate *= 2
    if not hi:
        hi = lo * 2  # the cap held
    for _ in range(a.bisect):
        if lo and hi / lo < 1.06:
            break
        mid = (lo + hi) / 2 if lo else hi / 2
        s = b.run(mid, a.probe)
        log("   probe %9.0f/s: %s" % (mid, fmt_run(s)))
        if s["ok"]:
            lo = mid
        else:
            hi = mid
    if not lo:
        return 0, 0, []
    rate = lo
    for _ in range(4):
        runs = [b.run(rate, a.confirm) for _ in range(a.runs)]
        for s in runs:
            log("   confirm %7.0f/s: %s" % (rate, fmt_run(s)))
        if sum(1 for s in runs if s["ok"]) * 2 > len(runs):
            return rate, lo, runs
        rate *= 0.9
    return 0, lo, []


def warm_up(b):
    """A running cluster's cache is full: fill it first, so that the first probes do not pay
    for the memory a fresh process takes from the kernel."""
    if b.args.warmup > 0:
        s = b.run(0, b.args.warmup, 64)
        log("   warm-up flood (window 64/node, %.0f s, not counted): %s" %
            (b.args.warmup, fmt_run(s)))


def at_rates(args, system, size, out):
    """--latency-rates, each --runs times, in a group of their own (warmed up, never
    overloaded before): a rate above a system's max would weigh on its search, and the
    search's probes above the max on the rates measured after them (paceless's groups
    delivered less for a while after an overload until the log moved to core_fifo:
    docs/internals/group-protocol.md, "After an overload")."""
    out["at"] = {}
    rates = args.latency_rates
    if rates is None:  # the default: issue 3's target rate, for 100-byte messages
        rates = [TARGET_HALF] if size == 100 else []
    if not rates:
        return 0, []
    b = Bench(args, system, size)
    try:
        warm_up(b)
        for r in rates:
            runs = [b.run(r, args.confirm) for _ in range(args.runs)]
            for s in runs:
                log("   at %8.0f/s: %s" % (r, fmt_run(s)))
            out["at"][str(r)] = {k: statistics.median(s[k] for s in runs)
                                 for k in ("delivered_per_s", "p50_us", "p99_us", "max_us")}
            out["at"][str(r)]["ok"] = all(s["ok"] for s in runs)
    finally:
        b.close()
    return b.hwm_kb, b.breaks


def bench_one(args, system, size):
    log("== %s, %d-byte messages" % (system, size))
    out = {"system": system, "size": size}
    at_hwm_kb, at_breaks = at_rates(args, system, size, out)
    b = Bench(args, system, size)
    try:
        warm_up(b)
        mx, probe, runs = find_max(b)
        # Not confirmed: the highest rate a short probe held, marked (and used for half max).
        out["max_star"] = not runs
        out["max_per_s"] = statistics.median(s["delivered_per_s"] for s in runs) if runs else probe
        out["max_offered"] = mx or probe
        half = out["max_offered"] / 2
        lats = []
        for _ in range(args.runs if half else 0):
            s = b.run(half, args.confirm)
            log("   half %8.0f/s: %s" % (half, fmt_run(s)))
            lats.append(s)
        out["half_rate"] = half
        for k in ("p50_us", "p99_us", "max_us"):
            out["half_" + k] = statistics.median(s[k] for s in lats) if lats else 0
        out["half_ok"] = bool(lats) and all(s["ok"] for s in lats)
        # Floods last: a system that falls apart under them has its other figures already.
        out["flood"] = {}
        for w in args.windows:
            floods = []
            for _ in range(args.runs):
                s = b.run(0, args.confirm, w)
                log("   flood (window %d/node): %s" % (w, fmt_run(s)))
                floods.append(s)
            out["flood"][str(w)] = {
                "per_s": statistics.median(s["delivered_per_s"] for s in floods),
                "p99_us": statistics.median(s["p99_us"] for s in floods),
                "ok": all(s["ok"] for s in floods)}
        best = max(out["flood"].items(), key=lambda kv: kv[1]["per_s"] if kv[1]["ok"] else -1,
                   default=(None, None))
        out["flood_window"] = best[0]
        out["flood_per_s"] = best[1]["per_s"] if best[1] and best[1]["ok"] else 0
        out["hwm_mb"] = max(b.hwm_kb, at_hwm_kb) / 1024
        out["bound_mb"] = b.bound_kb / 1024
        out["breaks"] = at_breaks + b.breaks
        out["form_s"] = b.form_s
    except BaseException:
        args.keep = True
        raise
    finally:
        b.close()
    return out


def ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "-"


def breaks(what):
    """'-', or how often a group broke: at which lowest paced rate, in which floods."""
    if not what:
        return "-"
    rates = [float(w[:-2]) for w in what if w.endswith("/s")]
    floods = sorted({w.split()[-1] for w in what if w.startswith("flood")}, key=int)
    out = "%dx" % len(what)
    if rates:
        out += ", lowest %.0f/s" % min(rates)
    if floods:
        out += ", flood w" + "/".join(floods)
    return out


def report(args, results):
    log("")
    log("Ordered delivery, %d nodes on 127.0.0.1, one process each; all nodes submit. "
        "Medians of %d runs." % (args.nodes, args.runs))
    log("cache: %d MiB (paceless cache_bytes, Galera gcache.size); Galera: %d client threads "
        "(paced runs; a flood uses one per message in flight), %d applier thread per node, "
        "%d key per write-set." % (args.cache_mb, args.workers, args.appliers, args.keys))
    log("max: highest offered rate delivered completely with p99 <= %.0f ms (* = only a "
        "short probe held, every confirmation failed); flood: best closed-loop window; "
        "! = some run failed." % args.lat_max_ms)
    hdr = ("%-9s %6s %12s %12s %18s %9s %9s %9s %8s %9s  %s" %
           ("system", "size", "max msg/s", "flood msg/s", "half max (rate)", "p50 us",
            "p99 us", "max us", "RSS MiB", "bound MiB", "group broke at"))
    log(hdr)
    by = {}
    for r in results:
        by[(r["system"], r["size"])] = r
        log("%-9s %6d %11.0f%s %12s %18s %9.0f %9.0f %9.0f %8.0f %9s  %s" %
            (r["system"], r["size"], r["max_per_s"], "*" if r["max_star"] else " ",
             "%.0f (w%s)" % (r["flood_per_s"], r["flood_window"]),
             "%.0f/s%s" % (r["half_rate"], "" if r["half_ok"] else "!"), r["half_p50_us"],
             r["half_p99_us"], r["half_max_us"], r["hwm_mb"],
             "%.0f" % r["bound_mb"] if r.get("bound_mb") else "-", breaks(r["breaks"])))
        for rate, v in r["at"].items():
            log("%-9s %6s %12s %12s %18s %9.0f %9.0f %9.0f" %
                ("", "", "", "", "at %.0f/s%s" % (float(rate), "" if v["ok"] else "!"),
                 v["p50_us"], v["p99_us"], v["max_us"]))
        for w, v in r["flood"].items():
            log("%-9s %6s %12s %12s %18s %9s %9.0f %9s" %
                ("", "", "", "%.0f%s" % (v["per_s"], "" if v["ok"] else "!"),
                 "flood, window %s" % w, "", v["p99_us"], ""))
    sizes = sorted({r["size"] for r in results})
    if any(s == "galera" for s, _ in by) and any(s == "paceless" for s, _ in by):
        log("")
        log("ratios paceless/Galera (throughput: higher is better; latency, RSS: lower is better)")
        for size in sizes:
            p, g = by.get(("paceless", size)), by.get(("galera", size))
            if not p or not g:
                continue
            log("  %6d B: flood %s, max %s, p99 at half max %s (at %.0f vs %.0f msg/s), "
                "RSS %s" % (size, ratio(p["flood_per_s"], g["flood_per_s"]),
                            ratio(p["max_per_s"], g["max_per_s"]),
                            ratio(p["half_p99_us"], g["half_p99_us"]), p["half_rate"],
                            g["half_rate"], ratio(p["hwm_mb"], g["hwm_mb"])))
            for rate in p["at"]:
                if rate in g["at"]:
                    log("           p99 at %.0f/s: %s" %
                        (float(rate), ratio(p["at"][rate]["p99_us"], g["at"][rate]["p99_us"])))
    log("")
    log("targets (issue 3): >= 200,000 msg/s of 100 B; p99 < 1 ms at half that rate; RSS "
        "bounded by cache + queues")
    log("  bound MiB: grp_node_memory_bound() for the run's parameters (what the library may "
        "hold: twice the cache, every member's pending submissions, links), without the "
        "process itself")
    for r in results:
        if r.get("bound_mb"):
            log("  paceless %d B: RSS %.0f MiB, bound %.0f MiB + the process (%s)" %
                (r["size"], r["hwm_mb"], r["bound_mb"],
                 "within" if r["hwm_mb"] <= r["bound_mb"] else "OVER"))
    p = by.get(("paceless", 100))
    if p:
        t = p["at"].get(str(TARGET_HALF))
        log("  paceless 100 B: max %.0f msg/s (%s); p99 at 100,000/s, half the 200,000 target "
            "(a group of its own, median of %d runs): %s" %
            (p["max_per_s"], "met" if p["max_per_s"] >= 200000 else "NOT met", args.runs,
             "not measured (--latency-rates)" if not t else "%.0f us (%s)" % (
                 t["p99_us"], "met" if t["ok"] and t["p99_us"] < 1000 else "NOT met")))
        log("  (p99 at half the measured max, %.0f/s, after the search's overloads: %.0f us)" %
            (p["half_rate"], p["half_p99_us"]))


def make_certs(args):
    """A CA and a certificate per node (EC P-256, one day) in a fresh dir under --workdir."""
    d = tempfile.mkdtemp(prefix="gbench-tls-", dir=args.workdir)

    def openssl(*a):
        subprocess.run(["openssl"] + list(a), check=True, capture_output=True, timeout=30)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", d + "/ca.key", "-out", d + "/ca.pem", "-days", "1",
            "-subj", "/CN=gbench-ca")
    for i in range(args.nodes):
        n = "%s/n%d" % (d, i)
        openssl("req", *ec, "-keyout", n + ".key", "-out", n + ".csr", "-subj", "/CN=n%d" % i)
        openssl("x509", "-req", "-in", n + ".csr", "-CA", d + "/ca.pem", "-CAkey", d + "/ca.key",
                "-CAcreateserial", "-out", n + ".pem", "-days", "1")
    return d


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(REPO, "build-gbench/bench/group_bench"))
    ap.add_argument("--systems", default="paceless,galera",
                    help="comma list of paceless, galera (paceless alone needs no Galera)")
    ap.add_argument("--sizes", default="100,10240")
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--probe", type=float, default=2.0, help="s per search probe")
    ap.add_argument("--confirm", type=float, default=4.0,
                    help="s per flood, confirmation and latency run")
    ap.add_argument("--warm", type=float, default=0.5,
                    help="s at the start of a run not counted in the delivered rate")
    ap.add_argument("--settle", type=float, default=0.5, help="s of pause between runs")
    ap.add_argument("--bisect", type=int, default=4)
    ap.add_argument("--warmup", type=float, default=5,
                    help="s of flood (window 64/node) before the search, not counted: the "
                    "cache is full from the start, as in a cluster that has been running")
    ap.add_argument("--start-rate", type=float, default=2000)
    ap.add_argument("--rate-cap", type=float, default=4_000_000)
    ap.add_argument("--lat-max-ms", type=float, default=50,
                    help="a probe holds only if its p99 stays under this")
    ap.add_argument("--windows", default="64,512",
                    help="floods: own messages in flight per node, both systems (Galera: one "
                    "client thread each, at most 512)")
    ap.add_argument("--workers", type=int, default=64,
                    help="Galera: client threads per node in paced runs")
    ap.add_argument("--appliers", type=int, default=1, help="Galera: recv threads per node")
    ap.add_argument("--keys", type=int, default=1, choices=(0, 1),
                    help="Galera: certification keys per write-set")
    ap.add_argument("--cache-mb", type=int, default=128)
    ap.add_argument("--pace-us", type=int, default=0,
                    help="paced runs: the generators wake at multiples of this after the start "
                    "and send every message due (latency still counts from each message's "
                    "own time); 0: one wake-up per message")
    ap.add_argument("--submit-mb", type=int, default=0,
                    help="paceless submit_bytes in MiB (0: the library's default)")
    ap.add_argument("--galera-lib", default="/usr/lib/galera/libgalera_smm.so")
    ap.add_argument("--galera-opts", default="", help="extra wsrep_provider_options")
    ap.add_argument("--latency-rates", default=None,
                    help="comma list of total rates where every system's latency is measured, "
                    "in a group of its own before the search (default: 100000 for 100-byte "
                    "messages, issue 3's target; '' for none)")
    ap.add_argument("--port-base", type=int, default=24500)
    ap.add_argument("--workdir", default="/dev/shm",
                    help="Galera data dirs and node logs (tmpfs: no disk in the picture)")
    ap.add_argument("--keep", action="store_true", help="keep node logs and data dirs")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--tls", action="store_true",
                    help="TLS between the nodes, both systems (a throwaway CA and node "
                    "certificates made with the openssl command in --workdir)")
    ap.add_argument("--quick", action="store_true",
                    help="1 run, 1 s probes and runs: checks the scripts, not for claims")
    args = ap.parse_args()
    if args.quick:
        args.runs, args.probe, args.confirm, args.bisect = 1, 1.0, 1.5, 3
        args.warmup = min(args.warmup, 1.0)
        args.windows = args.windows.split(",")[0]
    if args.latency_rates is not None:
        args.latency_rates = [float(x) for x in args.latency_rates.split(",") if x]
    args.windows = [int(x) for x in args.windows.split(",") if x]
    systems = [s for s in args.systems.split(",") if s]
    if not os.access(args.bin, os.X_OK):
        sys.exit("no %s: ninja -C build-gbench bench/group_bench" % args.bin)
    if "galera" in systems and not os.path.exists(args.galera_lib):
        sys.exit("no %s: apt-get install galera-4, or --systems paceless" % args.galera_lib)
    log("== machine: %d CPUs, %s, load: %s%s" %
        (os.cpu_count(), os.uname().release, open("/proc/loadavg").read().split()[:3],
         ", TLS between nodes" if args.tls else ""))
    args.tls_dir = make_certs(args) if args.tls else None
    global PORT
    PORT = args.port_base
    results = []
    for size in [int(x) for x in args.sizes.split(",")]:
        for system in systems:
            results.append(bench_one(args, system, size))
    report(args, results)
    if args.tls_dir and not args.keep:
        shutil.rmtree(args.tls_dir, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items()}, "results": results}, f,
                      indent=1)
        log("results (JSON): " + args.json)


if __name__ == "__main__":
    main()
