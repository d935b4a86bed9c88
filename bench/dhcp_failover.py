#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""DHCP failover pairs side by side: a paceless-dhcpd pair against an ISC dhcpd 4.4 pair (issue 4).

Every pair runs in a fresh lab (tests/system/lab.py, one bridge): 'primary' 192.0.2.1 and
'secondary' 192.0.2.2 run the two servers of the pair with the *same* dhcpd.conf text for ISC
and paceless (one text per role: failover peer with split 128, `load balance max seconds`,
max-response-delay, a modest MCLT; `dhcp-cache-threshold 0; ping-check false;`), and one
shared network of the three TEST-NET /24s with a failover pool in each (723 addresses).
Both servers start with empty lease files, so both begin in RECOVER and reach NORMAL without
ISC's MCLT wait (reference §9.1); a pair is used once it is normal and each server has ACKed
a client of its own hash bucket (so the pool balance has given the secondary its BACKUP
addresses). Traffic stays inside the lab's namespaces, on TEST-NET addresses.

1. Throughput (perfdhcp, dhcp_dora.py's measurement imported as is: flood, search for the
   highest -r with < --loss-max % loss, confirmation runs, latency at half that rate and at
   --latency-rates). perfdhcp acts as a relay (giaddr = its address, 192.0.2.3), reuses
   --clients client MACs (-M list, the same list for both pairs), and reaches the pair in one
   of two ways (--feeds, both by default, each printed with its own ratio):

   relay  perfdhcp sends every DISCOVER and REQUEST to the LAN broadcast address (-B), so both
          servers receive every packet, as they do behind a relay agent configured with both
          servers (the normal failover deployment). Each DISCOVER is answered by the server
          its RFC 3074 bucket names (perfdhcp's secs is 0, below `load balance max seconds`),
          so nothing is lost by design: a drop is a real loss. The REQUEST names the server
          that OFFERed; the other server sees it too, and what it does with it is part of
          the measure (ISC 4.4 without `server-id-check`, its default, ACKs a REQUEST naming
          its peer when it knows the lease, so an ISC pair often ACKs twice and duels over
          the binding update; paceless ignores a REQUEST for another server, as RFC 2131
          says; perfdhcp counts a second ACK as an orphan, not a loss).
   split  two perfdhcp processes (192.0.2.3 and .4), each unicasting to one server with the
          clients of that server's hash bucket only (-M lists split by the RFC 3074 hash of
          what perfdhcp sends: option 61 = 01 + MAC, hashed whole as ISC does): each server
          sees only its own half, as behind a relay that load-balances perfectly. Rates and
          counts are the sum of the two; -r is halved for each.

   The relay feed is the honest picture of a pair in service; split shows what the two
   servers can do when neither has to read and drop its partner's half. Both pairs are
   measured the same way in the same run, and the ratio paceless/ISC is printed for each.
   After the runs both servers' lease DBs are compared (failover_util's checker): an
   address active for two clients, or DBs that disagree once the updates have drained,
   is reported (paceless from `lease-list`, ISC from its lease file).

2. Takeover: with the pair normal, one server (--victim, primary by default) gets SIGKILL
   (a crash: its TCP link drops at once) or SIGSTOP (frozen: the link stays up and only
   max-response-delay tells); a crafted client ('cli' namespace, Probe from dhcp_util) with
   a fresh MAC of the victim's hash bucket broadcasts DISCOVER every --retry-ms with secs 0
   (so `load balance max seconds` never lets the survivor answer early: what is measured is
   the survivor's failover state change), REQUESTs the survivor's OFFER, and the time from
   the signal to the survivor's ACK is the takeover time. The signal comes --settle s (plus
   0-2 s at random, so that it falls anywhere in the keep-alive and timer cycles) after the
   pair serves. Median (and worst) of --takeover-runs, each in a fresh pair. Target (issue
   4): at most max-response-delay + 1 s.

Figures are noisy on the 2 shared cores (perfdhcp, two servers and the failover links share
them): use the medians and above all the ratios of one run; --quick is for checking the
script. Kea HA is not measured (optional in issue 4). Run as root:
sudo /usr/bin/python3 bench/dhcp_failover.py [--quick].
"""

import argparse
import collections
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, 'tests', 'system'))
sys.path.insert(0, os.path.join(REPO, 'bench'))
import dhcp_dora as dora  # noqa: E402  (perfdhcp runs, parsing, search, the measurement)
import dhcp_util  # noqa: E402
import failover_util as fo  # noqa: E402  (FoServer, the RFC 3074 hash, the lease checker)
from lab import Lab  # noqa: E402

PD_ADDRS = ('192.0.2.3', '192.0.2.4')   # perfdhcp hosts (relays); servers are fo.ADDR
BCAST = '255.255.255.255'
ROLES = fo.ROLES
OTHER = {'primary': 'secondary', 'secondary': 'primary'}
KINDS = {'isc': 'ISC dhcpd 4.4 pair', 'paceless': 'paceless-dhcpd pair'}
# Log lines every DORA writes: left out of the log digest, which looks for the unusual.
# Log lines every DORA or every start writes: left out of the log digest, which looks for the
# unusual (state moves are left out too: the takeover figures show them).
_ROUTINE = re.compile(r'DHCP(DISCOVER|OFFER|REQUEST|ACK|INFORM) |load balance to peer|'
                      r'Sending on|Listening on|lease records, \d+ addresses|starting from no '
                      r'state|serving, \d+ leases|Internet Systems Consortium|Copyright|'
                      r'All rights reserved|For info, please|Config file:|Database file:|'
                      r'PID file:|Wrote \d+ leases|Server starting service|I move from|'
                      r'peer moves from|link \d+ is up|Both servers normal|'
                      r'balanc|update request|Update request all|full update|'
                      r'Sent update request|Sent update done|Update done|^\S+ -f -d |'
                      r'received signal 15|entered recover-done|peer update completed|'
                      r'Sending updates to')


def fo_conf(role, args):
    """dhcpd.conf of one server of the pair: the same text for ISC dhcpd and paceless-dhcpd."""
    me, peer = fo.ADDR[role], fo.ADDR[OTHER[role]]
    lines = [
        '# paceless bench/dhcp_failover.py: identical for ISC dhcpd and paceless-dhcpd (%s).'
        % role,
        'authoritative;',
        'ddns-update-style none;',
        'default-lease-time 3600;',
        'max-lease-time 7200;',
        '# as in dhcp_dora.py: a lease write for every ACK, no ICMP probe of new addresses.',
        'dhcp-cache-threshold 0;',
        'ping-check false;',
        'failover peer "%s" {' % fo.PEER,
        '    %s;' % role,
        '    address %s;' % me,
        '    port %d;' % fo.FO_PORT,
        '    peer address %s;' % peer,
        '    peer port %d;' % fo.FO_PORT,
        '    max-response-delay %d;' % args.mrd,
        '    max-unacked-updates %d;' % args.max_unacked,
        '    load balance max seconds %d;' % args.lbms,
    ]
    if role == 'primary':
        lines += ['    mclt %d;' % args.mclt, '    split 128;']
    lines += ['}', 'shared-network lab {']
    for s in dora.SUBNETS:
        lines.append('    subnet %s.0 netmask 255.255.255.0 {' % s)
        lines.append('        pool { failover peer "%s"; range %s.10 %s.250; }' % (fo.PEER, s, s))
        lines.append('    }')
    lines.append('}')
    return '\n'.join(lines) + '\n'


def perfdhcp_role(mac):
    """The server whose bucket a perfdhcp client is in: perfdhcp sends option 61 = 01 + MAC,
    and the hash covers the whole option value (reference §6)."""
    key = b'\x01' + bytes.fromhex(mac.replace(':', ''))
    return 'primary' if fo.fo_bucket(key) < 128 else 'secondary'


class Macs:
    """Client MACs, each of a known hash bucket (RFC 3074, split 128 as configured)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.n = 0

    def take(self, count, role=None):
        out = []
        while len(out) < count:
            self.n += 1
            mac = '%s:%02x:%02x:%02x' % (self.prefix, (self.n >> 16) & 0xff,
                                         (self.n >> 8) & 0xff, self.n & 0xff)
            if role is None or fo.hash_role(mac) == role:
                out.append(mac)
        return out


# --- a pair in a lab --------------------------------------------------------------------------

class PairLab:
    """A fresh lab with the two servers of kind `kind`, a client host and perfdhcp hosts."""

    def __init__(self, kind, args, log):
        self.kind = kind
        self.args = args
        self.log = log
        self.dir = tempfile.mkdtemp(prefix='fo-%s-' % kind, dir=args.workdir)
        self.lab = Lab()
        self.servers = {}
        self.name = kind  # dhcp_dora's _measure_running names the server in its messages
        try:
            for role in ROLES:
                h = self.lab.host(role, addrs=(fo.ADDR[role] + '/24',))
                self.servers[role] = fo.FoServer(kind, role, h, self.dir)
            self.cli = self.lab.host('cli', addrs=())
            self.pd = [self.lab.host('pd%d' % i, addrs=(a + '/24',))
                       for i, a in enumerate(PD_ADDRS)]
        except BaseException:
            self.close()
            raise
        self.macs = Macs('02:fb:%02x' % (os.getpid() & 0xff))

    # what dhcp_dora's _measure_running wants of a server process: pid, poll, returncode
    @property
    def pid(self):
        return self.servers['primary'].srv.proc.pid

    @property
    def returncode(self):
        rcs = ['%s %s' % (r, s.srv.proc.returncode) for r, s in self.servers.items()
               if s.srv.proc is not None and s.srv.proc.poll() is not None]
        return ', '.join(rcs) or None

    def poll(self):
        return self.returncode

    def start(self):
        """Starts both servers; returns seconds until the pair serves (see wait_serving)."""
        t0 = time.monotonic()
        for role in ROLES:
            self.servers[role].srv.start(fo_conf(role, self.args), timeout=30)
        self.wait_serving(self.args.ready_timeout)
        return time.monotonic() - t0

    def states(self):
        out = {}
        for r, s in self.servers.items():
            try:
                out[r] = s.state() if s.running() else {'my_state': 'not running'}
            except (OSError, dhcp_util.ServerError, ValueError, KeyError, IndexError) as e:
                out[r] = {'my_state': 'unknown (%s)' % e}
        return out

    def normal(self):
        st = self.states()
        return all(x.get('my_state') == 'normal' and x.get('partner_state') == 'normal'
                   for x in st.values())

    def wait_serving(self, timeout):
        """Both normal, then a fresh client of each hash bucket ACKed by its own server."""
        deadline = time.monotonic() + timeout
        while not self.normal():
            if time.monotonic() > deadline:
                raise RuntimeError('%s pair not normal after %ds: %s' % (
                    self.kind, timeout, self.states()))
            for s in self.servers.values():
                if not s.running():
                    raise RuntimeError('%s %s exited: %s' % (
                        self.kind, s.role, s.srv.log()[-1500:]))
            time.sleep(0.1)
        with dhcp_util.Probe(self.cli) as probe:
            for role in ROLES:
                while True:
                    mac = self.macs.take(1, role)[0]
                    ack = probe.dora(mac, timeout=1, tries=1)
                    if ack is not None and ack['type'] == dhcp_util.ACK and \
                            ack['server_id'] == fo.ADDR[role]:
                        break
                    if time.monotonic() > deadline:
                        raise RuntimeError('%s pair normal, but the %s does not serve its '
                                           'bucket (last reply %s)' % (self.kind, role, ack))
                    time.sleep(0.2)

    def close(self):
        for s in self.servers.values():
            if s.frozen and s.running():
                s.thaw()
        self.lab.close()

    def cleanup(self, keep):
        if keep:
            self.log('  kept %s' % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# --- perfdhcp against a pair ------------------------------------------------------------------

class Feed:
    """Stands for dhcp_dora's perfdhcp host: takes the perfdhcp command line that
    dhcp_dora.run_perfdhcp builds for a single server and runs it against the pair (see the
    module docstring): relay = one perfdhcp, broadcast; split = one perfdhcp per server with
    that server's clients, results merged into one perfdhcp report."""

    def __init__(self, mode, pair, macs, workdir):
        self.mode = mode
        self.pair = pair
        self.files = {}
        for key, lst in (('all', macs),
                         ('primary', [m for m in macs if perfdhcp_role(m) == 'primary']),
                         ('secondary', [m for m in macs
                                        if perfdhcp_role(m) == 'secondary'])):
            path = os.path.join(workdir, 'macs-%s.txt' % key)
            with open(path, 'w') as f:
                f.write('\n'.join(lst) + '\n')
            self.files[key] = path

    @staticmethod
    def _strip(argv):
        """argv without the server address and -R (the clients come from -M lists)."""
        argv = list(argv[:-1])
        if '-R' in argv:
            i = argv.index('-R')
            del argv[i:i + 2]
        return argv

    def run(self, argv, check=False, timeout=30, stdout=None, stderr=None, **kw):
        base = self._strip(argv)
        if self.mode == 'relay':
            return self.pair.pd[0].run(base + ['-B', '-M', self.files['all'], BCAST],
                                       check=False, timeout=timeout, stdout=stdout,
                                       stderr=stderr)
        # split: one perfdhcp per server, in parallel, each with half the rate (or count).
        outs, rcs, threads = {}, {}, []
        for i, role in enumerate(ROLES):
            a = list(base)
            for opt in ('-r', '-n'):
                if opt in a:
                    j = a.index(opt) + 1
                    v = int(a[j])
                    a[j] = str(max(1, v // 2 if i == 0 else v - v // 2))
            a += ['-M', self.files[role], fo.ADDR[role]]

            def one(role=role, a=a, host=self.pair.pd[i]):
                with tempfile.TemporaryFile('w+') as f:
                    p = host.run(a, check=False, timeout=timeout, stdout=f,
                                 stderr=subprocess.STDOUT)
                    f.seek(0)
                    outs[role], rcs[role] = f.read(), p.returncode
            t = threading.Thread(target=one)
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        rc = 0
        for role in ROLES:
            if rcs.get(role) not in (0, 3):
                rc = rcs.get(role, 1)
                break
            if rcs[role] == 3:
                rc = 3
        text = merge_perfdhcp([outs.get(r, '') for r in ROLES])
        if rc not in (0, 3):
            text += '\n'.join('== %s:\n%s' % (r, outs.get(r, '')[-600:]) for r in ROLES)
        if stdout is not None:
            stdout.write(text)
        return subprocess.CompletedProcess(argv, rc)


def merge_perfdhcp(texts):
    """One perfdhcp-style report (what dhcp_dora.parse_perfdhcp reads) from several runs."""
    parsed = [dora.parse_perfdhcp(t) for t in texts]
    out = ['Rate: %f 4-way exchanges/second' % sum(p['rate'] for p in parsed)]
    for key, name in (('do', 'DISCOVER-OFFER'), ('ra', 'REQUEST-ACK')):
        out.append('***Statistics for: %s***' % name)
        sts = [p[key] for p in parsed if p[key]]
        tot = {}
        for k in ('sent packets', 'received packets', 'drops'):
            tot[k] = sum(st.get(k) or 0 for st in sts)
            out.append('%s: %d' % (k, tot[k]))
        mins = [st['min delay'] for st in sts if st.get('min delay') is not None]
        maxs = [st['max delay'] for st in sts if st.get('max delay') is not None]
        avg = sum((st.get('avg delay') or 0) * (st.get('received packets') or 0) for st in sts)
        if mins:
            out.append('min delay: %f' % min(mins))
        if tot['received packets']:
            out.append('avg delay: %f' % (avg / tot['received packets']))
        if maxs:
            out.append('max delay: %f' % max(maxs))
    for key, name in (('do', 'DISCOVER-OFFER'), ('ra', 'REQUEST-ACK')):
        lines = []
        for t in texts:
            parts = dora._TS_RE.split(t)
            for i in range(1, len(parts) - 1, 2):
                if parts[i] == name:
                    lines += [l for l in parts[i + 1].splitlines() if 'sent / received' in l]
        if lines:
            out.append('***Timestamps for packets: %s***' % name)
            out += lines
    return '\n'.join(out) + '\n'


def measure_throughput(kind, feed_mode, args, macs, log):
    """dhcp_dora's figures for one pair and one feed, in a fresh pair; returns a dict."""
    res = {'pair': kind, 'feed': feed_mode, 'label': KINDS[kind]}
    pl = PairLab(kind, args, log)
    try:
        try:
            res['ready_s'] = pl.start()
        except (RuntimeError, AssertionError, dhcp_util.ServerError) as e:
            res['error'] = str(e)
            log('  %s: NOT USABLE: %s' % (kind, str(e).strip()[:800]))
            return res
        log('  pair serving after %.1f s' % res['ready_s'])
        feed = Feed(feed_mode, pl, macs, pl.dir)
        dora._measure_running(pl, feed, pl, args, res, log)
        acks_per_dora(pl, feed, args, res, log)
        res['db_check'] = check_dbs(pl, args)
        log('  lease DBs: %s' % res['db_check']['summary'])
        res['states_after'] = {r: s.get('my_state') for r, s in pl.states().items()}
        res['counters'] = failover_counters(pl)
        res['server_acks'] = server_acks(pl)
    except (RuntimeError, AssertionError, dhcp_util.ServerError, OSError) as e:
        res['error'] = '%s: %s' % (type(e).__name__, e)
        log('  %s: FAILED: %s' % (kind, str(e).strip()[:800]))
    finally:
        res['logs'] = log_digest(pl)  # before the shutdown: its "link is down" is ours
        pl.close()
        pl.cleanup(args.keep)
    return res


def acks_per_dora(pl, feed, args, res, log):
    """DHCPACKs the two servers send per exchange perfdhcp completes, in one run at half
    the pair's max rate (little loss, so late ACKs do not count): 1 when only the server the
    client chose ACKs its REQUEST, up to 2 when both do."""
    rate = max(50, (res.get('search_rate') or 200) // 2)
    before = server_acks(pl)
    r = dora.run_perfdhcp(feed, args, args.latency, rate=rate)
    after = server_acks(pl)
    if r['acks'] and None not in before.values() and None not in after.values():
        res['acks_per_dora'] = (sum(after.values()) - sum(before.values())) / r['acks']
        log('  at -r %d: %.2f DHCPACKs sent per DORA completed (loss %.2f%%)' % (
            rate, res['acks_per_dora'], r['loss_pct']))


def server_acks(pl):
    """{role: DHCPACKs sent}: paceless from its counters, ISC from its log (one line each)."""
    out = {}
    for r, s in pl.servers.items():
        try:
            if pl.kind == 'paceless':
                out[r] = s.srv.ctl('counters').get('sent.DHCPACK')
            else:
                out[r] = len(re.findall(r'\bDHCPACK on ', s.srv.log()))
        except (OSError, dhcp_util.ServerError, ValueError):
            out[r] = None
    return out


def failover_counters(pl):
    """paceless: the failover-state counters of both servers (ISC has no such view)."""
    if pl.kind != 'paceless':
        return None
    out = {}
    for r, s in pl.servers.items():
        try:
            st = s.state()
            out[r] = {k: st.get(k) for k in ('bndupd_sent', 'bndupd_received', 'rejects_sent',
                                              'rejects_received', 'updates_queued',
                                              'updates_in_flight', 'acks_dropped')}
        except (OSError, dhcp_util.ServerError, ValueError, KeyError, IndexError):
            pass
    return out


def check_dbs(pl, args):
    """Waits (--drain-timeout) for both lease DBs to agree, then runs failover_util's
    checker over them: no address active for two clients, and (converged) the two DBs agree
    on every active lease. Returns {'problems': [...], 'summary': str}."""
    deadline = time.monotonic() + args.drain_timeout
    problems, active = [], 0
    while True:
        dbs = {}
        for r, s in pl.servers.items():
            dbs['%s %s' % (s.kind, r)] = (s.live(), s.leases())
        snap = fo.Snapshot(time.time(), {}, dbs)
        problems = fo.check_snapshot(snap, converged=True)
        active = {n: sum(1 for x in db.values() if x.state == 'active')
                  for n, (live, db) in dbs.items()}
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    summary = 'active %s; %s' % (', '.join('%s %d' % kv for kv in sorted(active.items())),
                                 'agree, no address active for two clients' if not problems
                                 else '%d PROBLEMS, e.g. %s' % (len(problems), problems[0]))
    return {'problems': problems[:50], 'n_problems': len(problems), 'active': active,
            'summary': summary}


def log_digest(pl, top=20):
    """The most frequent unusual log lines of each server, as {role: [[count, key,
    example line], ...]}: lines are counted by key (the line with addresses, MACs and numbers
    folded); per-packet DHCP lines and start-up lines are left out."""
    out = {}
    for role, s in pl.servers.items():
        try:
            text = s.srv.log()
        except OSError:
            continue
        c = collections.Counter()
        example = {}
        for line in text.splitlines():
            if _ROUTINE.search(line) or line.startswith('===='):
                continue
            key = re.sub(r'([0-9a-f]{1,2}:){5,6}[0-9a-f]{1,2}|\d+\.\d+\.\d+\.\d+|\d+', 'N',
                         line)[:160]
            c[key] += 1
            example.setdefault(key, line[:200])
        out[role] = [[n, k, example[k]] for k, n in c.most_common(top)]
    return out


# --- takeover ---------------------------------------------------------------------------------

def measure_takeover(kind, how, run, args, log):
    """One takeover: SIGKILL or SIGSTOP the victim of a fresh normal pair, then a client of
    its hash bucket until the survivor ACKs; returns a dict (seconds from the signal)."""
    victim_role = args.victim
    surv_role = OTHER[victim_role]
    res = {'pair': kind, 'how': how, 'run': run, 'victim': victim_role}
    pl = PairLab(kind, args, log)
    try:
        res['ready_s'] = pl.start()
        victim = pl.servers[victim_role]
        mac = pl.macs.take(1, victim_role)[0]
        sid_surv = fo.ADDR[surv_role]
        limit = args.mrd + args.takeover_timeout
        with dhcp_util.Probe(pl.cli) as probe:
            # Let the link settle into its keep-alive rhythm, as in service, and signal at a
            # random point of the keep-alive and timer cycles (second-grained on both sides).
            res['settle_s'] = args.settle + random.uniform(0, 2.0)
            time.sleep(res['settle_s'])
            t0 = time.monotonic()
            if how == 'kill':
                victim.kill()
            else:
                victim.freeze()
            t_offer = t_ack = None
            rxid = None
            offer = None
            next_send = t0
            while time.monotonic() - t0 < limit:
                now = time.monotonic()
                if now >= next_send:
                    if offer is None:
                        probe.send(dhcp_util.DISCOVER, probe.next_xid(), mac)
                    else:
                        rxid = probe.next_xid()
                        probe.send(dhcp_util.REQUEST, rxid, mac, [
                            (dhcp_util.OPT_REQUESTED_ADDR, dhcp_util.ip_bytes(offer['yiaddr'])),
                            (dhcp_util.OPT_SERVER_ID, dhcp_util.ip_bytes(sid_surv))])
                    next_send = now + args.retry_ms / 1000.0
                p = probe.recv(max(0.0, min(next_send, t0 + limit) - time.monotonic()))
                if p is None or p['chaddr'] != mac:
                    continue
                if p['type'] == dhcp_util.OFFER and offer is None and p['server_id'] == sid_surv:
                    t_offer = time.monotonic() - t0
                    offer = p
                    next_send = time.monotonic()  # REQUEST at once
                elif p['type'] == dhcp_util.ACK and p['xid'] == rxid and \
                        p['server_id'] == sid_surv:
                    t_ack = time.monotonic() - t0
                    break
                elif p['type'] == dhcp_util.NAK:
                    offer = None
                    next_send = time.monotonic()
                elif p['server_id'] == fo.ADDR[victim_role]:
                    res['victim_answered'] = True  # it should be dead or frozen
        res['offer_s'], res['ack_s'] = t_offer, t_ack
        res['survivor_state'] = pl.states()[surv_role].get('my_state')
        if t_ack is None:
            res['timeout_s'] = limit
        log('  %s %s run %d: %s the %s; survivor OFFER %s, ACK %s (survivor now %s)' % (
            kind, how, run + 1, 'SIGKILL' if how == 'kill' else 'SIGSTOP', victim_role,
            _s(t_offer), _s(t_ack) if t_ack is not None else '>%.0f s' % limit,
            res['survivor_state']))
    except (RuntimeError, AssertionError, dhcp_util.ServerError, OSError) as e:
        res['error'] = '%s: %s' % (type(e).__name__, e)
        log('  %s %s run %d: FAILED: %s' % (kind, how, run + 1, str(e).strip()[:800]))
    finally:
        res['logs'] = log_digest(pl)
        pl.close()  # SIGCONT for a frozen server, then the lab stops everything
        pl.cleanup(args.keep)
    return res


def _s(v):
    return '-' if v is None else '%.2f s' % v


# --- report -----------------------------------------------------------------------------------

def summarize_takeovers(runs):
    """(kind, how) -> {'median': s or None, 'n': ok runs, 'failed': runs with no ACK}."""
    out = {}
    for r in runs:
        d = out.setdefault((r['pair'], r['how']), {'acks': [], 'failed': 0})
        if r.get('ack_s') is not None:
            d['acks'].append(r['ack_s'])
        else:
            d['failed'] += 1
    for d in out.values():
        d['median'] = statistics.median(d['acks']) if d['acks'] else None
        d['max'] = max(d['acks']) if d['acks'] else None
    return out


def print_report(tput, takeovers, args):
    print()
    print('Failover pairs: %d clients over %d addresses (split 128: about half each), '
          'loss limit %.1f%%, max-response-delay %d s, mclt %d s, load balance max seconds %d'
          % (args.clients, dora.POOL_ADDRS, args.loss_max, args.mrd, args.mclt, args.lbms))
    print('NOISY: 2 shared cores run perfdhcp and both servers; other work moves figures by '
          '2x. Compare the ratios of one run; --quick is a smoke run, not a claim.')
    for feed in args.feeds:
        rows = [r for r in tput if r['feed'] == feed]
        if not rows:
            continue
        print()
        print('feed %s: %s' % (feed, 'perfdhcp broadcasts, both servers see every packet'
                               if feed == 'relay' else
                               'one perfdhcp per server, each with its own bucket\'s clients'))
        hdr = '%-10s %10s %7s %10s %7s %9s %9s %9s %9s %9s  %s' % (
            'pair', 'max DORA/s', 'loss%', 'flood/s', 'loss%', 'ACK p50', 'ACK p99',
            'OFFER p50', 'OFFER p99', 'ACKs/DORA', 'lease DBs after')
        print(hdr)
        print('-' * len(hdr))
        for r in rows:
            if 'max_rate' not in r and 'flood_rate' not in r:
                print('%-10s NOT USABLE: %s' % (r['pair'],
                                                r.get('error', '?').splitlines()[0][:90]))
                continue
            db = r.get('db_check') or {}
            dbs = '-' if not db else ('ok' if not db.get('n_problems') else
                                      '%d problems' % db['n_problems'])
            print('%-10s %10s %7s %10s %7s %9s %9s %9s %9s %9s  %s' % (
                r['pair'], dora._f(r.get('max_rate')) + ('*' if r.get('max_unconfirmed') else ''),
                dora._f(r.get('max_loss_pct'), '%.2f'),
                dora._f(r.get('flood_rate')), dora._f(r.get('flood_loss_pct'), '%.1f'),
                dora._f(r.get('lat_ra_p50'), '%.3f'), dora._f(r.get('lat_ra_p99'), '%.3f'),
                dora._f(r.get('lat_do_p50'), '%.3f'), dora._f(r.get('lat_do_p99'), '%.3f'),
                dora._f(r.get('acks_per_dora'), '%.2f'), dbs))
            if r.get('error'):
                print('%-10s   error: %s' % ('', r['error'].splitlines()[0][:100]))
            st = r.get('states_after') or {}
            if st and set(st.values()) != {'normal'}:
                print('%-10s   NOT NORMAL after the load: %s' % ('', st))
        print('(latencies in ms at half the max rate; ACKs/DORA = DHCPACKs both servers sent per '
              'DORA perfdhcp completed, at half the max rate: 1 when only the chosen server '
              'ACKs, 2 when both do)')
        for rate in args.latency_rates:
            cells = []
            for r in rows:
                v = (r.get('at_rates') or {}).get(rate)
                if v:
                    cells.append('%s ACK p50 %s p99 %s ms, loss %.2f%%' % (
                        r['pair'], dora._f(v['ack_p50'], '%.3f'), dora._f(v['ack_p99'], '%.3f'),
                        v['loss_pct']))
            if cells:
                print('at -r %d (same for both): %s' % (rate, '; '.join(cells)))
        by = {r['pair']: r for r in rows}
        pl, isc = by.get('paceless'), by.get('isc')
        if pl and isc:
            for key, what in (('max_rate', 'max sustained DORA/s'),
                              ('flood_rate', 'flood DORA/s')):
                a, b = pl.get(key), isc.get(key)
                if a and b:
                    print('ratio paceless/isc  %-22s %6.2fx  (target >= 5x)' % (what, a / b)
                          if key == 'max_rate' else
                          'ratio paceless/isc  %-22s %6.2fx' % (what, a / b))
            a, b = pl.get('lat_ra_p99'), isc.get('lat_ra_p99')
            if a and b:
                print('ratio paceless/isc  %-22s %6.2fx (lower is better; each at half its '
                      'own max)' % ('ACK p99 latency', a / b))
        for r in rows:
            if r.get('flood_rate') is not None and r.get('max_rate'):
                collapsed = r['flood_rate'] < 0.5 * r['max_rate']
                print('%-10s flood/max %.2f%s' % (r['pair'], r['flood_rate'] / r['max_rate'],
                                                  '  COLLAPSE under flood' if collapsed else ''))
    if takeovers:
        s = summarize_takeovers(takeovers)
        target = args.mrd + 1
        print()
        print('Takeover: signal to the victim (the %s) -> first ACK by the survivor to a new '
              'client of the victim\'s bucket (s; median and max of %d; target <= '
              'max-response-delay + 1 = %d s)' % (args.victim, args.takeover_runs, target))
        hdr = '%-10s %24s %24s' % ('pair', 'SIGKILL', 'SIGSTOP (frozen)')
        print(hdr)
        print('-' * len(hdr))
        for kind in args.pairs:
            cells = []
            for how in args.takeover:
                d = s.get((kind, how))
                if not d:
                    cells.append('-')
                    continue
                c = dora._f(d['median'], '%.2f')
                if len(d['acks']) > 1:
                    c += ' (max %.2f)' % d['max']
                if d['failed']:
                    c += ' (%d no ACK)' % d['failed']
                if d['max'] is not None and d['max'] > target:
                    c += ' !'
                cells.append(c)
            cells += ['-'] * (2 - len(cells))
            print('%-10s %24s %24s' % (kind, cells[0], cells[1]))
        print('(! = a run over the target; runs with no ACK within max-response-delay + %d s are '
              'left out of the median and counted)' % args.takeover_timeout)
        for how in args.takeover:
            a, b = s.get(('paceless', how)), s.get(('isc', how))
            if a and b and a['median'] and b['median']:
                print('ratio paceless/isc  takeover %-8s %6.2fx (lower is better)' % (
                    'SIGKILL' if how == 'kill' else 'SIGSTOP', a['median'] / b['median']))
    print()
    print('Unusual server log lines (most frequent first; counts summed over the runs of a '
          'phase; --log-lines per server):')
    groups = collections.OrderedDict()
    for r in list(tput) + list(takeovers):
        what = ('throughput, feed %s' % r['feed']) if 'feed' in r else 'takeover %s' % r['how']
        for role, lines in (r.get('logs') or {}).items():
            g = groups.setdefault((r['pair'], role, what), collections.OrderedDict())
            for n, key, example in lines:
                if key in g:
                    g[key][0] += n
                else:
                    g[key] = [n, example]
    for (pair, role, what), g in groups.items():
        shown = sorted(g.values(), key=lambda x: -x[0])[:args.log_lines]
        if shown:
            print('  %s %s, %s:' % (pair, role, what))
            for n, line in shown:
                print('    %6d x %s' % (n, line))


def parse_args(argv):
    """This script's options, plus dhcp_dora.py's measurement options (parsed by it, with
    --clients 500 and --latency-rates 400 as defaults here)."""
    ap = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        epilog='dhcp_dora.py\'s measurement options apply too (see its --help): --clients '
               '(500 here), --flood, --probe, --confirm, --latency, --runs, --latency-rates '
               '(400 here), --loss-max, --search-start, --perfdhcp-threads.')
    ap.add_argument('--quick', action='store_true', help='smoke run: a few minutes')
    ap.add_argument('--pairs', default='isc,paceless', help='comma list of isc, paceless')
    ap.add_argument('--feeds', default='relay,split',
                    help='how perfdhcp reaches the pair: relay (broadcast to both), split '
                         '(one perfdhcp per server); comma list')
    ap.add_argument('--takeover', default='kill,stop',
                    help='takeover cases: kill (SIGKILL), stop (SIGSTOP); empty to skip')
    ap.add_argument('--no-throughput', action='store_true', help='takeover only')
    ap.add_argument('--paceless-build', default=os.environ.get('PACELESS_BUILD') or
                    os.path.join(REPO, 'build'),
                    help='meson build dir with src/dhcp/paceless-dhcpd ($PACELESS_BUILD, '
                         'else build/)')
    ap.add_argument('--mrd', type=int, default=5, help='max-response-delay (s)')
    ap.add_argument('--mclt', type=int, default=60, help='mclt (s)')
    ap.add_argument('--lbms', type=int, default=3, help='load balance max seconds')
    ap.add_argument('--max-unacked', type=int, default=10, help='max-unacked-updates')
    ap.add_argument('--victim', choices=ROLES, default='primary',
                    help='the server killed or frozen in the takeover runs')
    ap.add_argument('--takeover-runs', type=int, default=3, help='runs per takeover case')
    ap.add_argument('--takeover-timeout', type=int, default=10,
                    help='give up this long after max-response-delay')
    ap.add_argument('--retry-ms', type=int, default=100,
                    help='the takeover client retransmits this often')
    ap.add_argument('--settle', type=float, default=1.0,
                    help='seconds between the pair serving and the signal (plus 0-2 s at '
                         'random)')
    ap.add_argument('--drain-timeout', type=float, default=20.0,
                    help='how long the lease DBs may take to agree after the load')
    ap.add_argument('--ready-timeout', type=float, default=60.0)
    ap.add_argument('--workdir', default='/var/tmp',
                    help='parent of the run dirs and lease files (a disk: fsync costs '
                         'what it costs)')
    ap.add_argument('--json', help='results file (default $BENCH_OUT or /var/tmp, '
                    'bench-failover-STAMP.json)')
    ap.add_argument('--log-lines', type=int, default=4,
                    help='unusual log lines shown per server and phase')
    ap.add_argument('--keep', action='store_true', help='keep work dirs (configs, logs, leases)')
    mine, rest = ap.parse_known_args(argv)
    args = dora.parse_args(['--clients', '500', '--latency-rates', '400'] + rest +
                           (['--quick'] if mine.quick else []))
    for k, v in vars(mine).items():
        setattr(args, k, v)
    args.pairs = [x.strip() for x in args.pairs.split(',') if x.strip()]
    args.feeds = [x.strip() for x in args.feeds.split(',') if x.strip()]
    args.takeover = [x.strip() for x in args.takeover.split(',') if x.strip()]
    for v, ok, what in ((args.pairs, KINDS, 'pair'), (args.feeds, ('relay', 'split'), 'feed'),
                        (args.takeover, ('kill', 'stop'), 'takeover case')):
        for x in v:
            if x not in ok:
                ap.error('unknown %s %r' % (what, x))
    if args.quick:
        args.takeover_runs = 1
    if args.clients >= dora.POOL_ADDRS * 0.8:
        ap.error('--clients must stay well below the %d pool addresses' % dora.POOL_ADDRS)
    args.count_syncs = False  # dhcp_dora's perf counter follows one process, not a pair
    return args


def main(argv=None):
    args = parse_args(argv)
    if os.geteuid() != 0:
        sys.exit('dhcp_failover.py needs root (network namespaces)')
    os.environ['PACELESS_BUILD'] = os.path.abspath(args.paceless_build)
    for tool in (dora.PERFDHCP, dora.ISC_DHCPD):
        if not os.path.exists(tool):
            sys.exit('%s missing: apt-get install kea-admin isc-dhcp-server' % tool)
    if 'paceless' in args.pairs and not os.access(dhcp_util.paceless_dhcpd(), os.X_OK):
        sys.exit('%s not built (--paceless-build)' % dhcp_util.paceless_dhcpd())
    Lab.sweep_stale()
    out = args.json or os.path.join(os.environ.get('BENCH_OUT', '/var/tmp'),
                                     'bench-failover-%s.json' %
                                     time.strftime('%Y%m%dT%H%M%SZ', time.gmtime()))

    def log(msg):
        print(msg, flush=True)

    t0 = time.monotonic()
    log('== machine: %d CPUs, load %s; paceless-dhcpd %s' % (
        os.cpu_count(), ' '.join(open('/proc/loadavg').read().split()[:3]),
        dhcp_util.paceless_dhcpd()))
    macs = Macs('02:fc:00').take(args.clients)
    tput, takeovers = [], []
    if not args.no_throughput:
        for feed in args.feeds:
            for kind in args.pairs:
                log('== throughput, feed %s: %s' % (feed, KINDS[kind]))
                tput.append(measure_throughput(kind, feed, args, macs, log))
    for how in args.takeover:
        for kind in args.pairs:
            log('== takeover (%s the %s): %s' % ('SIGKILL' if how == 'kill' else 'SIGSTOP',
                                                args.victim, KINDS[kind]))
            for run in range(args.takeover_runs):
                takeovers.append(measure_takeover(kind, how, run, args, log))
    print_report(tput, takeovers, args)
    log('\n(total %.0f s)' % (time.monotonic() - t0))
    summary = {'%s/%s' % k: v for k, v in summarize_takeovers(takeovers).items()}
    with open(out, 'w') as f:
        json.dump({'throughput': dora._strip(tput), 'takeover': takeovers,
                   'takeover_summary': summary, 'args': vars(args)}, f, indent=1, default=str)
    log('results (JSON): %s' % out)
    bad = [r for r in tput if 'error' in r] + [r for r in takeovers if 'error' in r]
    return 1 if bad else 0


if __name__ == '__main__':
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    sys.exit(main())
