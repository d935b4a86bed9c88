#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Lease-file load time and resident memory per lease: paceless-dhcpd vs ISC dhcpd 4.4.

For each size in --sizes, gen_leases.py writes N active leases (ISC format) in 10.0.0.0/12 and
a dhcpd.conf declaring that subnet in a shared network with 192.0.2.0/24. No packet is sent in
this bench: the 10.0.0.0/12 addresses only exist in these two files. Then, per server:

  (a) load: wall time of `SERVER -T -cf CONF -lf FILE` (parse the lease file, exit), run in a
      lab namespace that has no interface but lo; median of --runs.
  (b) memory: the server started in the foreground inside a lab host whose eth0 (192.0.2.1/24)
      is in the config, so it serves but gets no traffic; once it is serving and its RSS is
      stable, VmRSS from /proc/PID/status. The same with an empty lease file gives the
      baseline; (RSS - baseline) / N is the memory per lease. ISC builds a lease structure for
      every address of a range at start-up, lease file or not, so its baseline already holds
      most of its per-lease memory: compare RSS / N as well.
      Also the start-up time: from exec to serving.

A load that does not finish within --timeout is stopped and reported as "> timeout". ISC 4.4
keeps lease queues as linked lists; its load time grows faster than linearly with N.
Run as root: sudo /usr/bin/python3 bench/dhcp_leaseload.py [--quick].
"""

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
sys.path.insert(0, os.path.join(REPO, 'tests', 'system'))
sys.path.insert(0, BENCH)
from lab import Lab  # noqa: E402  (the project's one netns lab helper)
import gen_leases  # noqa: E402

ISC_DHCPD = '/usr/sbin/dhcpd'
SRV_ADDR = '192.0.2.1/24'


def _rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reap(proc, deadline):
    """Waits for proc until deadline (monotonic); returns (status, rusage) or None."""
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return status, ru
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.01)


def timed_check(host, argv, timeout, log_path):
    """Runs argv (a -T lease-file check) in host; returns dict(wall_s, maxrss_kb, rc) with
    wall_s None when it ran past timeout (then it is stopped)."""
    with open(log_path, 'w') as log:
        t0 = time.monotonic()
        proc = host.spawn(argv, stdout=log, stderr=subprocess.STDOUT)
        done = _reap(proc, t0 + timeout)
        wall = time.monotonic() - t0
    if done is None:
        host.stop(proc)
        return {'wall_s': None, 'maxrss_kb': None, 'rc': None}
    return {'wall_s': wall, 'maxrss_kb': done[1].ru_maxrss, 'rc': proc.returncode}


def _ctl_ready(path):
    # paceless opens its control socket after the lease file is loaded: an answer to
    # "counters" means the leases are in.
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(path)
            s.sendall(b'{"command": "counters"}\n')
            buf = b''
            while not buf.endswith(b'\n'):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            return json.loads(buf.decode()) if buf else None
    except (OSError, ValueError):
        return None


def _log_has(path, text):
    try:
        with open(path, errors='replace') as f:
            return text in f.read()
    except OSError:
        return False


def serve_rss(kind, args, conf, leases, workdir, tag):
    """Starts the server on a lab interface with this lease file; returns a dict with
    rss_kb and start_s (None when it did not start serving within the timeout)."""
    log_path = os.path.join(workdir, '%s-%s.log' % (kind, tag))
    pidf = os.path.join(workdir, '%s-%s.pid' % (kind, tag))
    ctl = os.path.join(workdir, 'ctl-%s.sock' % tag)
    if kind == 'isc':
        argv = [ISC_DHCPD, '-d', '-4', '-cf', conf, '-lf', leases, '-pf', pidf, 'eth0']
    else:
        argv = [args.paceless, '-d', '-4', '-cf', conf, '-lf', leases, '-pf', pidf,
                '--ctl', ctl, 'eth0']
    res = {'rss_kb': None, 'start_s': None}
    with Lab() as lab:
        srv = lab.host('srv', addrs=(SRV_ADDR,))
        with open(log_path, 'w') as log:
            t0 = time.monotonic()
            proc = srv.spawn(argv, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)

        def ready():
            if proc.poll() is not None:
                raise RuntimeError('%s exited rc=%s: %s' % (kind, proc.returncode,
                                                            _tail(log_path)))
            if kind == 'isc':
                # ISC prints its "Sending on" lines once the leases are read.
                return _log_has(log_path, 'Sending on')
            return _ctl_ready(ctl)
        try:
            info = srv.wait_for(ready, args.timeout, '%s serving' % kind, interval=0.05)
        except AssertionError:
            srv.stop(proc)
            return res
        res['start_s'] = time.monotonic() - t0
        if isinstance(info, dict):
            res['counters'] = info.get('arguments')
        res['rss_kb'] = _stable_rss(proc.pid)
        srv.stop(proc, timeout=30)
    return res


def _stable_rss(pid):
    # Start-up may still be touching memory just after it says it serves: wait until two
    # readings 0.3 s apart agree within 0.5% (at most 10 s).
    last = _rss_kb(pid)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        time.sleep(0.3)
        cur = _rss_kb(pid)
        if cur is None or last is None or abs(cur - last) <= 0.005 * last:
            return cur if cur is not None else last
        last = cur
    return last


def _tail(path, n=5):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-n:]).strip()
    except OSError:
        return ''


def measure_size(n, args, workdir, log):
    """All figures for one lease count; returns {kind: dict}."""
    conf = os.path.join(workdir, 'dhcpd.conf')
    with open(conf, 'w') as f:
        f.write(gen_leases.conf_text())
    master = os.path.join(workdir, 'leases-%d' % n)
    empty = os.path.join(workdir, 'empty.leases')
    t0 = time.monotonic()
    gen_leases.write_leases(master, n, int(time.time()))
    log('  generated %d leases (%.0f MB) in %.1f s' %
        (n, os.path.getsize(master) / 1e6, time.monotonic() - t0))
    out = {}
    for kind in args.servers:
        r = out[kind] = {}
        tool = ISC_DHCPD if kind == 'isc' else args.paceless
        walls = []
        with Lab() as lab:
            h = lab.host('chk', bridge=None)
            for i in range(args.runs):
                c = timed_check(h, [tool, '-T', '-cf', conf, '-lf', master], args.timeout,
                                os.path.join(workdir, '%s-T-%d.log' % (kind, i)))
                if c['wall_s'] is None:
                    walls = None
                    break
                if c['rc'] != 0:
                    r['error'] = '%s -T exited %s: %s' % (
                        kind, c['rc'], _tail(os.path.join(workdir, '%s-T-%d.log' % (kind, i))))
                    break
                walls.append(c['wall_s'])
                r['check_maxrss_kb'] = c['maxrss_kb']
        r['load_s'] = statistics.median(walls) if walls else None
        r['load_timeout'] = walls is None
        log('  %-8s -T: %s' % (kind, 'error' if 'error' in r else
                               '> %.0f s (stopped)' % args.timeout if walls is None else
                               '%.2f s' % r['load_s']))
        if 'error' in r or walls is None or args.no_rss:
            continue
        open(empty, 'w').close()
        base = serve_rss(kind, args, conf, empty, workdir, 'empty')
        copy = os.path.join(workdir, '%s-%d.leases' % (kind, n))
        shutil.copyfile(master, copy)  # the server rewrites its lease file at start-up
        full = serve_rss(kind, args, conf, copy, workdir, 'full')
        os.unlink(copy)
        r['rss_empty_kb'], r['rss_kb'] = base['rss_kb'], full['rss_kb']
        r['start_s'], r['start_empty_s'] = full['start_s'], base['start_s']
        if full.get('counters') is not None:
            r['counters'] = full['counters']
        if base['rss_kb'] and full['rss_kb']:
            r['bytes_per_lease'] = (full['rss_kb'] - base['rss_kb']) * 1024.0 / n
            r['total_bytes_per_lease'] = full['rss_kb'] * 1024.0 / n
        log('  %-8s serving: start %s, RSS %s KB (empty lease file: start %s, RSS %s KB)' % (
            kind, _f(r['start_s'], '%.2f s'), _f(r['rss_kb']), _f(r['start_empty_s'], '%.2f s'),
            _f(r['rss_empty_kb'])))
    os.unlink(master)
    return out


def _f(v, fmt='%.0f'):
    return '-' if v is None else fmt % v


def print_report(results, args):
    print()
    print('Lease-file load (ISC format, 10.0.0.0/12; no traffic). Targets for paceless: '
          'load < 2 s and <= 256 B RSS per lease at 1M.')
    hdr = '%-9s %-9s %10s %10s %11s %11s %10s %10s' % (
        'leases', 'server', '-T load s', 'start s', 'RSS MB', 'empty MB', 'B/lease',
        'RSS/lease')
    print(hdr)
    print('-' * len(hdr))
    for n, per in results:
        for kind, r in per.items():
            if 'error' in r:
                print('%-9d %-9s ERROR: %s' % (n, kind, r['error'][:100]))
                continue
            load = ('>%.0f' % args.timeout) if r.get('load_timeout') else _f(r['load_s'], '%.2f')
            print('%-9d %-9s %10s %10s %11s %11s %10s %10s' % (
                n, kind, load, _f(r.get('start_s'), '%.2f'),
                _f(r['rss_kb'] / 1024.0 if r.get('rss_kb') else None, '%.1f'),
                _f(r['rss_empty_kb'] / 1024.0 if r.get('rss_empty_kb') else None, '%.1f'),
                _f(r.get('bytes_per_lease')), _f(r.get('total_bytes_per_lease'))))
        pl, isc = per.get('paceless'), per.get('isc')
        if pl and isc and 'error' not in pl and 'error' not in isc:
            _ratios(n, pl, isc, args)
    print('(B/lease = (RSS - RSS with an empty lease file) / leases; RSS/lease = RSS / leases; '
          '-T load: median of %d)' % args.runs)


def _ratios(n, pl, isc, args):
    if pl.get('load_s') and isc.get('load_s'):
        print('  ratio at %d: ISC/paceless load time %.1fx' % (n, isc['load_s'] / pl['load_s']))
    elif pl.get('load_s') and isc.get('load_timeout'):
        print('  ratio at %d: ISC/paceless load time > %.0fx (ISC stopped at %.0f s)' %
              (n, args.timeout / pl['load_s'], args.timeout))
    for key, what in (('bytes_per_lease', 'B/lease'), ('total_bytes_per_lease', 'RSS/lease')):
        if pl.get(key) and isc.get(key):
            print('  ratio at %d: paceless/ISC %s %.2fx' % (n, what, pl[key] / isc[key]))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='smoke run: sizes 20000,100000')
    ap.add_argument('--sizes', default='100000,1000000', help='comma list of lease counts')
    ap.add_argument('--servers', default='isc,paceless')
    ap.add_argument('--paceless', default=os.path.join(REPO, 'build-bench', 'src', 'dhcp',
                                                       'paceless-dhcpd'))
    ap.add_argument('--runs', type=int, default=1, help='-T runs per server (median)')
    ap.add_argument('--timeout', type=float, default=180.0,
                    help='seconds before a load is stopped and reported as "> timeout"')
    ap.add_argument('--no-rss', action='store_true', help='only the -T load times')
    ap.add_argument('--workdir', default='/var/tmp')
    ap.add_argument('--json', help='also write the results here')
    ap.add_argument('--keep', action='store_true', help='keep the work dir (logs, conf)')
    args = ap.parse_args(argv)
    if args.quick:
        args.sizes, args.timeout = '20000,100000', min(args.timeout, 60.0)
    args.sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    args.servers = [s.strip() for s in args.servers.split(',') if s.strip()]
    for n in args.sizes:
        if not 0 < n <= gen_leases.LEASES_MAX:
            ap.error('sizes must be 1..%d' % gen_leases.LEASES_MAX)
    return args


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit('dhcp_leaseload.py needs root (network namespaces)')
    if 'paceless' in args.servers and not os.access(args.paceless, os.X_OK):
        sys.exit('%s missing: build it (meson setup build-bench --buildtype=release ...)' %
                 args.paceless)
    Lab.sweep_stale()
    workdir = tempfile.mkdtemp(prefix='leaseload-', dir=args.workdir)
    t0 = time.monotonic()
    results = []
    try:
        for n in args.sizes:
            print('== %d leases' % n, flush=True)
            results.append((n, measure_size(n, args, workdir,
                                            lambda m: print(m, flush=True))))
    finally:
        if args.keep:
            print('kept %s' % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print_report(results, args)
    print('\n(total %.0f s)' % (time.monotonic() - t0))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'results': [{'leases': n, 'servers': per} for n, per in results],
                       'args': vars(args)}, f, indent=1)
    return 0


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    sys.exit(main())
