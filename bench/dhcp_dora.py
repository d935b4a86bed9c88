#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""DORA throughput, loss and latency of paceless-dhcpd, ISC dhcpd and Kea, side by side (perfdhcp).

Each server runs in a fresh lab (tests/system/lab.py): host 'srv' (192.0.2.1) runs the server,
host 'pd' (192.0.2.2) runs perfdhcp. perfdhcp acts as a relay (giaddr = its own address), which
is how it simulates many clients from one host. Traffic stays inside the lab's namespaces and
uses TEST-NET addresses only. The three servers get the same pools: one shared network of the
three TEST-NET /24s (723 addresses), and perfdhcp reuses a smaller set of clients (-R), so after
the first seconds almost every exchange renews an existing lease: what we measure is DORA with
a lease write per ACK (ISC: dhcp-cache-threshold 0, lease file fsync'd; Kea: memfile, persist,
no fsync; paceless: group-committed fsync before the ACK).

Per server: (c) a flood (no -r) for --flood seconds, (a) a search for the highest rate with
< --loss-max % loss, confirmed --runs times (median), (b) latency p50/p99 at half that rate
(from perfdhcp's per-packet timestamps, -x t), median of --runs. (d) "perfdhcp ceiling": the
fastest no-durability configuration we can run (Kea persist=false, paceless with its lease
file on tmpfs); when a server's rate is near it, perfdhcp (on the same 2 cores), not the
server, is the limit. Run as root: sudo /usr/bin/python3 bench/dhcp_dora.py [--quick].
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'system'))
from lab import Lab  # noqa: E402  (the project's one netns lab helper)

SRV_ADDR = '192.0.2.1'
PD_ADDR = '192.0.2.2'
# The three TEST-NET /24s, pools .10-.250: 723 addresses in one shared network.
SUBNETS = ('192.0.2', '198.51.100', '203.0.113')
POOL_ADDRS = len(SUBNETS) * (250 - 10 + 1)
PERFDHCP = '/usr/sbin/perfdhcp'
ISC_DHCPD = '/usr/sbin/dhcpd'
KEA_DHCP4 = '/usr/sbin/kea-dhcp4'
RATE_MAX = 400000  # the upward search stops here whatever happens
PROBES_MAX = 14    # rate probes per search
STEPDOWN_MAX = 3   # 10% steps down when the confirmation runs lose too much


def isc_conf():
    """dhcpd.conf shared by ISC dhcpd and paceless-dhcpd (same file, byte for byte)."""
    lines = [
        '# paceless bench/dhcp_dora.py: identical for ISC dhcpd and paceless-dhcpd.',
        'default-lease-time 3600;',
        'max-lease-time 7200;',
        'authoritative;',
        'ddns-update-style none;',
        '# ISC otherwise skips the lease write for a client renewing within 25% of its lease.',
        'dhcp-cache-threshold 0;',
        '# ISC pings every new address and waits a second: not what we measure.',
        'ping-check false;',
        'shared-network lab {',
    ]
    for s in SUBNETS:
        lines.append('\tsubnet %s.0 netmask 255.255.255.0 { range %s.10 %s.250; }' % (s, s, s))
    lines.append('}')
    return '\n'.join(lines) + '\n'


def kea_conf(lease_path, persist, severity, mt):
    """The same pools for kea-dhcp4: memfile, no lease-file cleanup during the run."""
    subnets = [{'subnet': '%s.0/24' % s, 'pools': [{'pool': '%s.10 - %s.250' % (s, s)}]}
           for s in SUBNETS]
    d4 = {
        'interfaces-config': {'interfaces': ['eth0'], 'dhcp-socket-type': 'udp'},
        'lease-database': {'type': 'memfile', 'persist': persist, 'name': lease_path,
                   'lfc-interval': 0},
        'valid-lifetime': 3600,
        'max-valid-lifetime': 7200,
        'authoritative': True,
        'shared-networks': [{'name': 'lab', 'subnet4': subnets}],
        'loggers': [{'name': 'kea-dhcp4', 'severity': severity,
                 'output_options': [{'output': 'stdout'}]}],
    }
    if mt:
        d4['multi-threading'] = {'enable-multi-threading': True, 'thread-pool-size': 2,
                     'packet-queue-size': 64}
    else:
        d4['multi-threading'] = {'enable-multi-threading': False}
    return json.dumps({'Dhcp4': d4}, indent=1) + '\n'


class Server:
    """One server configuration under test; start() spawns it on host srv, in workdir."""

    def __init__(self, name, label, kind, lease_parent=None, persist=True):
        self.name = name          # short key: isc, kea, paceless, ...
        self.label = label        # human description for the table
        self.kind = kind          # isc | kea | paceless
        self.lease_parent = lease_parent  # put the lease file in a fresh dir under this
        self.lease_dir = None             # (else in the run's workdir)
        self.persist = persist
        self.lease_path = None
        self.log_path = None

    def start(self, srv, workdir, args):
        ldir = self.lease_dir or workdir
        self.log_path = os.path.join(workdir, self.name + '.log')
        log = open(self.log_path, 'w')
        env = None
        if self.kind in ('isc', 'paceless'):
            conf = os.path.join(workdir, 'dhcpd.conf')
            with open(conf, 'w') as f:
                f.write(isc_conf())
            self.lease_path = os.path.join(ldir, self.name + '.leases')
            open(self.lease_path, 'w').close()
            pid = os.path.join(workdir, self.name + '.pid')
            if self.kind == 'isc':
                argv = [ISC_DHCPD, '-f', '-4', '-cf', conf, '-lf', self.lease_path,
                    '-pf', pid, 'eth0']
            else:
                argv = [args.paceless, '-f', '-4', '-cf', conf, '-lf', self.lease_path,
                    '-pf', pid, '--ctl', os.path.join(workdir, 'ctl.sock'), 'eth0']
        else:
            self.lease_path = os.path.join(ldir, self.name + '.leases.csv')
            conf = os.path.join(workdir, 'kea-dhcp4.json')
            with open(conf, 'w') as f:
                f.write(kea_conf(self.lease_path, self.persist, args.kea_log_severity,
                         args.kea_mt))
            env = dict(os.environ, KEA_PIDFILE_DIR=workdir, KEA_LOCKFILE_DIR=workdir)
            argv = [KEA_DHCP4, '-c', conf]
        try:
            return srv.spawn(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                     cwd=workdir)
        finally:
            log.close()

    def lease_records(self):
        """(records, rotated): lease records in the lease file (one per write) plus its
        previous generation FILE~; rotated when FILE~ holds records, i.e. the server
        compacted during the run and older writes are gone (the count is then a floor)."""
        counts = []
        for path in (self.lease_path, self.lease_path + '~'):
            try:
                with open(path, 'rb') as f:
                    data = f.read()
            except OSError:
                counts.append(0)
                continue
            if self.kind == 'kea':
                counts.append(max(0, data.count(b'\n') - 1))  # CSV, one header line
            else:
                counts.append(len(re.findall(rb'^lease ', data, re.M)))
        return counts[0] + counts[1], counts[1] > 0

    def log_tail(self, n=8):
        try:
            with open(self.log_path, errors='replace') as f:
                return ''.join(f.readlines()[-n:])
        except OSError:
            return ''


# --- perfdhcp ---------------------------------------------------------------------------------

_STAGE_RE = re.compile(r'\*\*\*Statistics for: (DISCOVER-OFFER|REQUEST-ACK)\*\*\*')
_TS_RE = re.compile(r'\*\*\*Timestamps for packets: (DISCOVER-OFFER|REQUEST-ACK)\*\*\*')
_SR_RE = re.compile(r'sent / received: ([0-9.]+) / ([0-9.]+)')


def _num(text, key):
    m = re.search(r'^' + re.escape(key) + r':\s*([-0-9.eE+a-z]+)', text, re.M)
    if not m:
        return None
    try:
        return float(m.group(1))
    except ValueError:
        return None


def parse_perfdhcp(out):
    """Parses perfdhcp -4 output into a dict (see run_perfdhcp)."""
    res = {'rate': 0.0, 'do': {}, 'ra': {}, 'lat_do': [], 'lat_ra': []}
    m = re.search(r'^Rate: ([0-9.eE+]+) 4-way exchanges/second', out, re.M)
    if m:
        res['rate'] = float(m.group(1))
    parts = _STAGE_RE.split(out)
    # parts: [pre, name1, body1, name2, body2...]
    for i in range(1, len(parts) - 1, 2):
        key = 'do' if parts[i] == 'DISCOVER-OFFER' else 'ra'
        body = _TS_RE.split(parts[i + 1])[0]
        st = {}
        for k in ('sent packets', 'received packets', 'drops', 'min delay', 'avg delay',
              'max delay', 'std deviation'):
            st[k] = _num(body, k)
        res[key] = st
    ts = _TS_RE.split(out)
    for i in range(1, len(ts) - 1, 2):
        key = 'lat_do' if ts[i] == 'DISCOVER-OFFER' else 'lat_ra'
        body = ts[i + 1]
        res[key] = [(float(b) - float(a)) * 1e3 for a, b in _SR_RE.findall(body)]
    do_s = res['do'].get('sent packets') or 0
    do_r = res['do'].get('received packets') or 0
    ra_s = res['ra'].get('sent packets') or 0
    ra_r = res['ra'].get('received packets') or 0
    # Loss of a whole exchange: lost at DISCOVER-OFFER or at REQUEST-ACK. An OFFER that came
    # in after the test period (no REQUEST sent) is not counted as a loss.
    ok = (do_r / do_s if do_s else 0.0) * (ra_r / ra_s if ra_s else 0.0)
    res['loss_pct'] = 100.0 * (1.0 - ok) if do_s else 100.0
    res['acks'] = int(ra_r)
    return res


def run_perfdhcp(pd, args, period_s, rate=None, timestamps=False, clients=None, extra=(),
                 num=None):
    """Runs perfdhcp on host pd against the server; returns parse_perfdhcp's dict."""
    argv = [PERFDHCP, '-4', '-l', 'eth0', '-R', str(clients or args.clients),
        '-W', '300000', '-g', args.perfdhcp_threads]
    if num:
        argv += ['-n', str(num)]
    else:
        argv += ['-p', str(max(1, int(round(period_s))))]  # perfdhcp: whole seconds only
    if rate:
        argv += ['-r', str(int(rate))]
    if timestamps:
        argv += ['-x', 't']
    argv += list(extra) + [SRV_ADDR]
    with tempfile.TemporaryFile('w+') as out:
        p = pd.run(argv, check=False, timeout=period_s + 60, stdout=out,
               stderr=subprocess.STDOUT)
        out.seek(0)
        text = out.read()
    # perfdhcp exits 3 when anything was dropped: that is a result, not a failure.
    if p.returncode not in (0, 3):
        raise RuntimeError('perfdhcp failed (rc=%d): %s' % (p.returncode, text[-600:]))
    res = parse_perfdhcp(text)
    res['requested'] = rate
    res['perfdhcp_rate'] = res['rate']
    if not num:
        # perfdhcp's own "Rate" divides by a wall time that includes start-up and the exit
        # wait (it reads 75% low for -p 1); completed exchanges per test second is what we
        # mean by DORA/s.
        period = max(1, int(round(period_s)))
        res['rate'] = res['acks'] / period
        res['sent_rate'] = (res['do'].get('sent packets') or 0) / period
    return res


def wait_ready(pd, proc, server, args):
    """Polls with tiny perfdhcp runs until the server completes a DORA (or exits)."""
    def probe():
        if proc.poll() is not None:
            raise RuntimeError('%s exited (rc=%s) before serving:\n%s' %
                       (server.name, proc.returncode, server.log_tail()))
        r = run_perfdhcp(pd, args, 1, rate=20, clients=1, num=3)
        return r['acks'] > 0
    pd.wait_for(probe, args.ready_timeout, '%s to answer DORA' % server.name, interval=0.2)


def _ok(r, args):
    # perfdhcp must also have managed to send at the rate asked: if it could not, the rate is
    # beyond what perfdhcp can generate here, and we cannot claim the server sustains it.
    return r['loss_pct'] < args.loss_max and r['sent_rate'] >= 0.95 * r['requested']


def search_max(pd, args, start, log):
    """Highest -r with loss < loss_max (doubling, then bisection to ~5%); returns (rate, probes)."""
    lo, hi, rate, probes = None, None, max(100, int(start)), []
    while len(probes) < PROBES_MAX:
        r = run_perfdhcp(pd, args, args.probe, rate=rate)
        probes.append(r)
        good = _ok(r, args)
        why = 'ok'
        if not good:
            why = 'lossy' if r['loss_pct'] >= args.loss_max else 'perfdhcp could not send it'
        log('    probe -r %-6d -> %8.0f DORA/s, loss %6.2f%% %s' %
            (rate, r['rate'], r['loss_pct'], why))
        if good:
            lo = rate
        else:
            hi = rate
        if hi is None:
            if rate >= RATE_MAX:
                break
            rate = min(RATE_MAX, rate * 2)
        elif lo is None:
            if rate <= 100:
                break
            rate = max(100, rate // 2)
        else:
            if hi - lo <= max(50, 0.05 * lo):
                break
            rate = (lo + hi) // 2
    return (lo or 0), probes


def measure(server, args, log):
    """All DORA figures for one server, in a fresh lab; returns a dict."""
    res = {'server': server.name, 'label': server.label}
    workdir = tempfile.mkdtemp(prefix='dora-%s-' % server.name, dir=args.workdir)
    server.lease_dir = None
    if server.lease_parent:
        server.lease_dir = tempfile.mkdtemp(prefix='dora-', dir=server.lease_parent)
    try:
        with Lab() as lab:
            srv = lab.host('srv', addrs=(SRV_ADDR + '/24',))
            pd = lab.host('pd', addrs=(PD_ADDR + '/24',))
            proc = server.start(srv, workdir, args)
            try:
                wait_ready(pd, proc, server, args)
            except (RuntimeError, AssertionError) as e:
                res['error'] = str(e)
                log('  %s: NOT USABLE: %s' % (server.name, str(e).strip()[:800]))
                return res
            _measure_running(server, pd, proc, args, res, log)
            srv.stop(proc, timeout=10)
            res['lease_records'], res['lease_file_rotated'] = server.lease_records()
    finally:
        if server.lease_dir:
            shutil.rmtree(server.lease_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            log('  kept %s' % workdir)
    return res


def _steal_ticks():
    """The machine's steal time so far (/proc/stat, USER_HZ ticks): CPU time the hypervisor
    took from this VM. docs/internals/dhcp-server.md, 'What a sync costs the machine'."""
    with open('/proc/stat') as f:
        return int(f.readline().split()[8])


def _measure_running(server, pd, proc, args, res, log):
    acks = 0
    if args.only_rates:
        _measure_at_rates(pd, proc, server, args, res, log, acks)
        return
    fl = run_perfdhcp(pd, args, args.flood)
    acks += fl['acks']
    res['flood_rate'], res['flood_loss_pct'] = fl['rate'], fl['loss_pct']
    log('  flood %gs: %.0f DORA/s, loss %.2f%%' % (args.flood, fl['rate'], fl['loss_pct']))
    start = args.search_start or max(500, fl['rate'] * 0.8)
    best, probes = search_max(pd, args, start, log)
    acks += sum(p['acks'] for p in probes)
    confirm = []
    # Short probes are noisy on shared cores: the rate found is confirmed with longer runs,
    # stepping down 10% (at most STEPDOWN_MAX times) while their median loss is over the limit.
    for step in range(STEPDOWN_MAX + 1):
        if not best:
            break
        confirm = []
        for _ in range(args.runs):
            counter = SyncCounter(proc.pid) if args.count_syncs else None
            r = run_perfdhcp(pd, args, args.confirm, rate=best)
            r['syncs'] = counter.stop() if counter else None
            acks += r['acks']
            confirm.append(r)
        loss = statistics.median(r['loss_pct'] for r in confirm)
        log('  confirm -r %d: median %.0f DORA/s, loss %.2f%% (%d runs)' %
            (best, statistics.median(r['rate'] for r in confirm), loss, len(confirm)))
        if loss < args.loss_max:
            break
        if step == STEPDOWN_MAX:
            res['max_unconfirmed'] = True  # printed with a '*': no rate held its loss limit
            break
        best = int(best * 0.9)
    res['search_rate'] = best
    if confirm:
        res['max_rate'] = statistics.median(r['rate'] for r in confirm)
        res['max_loss_pct'] = statistics.median(r['loss_pct'] for r in confirm)
        per = [r['acks'] / r['syncs'] for r in confirm if r.get('syncs')]
        res['acks_per_sync'] = statistics.median(per) if per else None
        syncs = [r['syncs'] / max(1, int(round(args.confirm))) for r in confirm
                 if r.get('syncs') is not None]
        res['syncs_per_s'] = statistics.median(syncs) if syncs else None
        lats = []
        for _ in range(args.runs):
            r = run_perfdhcp(pd, args, args.latency, rate=max(1, best // 2), timestamps=True)
            acks += r['acks']
            lats.append(r)
        for key in ('lat_do', 'lat_ra'):
            for q in (50, 99):
                vals = [_pct(r[key], q) for r in lats if r[key]]
                res['%s_p%d' % (key, q)] = statistics.median(vals) if vals else None
            res[key + '_max'] = statistics.median(
                max(r[key]) if r[key] else 0.0 for r in lats)
        res['half_loss_pct'] = statistics.median(r['loss_pct'] for r in lats)
        log('  at -r %d: ACK p50 %.3f ms, p99 %.3f ms; OFFER p50 %.3f ms, p99 %.3f ms' %
            (best // 2, res['lat_ra_p50'] or -1, res['lat_ra_p99'] or -1,
             res['lat_do_p50'] or -1, res['lat_do_p99'] or -1))
    _measure_at_rates(pd, proc, server, args, res, log, acks)


def _measure_at_rates(pd, proc, server, args, res, log, acks):
    # The same rates for every server (--latency-rates): latency compared like with like.
    res['at_rates'] = {}
    for rate in args.latency_rates:
        steal = _steal_ticks()
        r = run_perfdhcp(pd, args, args.latency, rate=rate, timestamps=True)
        steal = _steal_ticks() - steal
        acks += r['acks']
        res['at_rates'][rate] = {k: _pct(r[key], q) if r[key] else None
                                 for k, key, q in (('ack_p50', 'lat_ra', 50),
                                                   ('ack_p99', 'lat_ra', 99),
                                                   ('offer_p99', 'lat_do', 99))}
        res['at_rates'][rate]['loss_pct'] = r['loss_pct']
        res['at_rates'][rate]['steal_ticks'] = steal
        v = res['at_rates'][rate]
        log('  at -r %d (same for all): ACK p50 %.3f ms, p99 %.3f ms; OFFER p99 %.3f ms; '
            'loss %.2f%%; steal %d ticks' % (rate, v['ack_p50'] or -1, v['ack_p99'] or -1,
                                             v['offer_p99'] or -1, v['loss_pct'], steal))
    if proc.poll() is not None:
        res['error'] = '%s exited during the run (rc=%s)' % (server.name, proc.returncode)
    res['acks'] = acks


class SyncCounter:
    """Counts the fsync/fdatasync calls of a process with perf's syscall tracepoints (cheap,
    unlike strace), so the report can show how many ACKs each sync covered: the check that
    the durable servers do sync, and how much they batch. A server syncing by other means
    (io_uring, O_DSYNC writes) would show none."""

    EVENTS = 'syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync'

    def __init__(self, pid):
        self.proc = None
        if not shutil.which('perf'):
            return
        self.out = tempfile.TemporaryFile('w+')
        # -p covers the threads the process has now: the servers start theirs at start-up.
        self.proc = subprocess.Popen(['perf', 'stat', '-x', ',', '-e', self.EVENTS, '-p',
                                      str(pid)], stdout=self.out, stderr=subprocess.STDOUT)
        time.sleep(0.2)  # let perf attach before the traffic starts

    def stop(self):
        """Returns the number of syncs counted, or None if perf could not count."""
        if not self.proc:
            return None
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.seek(0)
        text = self.out.read()
        self.out.close()
        total, seen = 0, 0
        for line in text.splitlines():
            f = line.split(',')
            if len(f) > 2 and f[2].startswith('syscalls:sys_enter_') and f[0].isdigit():
                total += int(f[0])
                seen += 1
        return total if seen else None


def _pct(vals, q):
    s = sorted(vals)
    if not s:
        return None
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


# --- report -----------------------------------------------------------------------------------

def _f(v, fmt='%.0f'):
    return '-' if v is None else fmt % v


def print_report(results, ceiling, args, fs_type):
    print()
    print('DORA benchmark: perfdhcp -R %d clients over %d addresses, lease dir on %s, '
          'loss limit %.1f%%' % (args.clients, POOL_ADDRS, fs_type, args.loss_max))
    hdr = ('%-10s %10s %7s %10s %7s %9s %9s %9s %9s %10s %8s %9s' %
           ('server', 'max DORA/s', 'loss%', 'flood/s', 'loss%', 'ACK p50', 'ACK p99',
            'OFFER p50', 'OFFER p99', 'writes/ACK', 'syncs/s', 'ACKs/sync'))
    print(hdr)
    print('-' * len(hdr))
    for r in results:
        if 'error' in r and 'max_rate' not in r:
            print('%-10s NOT USABLE: %s' % (r['server'], r['error'].splitlines()[0][:90]))
            continue
        wpa = '-'
        if r.get('lease_records') is not None and r.get('acks'):
            wpa = ('>=' if r.get('lease_file_rotated') else '') + '%.2f' % (
                r['lease_records'] / r['acks'])
        print('%-10s %10s %7s %10s %7s %9s %9s %9s %9s %10s %8s %9s' % (
            r['server'], _f(r.get('max_rate')) + ('*' if r.get('max_unconfirmed') else ''),
            _f(r.get('max_loss_pct'), '%.2f'),
            _f(r.get('flood_rate')), _f(r.get('flood_loss_pct'), '%.1f'),
            _f(r.get('lat_ra_p50'), '%.3f'), _f(r.get('lat_ra_p99'), '%.3f'),
            _f(r.get('lat_do_p50'), '%.3f'), _f(r.get('lat_do_p99'), '%.3f'),
            wpa, _f(r.get('syncs_per_s')), _f(r.get('acks_per_sync'), '%.1f')))
    print('(latencies in ms at half the max rate, medians of %d runs; writes/ACK = lease '
          'records in the file and FILE~ / ACKs perfdhcp got, >= when the server compacted '
          'its file during the run; syncs = fsync+fdatasync calls during the '
          'max-rate runs)' % args.runs)
    if any(r.get('max_unconfirmed') for r in results):
        print('* no confirmation run held the loss limit, even %d steps of 10%% below the '
              'rate found: the machine was too noisy; rerun' % STEPDOWN_MAX)
    if ceiling:
        print('perfdhcp ceiling (approx): %s DORA/s (%s) - a server near it is limited by '
              'perfdhcp sharing the cores, not by itself' %
              (_f(ceiling['max_rate']), ceiling['label']))
    by = {r['server']: r for r in results}
    pl = by.get('paceless')
    print()
    for other in ('isc', 'kea'):
        o = by.get(other)
        if not pl or not o:
            continue
        for key, what in (('max_rate', 'max sustained DORA/s'), ('flood_rate', 'flood DORA/s')):
            a, b = pl.get(key), o.get(key)
            if a and b:
                print('ratio paceless/%-4s %-22s %6.2fx' % (other, what, a / b))
        a, b = pl.get('lat_ra_p99'), o.get('lat_ra_p99')
        if a and b:
            print('ratio paceless/%-4s %-22s %6.2fx (lower is better)' %
                  (other, 'ACK p99 latency', a / b))


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='about a 1-minute smoke run')
    ap.add_argument('--servers', default='isc,kea,paceless',
            help='comma list of isc, kea, paceless (default all)')
    ap.add_argument('--paceless', default=os.path.join(REPO, 'build-bench', 'src', 'dhcp',
                               'paceless-dhcpd'))
    ap.add_argument('--clients', type=int, default=600, help='perfdhcp -R (< %d)' % POOL_ADDRS)
    ap.add_argument('--flood', type=float, default=10.0, help='flood seconds')
    ap.add_argument('--probe', type=float, default=3.0, help='seconds per search probe')
    ap.add_argument('--confirm', type=float, default=5.0, help='seconds per max-rate run')
    ap.add_argument('--latency', type=float, default=5.0, help='seconds per latency run')
    ap.add_argument('--runs', type=int, default=3, help='runs for the medians')
    ap.add_argument('--latency-rates', default='854,2000',
                    help='comma-separated -r values at which every server\'s latency is '
                         'also measured, so that servers are compared at equal load')
    ap.add_argument('--loss-max', type=float, default=1.0, help='loss %% allowed at max rate')
    ap.add_argument('--search-start', type=int, default=0, help='first -r (default: from flood)')
    ap.add_argument('--no-ceiling', action='store_true', help='skip the perfdhcp ceiling runs')
    ap.add_argument('--only-rates', action='store_true',
                    help='only the --latency-rates runs (no flood, no search): A/B of builds')
    ap.add_argument('--perfdhcp-threads', choices=('single', 'multi'), default='multi',
            help='perfdhcp -g (default multi, perfdhcp\'s own default on >1 CPU)')
    ap.add_argument('--kea-mt', action='store_true', help='enable Kea multi-threading')
    ap.add_argument('--no-count-syncs', dest='count_syncs', action='store_false',
                    help='do not count fsync/fdatasync calls with perf stat')
    ap.add_argument('--kea-log-severity', default='WARN',
            help='Kea logger severity (WARN: no per-packet logging; favours Kea)')
    ap.add_argument('--workdir', default='/var/tmp',
            help='parent dir of the run dirs and lease files (a disk, not tmpfs: fsync '
            'must cost what it costs)')
    ap.add_argument('--ready-timeout', type=float, default=20.0)
    ap.add_argument('--json', help='also write the results here')
    ap.add_argument('--keep', action='store_true', help='keep work dirs (configs, logs, leases)')
    args = ap.parse_args(argv)
    args.latency_rates = [int(x) for x in args.latency_rates.split(',') if x.strip()]
    if args.quick:
        args.flood, args.probe, args.confirm, args.latency, args.runs = 3, 1, 2, 2, 1
    if args.clients >= POOL_ADDRS:
        ap.error('--clients must be fewer than the %d pool addresses' % POOL_ADDRS)
    return args


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit('dhcp_dora.py needs root (network namespaces)')
    for tool in (PERFDHCP, ISC_DHCPD, KEA_DHCP4):
        if not os.path.exists(tool):
            sys.exit('%s missing: run bench/run.sh (apt-get install kea-admin '
                 'kea-dhcp4-server isc-dhcp-server)' % tool)
    Lab.sweep_stale()
    wanted = [s.strip() for s in args.servers.split(',') if s.strip()]
    catalogue = {
        'isc': Server('isc', 'ISC dhcpd 4.4 (fsync)', 'isc'),
        'kea': Server('kea', 'Kea memfile persist=true (no fsync)', 'kea'),
        'paceless': Server('paceless', 'paceless-dhcpd (fsync)', 'paceless'),
    }
    fs_type = subprocess.run(['findmnt', '-n', '-o', 'FSTYPE', '-T', args.workdir],
                             capture_output=True, text=True).stdout.strip() or '?'

    def log(msg):
        print(msg, flush=True)

    t0 = time.monotonic()
    results = []
    for name in wanted:
        if name not in catalogue:
            sys.exit('unknown server %r' % name)
        log('== %s: %s' % (name, catalogue[name].label))
        results.append(measure(catalogue[name], args, log))
    ceiling = None
    if not args.no_ceiling and not args.only_rates:
        ceiling = measure_ceiling(args, results, log)
    print_report(results, ceiling, args, fs_type)
    log('\n(total %.0f s)' % (time.monotonic() - t0))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'results': _strip(results), 'ceiling': _strip([ceiling])[0]
                   if ceiling else None, 'args': vars(args), 'fs': fs_type}, f, indent=1)
    return 0 if all('error' not in r for r in results) else 1


def measure_ceiling(args, results, log):
    """perfdhcp's approximate ceiling: the best of the no-durability configurations."""
    cands = [Server('kea-nopersist', 'Kea persist=false', 'kea', persist=False)]
    pl = [r for r in results if r['server'] == 'paceless' and 'error' not in r]
    if pl and os.path.isdir('/dev/shm'):
        cands.append(Server('paceless-tmpfs', 'paceless, lease file on tmpfs', 'paceless',
                    lease_parent='/dev/shm'))
    best = None
    for s in cands:
        log('== ceiling candidate %s: %s' % (s.name, s.label))
        sub = argparse.Namespace(**vars(args))
        sub.runs = 1  # one confirmation run is enough for an approximate ceiling
        r = measure(s, sub, log)
        if r.get('max_rate') and (best is None or r['max_rate'] > best['max_rate']):
            best = r
    return best


def _strip(results):
    return [{k: v for k, v in r.items() if not k.startswith('lat_') or not isinstance(v, list)}
        for r in results if r]


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    sys.exit(main())
