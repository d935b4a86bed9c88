#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Server capacity with a load generator that is not the bottleneck: dhcpstorm, side by side.

perfdhcp (bench/dhcp_dora.py) saturates on this 2-core machine before a fast server does, so
this bench drives each server with bench/dhcpstorm: a closed loop of W DORA exchanges in
flight from --clients simulated clients behind a relay address (192.0.2.2), each new exchange
starting when one completes. For each server and window it reports completed DORA/s, losses,
DISCOVER-to-ACK latency (p50/p99), and the server's CPU time per exchange (from
/proc/PID/stat: the capacity one core would give, independent of the generator). Same pools,
same dhcpd.conf for ISC dhcpd and paceless-dhcpd (dhcp-cache-threshold 0, ping-check false),
Kea with memfile persist (it does not fsync), as in dhcp_dora.py. Every server runs in its own
fresh lab (tests/system/lab.py); traffic stays in the namespaces, on TEST-NET addresses.

    sudo /usr/bin/python3 bench/dhcp_capacity.py [--quick] [--paceless PATH] [--storm PATH]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, 'tests', 'system'))
sys.path.insert(0, HERE)
from lab import Lab  # noqa: E402
import dhcp_dora  # noqa: E402  (server configurations shared with the perfdhcp bench)

SERVERS = (('isc', 'ISC dhcpd 4.4 (fsync)'), ('kea', 'Kea memfile (no fsync)'),
           ('paceless', 'paceless-dhcpd (fsync)'))


def cpu_s(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def storm(pd, args, window, seconds):
    r = pd.run([args.storm, '--relay', '192.0.2.2', '--server', '192.0.2.1', '--clients',
                str(args.clients), '--window', str(window), '--seconds', str(seconds)],
               check=False, timeout=seconds + 30)
    if r.returncode != 0:
        raise RuntimeError('dhcpstorm failed: %s' % r.stderr[-500:])
    return json.loads(r.stdout)


def measure(kind, label, args):
    sargs = types.SimpleNamespace(paceless=args.paceless, kea_log_severity='WARN', kea_mt=False)
    server = dhcp_dora.Server(kind, label, kind)
    work = tempfile.mkdtemp(prefix='paceless-capacity-', dir='/var/tmp')
    rows = []
    with Lab() as lab:
        srv = lab.host('srv', addrs=('192.0.2.1/24',))
        pd = lab.host('pd', addrs=('192.0.2.2/24',))
        srv.run(['ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.2'])
        srv.run(['ip', 'route', 'add', '203.0.113.0/24', 'via', '192.0.2.2'])
        proc = server.start(srv, work, sargs)
        # Ready when one exchange completes (and every client holds a lease: warm-up).
        deadline = time.monotonic() + 30
        while storm(pd, args, 1, 1)['completed'] == 0:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError('%s did not serve; log:\n%s' % (kind, server.log_tail()))
        storm(pd, args, min(args.clients, 64), 2)
        for window in args.windows:
            runs = []
            for _ in range(args.runs):
                c0 = cpu_s(proc.pid)
                res = storm(pd, args, window, args.seconds)
                # dhcpstorm's first second is warm-up, not counted: charge the CPU pro rata.
                res['cpu_us'] = 1e6 * (cpu_s(proc.pid) - c0) * args.seconds / \
                    (args.seconds + 1) / max(1, res['completed'])
                runs.append(res)
            med = sorted(runs, key=lambda r: r['rate'])[len(runs) // 2]
            med['rate_runs'] = [r['rate'] for r in runs]
            med['cpu_us'] = statistics.median(r['cpu_us'] for r in runs)
            rows.append(med)
            print('  %-9s window %4d: %7.0f DORA/s (runs %s), lost %d, p50 %.2f ms, '
                  'p99 %.2f ms, %.0f us CPU/DORA' % (
                      kind, window, med['rate'], '/'.join('%.0f' % x for x in med['rate_runs']),
                      med['lost'], med['p50_ms'], med['p99_ms'], med['cpu_us']), flush=True)
        srv.stop(proc, 10)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='one run of 3 s per window')
    ap.add_argument('--paceless', default=os.path.join(REPO, 'build-bench', 'src', 'dhcp',
                                                       'paceless-dhcpd'))
    ap.add_argument('--storm', default=os.path.join(REPO, 'build-bench', 'bench', 'dhcpstorm'))
    ap.add_argument('--servers', default='isc,kea,paceless')
    ap.add_argument('--clients', type=int, default=600)
    ap.add_argument('--windows', default='8,32,128')
    ap.add_argument('--seconds', type=float, default=5.0)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--json')
    args = ap.parse_args()
    args.windows = [int(w) for w in args.windows.split(',')]
    if args.quick:
        args.seconds, args.runs = 3.0, 1
    results = {}
    for kind, label in SERVERS:
        if kind in args.servers.split(','):
            print('== %s' % label, flush=True)
            results[kind] = measure(kind, label, args)
    print('\n%-10s %12s %10s %10s %12s' % ('server', 'max DORA/s', 'p50 ms', 'p99 ms',
                                           'us CPU/DORA'))
    best = {}
    for kind, rows in results.items():
        top = max(rows, key=lambda r: r['rate'])
        best[kind] = top
        print('%-10s %12.0f %10.2f %10.2f %12.0f' % (kind, top['rate'], top['p50_ms'],
                                                     top['p99_ms'], min(r['cpu_us'] for r in rows)))
    if 'paceless' in best:
        for other in ('isc', 'kea'):
            if other in best:
                p, o = best['paceless'], best[other]
                print('paceless / %-4s  capacity x%.1f   CPU per DORA x%.1f less' % (
                    other, p['rate'] / max(1, o['rate']),
                    min(r['cpu_us'] for r in results[other]) /
                    max(1, min(r['cpu_us'] for r in results['paceless']))))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
