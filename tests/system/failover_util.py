# SPDX-License-Identifier: MPL-2.0
"""A DHCP failover pair in the netns lab, real clients, and the address checker (issue 4).

    pair = Pair(lab, artifacts, 'paceless', 'isc')     # primary kind, secondary kind
    pair.start()                                       # both servers; then
    pair.wait_normal()                                 # both say normal (ISC: log, paceless: ctl)
    clients = pair.clients(4)                          # dhclient, one namespace each
    ...
    pair.check()                                       # the checker, on a fresh snapshot
    pair.check(converged=True)                         # + both DBs agree on every active lease

Lab: one bridge; hosts 'primary' 192.0.2.1/24 and 'secondary' 192.0.2.2/24, clients 'c<i>' with
no address (dhclient puts the leased one on eth0), and 'filler' for crafted clients (Probe) that
take many addresses at once to exhaust a server's own free pool.

FoServer wraps dhcp_util.Server with what failover tests need, the same for both kinds:
    state()          {'my_state', 'partner_state'}: paceless from `failover-state` on the
                     control socket; ISC from its log ("I move from X to Y", "peer moves ...").
    leases()         address -> Rec(state, hardware, ends, tsfp): paceless `lease-list`
                     (the lease file when it cannot answer: dead or frozen), ISC dhcpd.leases.
    partner_down()   pacelessctl failover-partner-down peer=NAME / ISC omshell
                     `set local-state = 4` (4 = partner-down in dhcpd(8); 1 is startup).
    history()        the states it went through since its last start.
    kill() freeze() thaw() restart()
Pair.partition() / heal(): bridge port isolation of the two servers' switch ports: nothing
passes between them (a cable cut: no RST, no ICMP), clients still reach both.

The checker (check_snapshot, a plain function over a Snapshot) asserts:
  1. no address is configured on two clients at once;
  2. no address is active (binding active, ends in the future) for two different clients in
     the servers' DBs, in one DB or across the two;
  3. every client's current address is active for that client in at least one live server's DB;
  4. converged=True (normal+normal, updates drained): both DBs agree on every active lease
     (same client, same binding state).
"""

import calendar
import collections
import hashlib
import ipaddress
import json
import os
import re
import signal
import subprocess
import time

import dhcp_util
from dhcp_util import REPO, Dhclient, Probe, Server, ServerError, lease_map
from lab import IP, wait_for

PEER = 'pl-fo'
FO_PORT = 647
OMAPI_PORT = 7911
ADDR = {'primary': '192.0.2.1', 'secondary': '192.0.2.2'}
ROLES = ('primary', 'secondary')
FIRST, LAST = '192.0.2.100', '192.0.2.139'  # 40 addresses in one failover pool
MCLT_S = 15
LEASE_S = 30           # default-lease-time: > MCLT, so MCLT limits show; T2 = 26 s
MRD_S = 5              # max-response-delay: a frozen peer is seen within 5 s
LBMS_S = 3             # load balance max seconds
GRACE_S = 2            # clock/lease-file slack in the checker

# ---------------------------------------------------------------------------------------------
# RFC 3074 load-balancing hash (ISC's loadb_p_hash), to know which server should answer.

def _mix_table():
    """RFC 3074's mixing table, read from the tree's one copy (src/dhcp/proto/dhcp_fo_hash.c);
    its SHA-256 below is the reference's, so a wrong copy there fails here too."""
    with open(os.path.join(REPO, 'src', 'dhcp', 'proto', 'dhcp_fo_hash.c')) as f:
        src = f.read()
    body = src[src.index('mix[256] = {') + len('mix[256] = {'):]
    return bytes(int(x) for x in body[:body.index('}')].split(',') if x.strip())


_MIX = _mix_table()
assert hashlib.sha256(_MIX).hexdigest() == \
    '50015bcb049a75f57f1224b2d303a4d75485a0de3a772a30e06256daa1c873a7'


def fo_bucket(key):
    """RFC 3074 hash of key (bytes): ISC hashes option 61 if sent, else chaddr (no htype)."""
    h = len(key) & 0xff
    for b in reversed(key):
        h = _MIX[h ^ b]
    return h


def hash_role(mac, split=128):
    """'primary' or 'secondary': who answers a DISCOVER from mac (no client id) in normal."""
    return 'primary' if fo_bucket(bytes.fromhex(mac.replace(':', ''))) < split else 'secondary'


# ---------------------------------------------------------------------------------------------
# Configuration


def pair_conf(role, kind, mclt=MCLT_S, lease_s=LEASE_S, mrd=MRD_S, lbms=LBMS_S,
              auto_partner_down=0, first=FIRST, last=LAST, split=128):
    """dhcpd.conf of one server of the pair; the same text is valid for ISC and paceless,
    except omapi-port (ISC's partner-down goes through omshell; paceless has its socket)."""
    me, peer = ADDR[role], ADDR['secondary' if role == 'primary' else 'primary']
    lines = [
        'authoritative;', 'ping-check false;', 'dhcp-cache-threshold 0;',
        'default-lease-time %d;' % lease_s, 'max-lease-time %d;' % lease_s,
    ]
    if kind == 'isc':
        lines.append('omapi-port %d;' % OMAPI_PORT)
    lines += [
        'failover peer "%s" {' % PEER,
        '    %s;' % role,
        '    address %s;' % me, '    port %d;' % FO_PORT,
        '    peer address %s;' % peer, '    peer port %d;' % FO_PORT,
        '    max-response-delay %d;' % mrd,
        '    max-unacked-updates 10;',
        '    load balance max seconds %d;' % lbms,
    ]
    if auto_partner_down:
        lines.append('    auto-partner-down %d;' % auto_partner_down)
    if role == 'primary':
        lines += ['    mclt %d;' % mclt, '    split %d;' % split]
    lines += [
        '}', '',
        'subnet 192.0.2.0 netmask 255.255.255.0 {',
        '    pool {',
        '        failover peer "%s";' % PEER,
        '        range %s %s;' % (first, last),
        '    }', '}', '',
    ]
    return '\n'.join(lines)


def pool_addresses(first=FIRST, last=LAST):
    a, b = int(ipaddress.ip_address(first)), int(ipaddress.ip_address(last))
    return [str(ipaddress.ip_address(i)) for i in range(a, b + 1)]


# ---------------------------------------------------------------------------------------------
# Lease records, as the checker sees them (both kinds)


class Rec:
    """One binding in a server's DB."""

    __slots__ = ('address', 'state', 'hardware', 'ends', 'tsfp')

    def __init__(self, address, state, hardware=None, ends=None, tsfp=None):
        self.address = address
        self.state = state
        self.hardware = _norm_mac(hardware)
        self.ends = ends
        self.tsfp = tsfp

    def active_at(self, t, grace=0):
        """Bound to a client at time t (ends is the client's lease end; None = no end)."""
        return self.state == 'active' and (self.ends is None or self.ends + grace >= t)

    def __repr__(self):
        return 'Rec(%s %s %s ends=%s)' % (self.address, self.state, self.hardware, self.ends)


def _norm_mac(hw):
    if not hw:
        return None
    hw = hw.lower()
    parts = hw.split(':')
    if len(parts) == 7 and parts[0] == '01':  # htype prefixed
        hw = ':'.join(parts[1:])
    return hw


def _ts(v):
    if v is None:
        return None
    if v == 'never':
        return float('inf')
    return float(v)


def _isc_tsfp(text):
    """address -> tsfp (epoch s; last record wins) from a dhcpd.leases image."""
    out, cur = {}, None
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r'lease\s+(\d+\.\d+\.\d+\.\d+)\s*\{', line)
        if m:
            cur = m.group(1)
            out[cur] = None
        elif cur and line.startswith('tsfp '):
            w = line.rstrip(';').split()
            if w[1] == 'epoch':
                out[cur] = int(w[2])
            elif w[1] == 'never':
                out[cur] = float('inf')
            else:  # "tsfp W YYYY/MM/DD HH:MM:SS" in UTC
                out[cur] = calendar.timegm(time.strptime(w[2] + ' ' + w[3],
                                                         '%Y/%m/%d %H:%M:%S'))
    return out


def leases_from_file(text):
    tsfp = _isc_tsfp(text)
    return {a: Rec(a, l.state or 'free', l.hardware, l.ends, tsfp.get(a))
            for a, l in lease_map(text).items()}


# ---------------------------------------------------------------------------------------------
# One server of the pair


_ISC_ME = re.compile(r'failover peer \S+: I move from ([\w-]+) to ([\w-]+)')
_ISC_PEER = re.compile(r'failover peer \S+: peer moves from ([\w-]+) to ([\w-]+)')


class FoServer:
    """A failover server (kind 'isc' or 'paceless') in role primary/secondary."""

    def __init__(self, kind, role, host, workdir, **conf):
        self.kind = kind
        self.role = role
        self.host = host
        self.addr = ADDR[role]
        self.peer_addr = ADDR['secondary' if role == 'primary' else 'primary']
        self.srv = Server(kind, host, workdir, name=role)
        self.conf_args = conf
        self.frozen = False
        self._seen = []  # paceless: my_state as sampled, in order

    def __repr__(self):
        return '%s %s' % (self.kind, self.role)

    @property
    def own_state(self):
        """The binding state of addresses this server may allocate from in normal."""
        return 'free' if self.role == 'primary' else 'backup'

    @property
    def peer_own_state(self):
        return 'backup' if self.role == 'primary' else 'free'

    # -- life cycle
    def start(self, timeout=20, **conf):
        if conf:
            self.conf_args.update(conf)
        self.srv.start(pair_conf(self.role, self.kind, **self.conf_args), timeout=timeout)
        self.frozen = False
        return self

    def restart(self, timeout=20):
        """Starts again with the same config and lease file (after a kill)."""
        self._seen = []
        self.srv.start(timeout=timeout)
        self.frozen = False

    def running(self):
        return self.srv.running()

    def live(self):
        return self.running() and not self.frozen

    def kill(self):
        self.srv.kill()

    def stop(self):
        if self.frozen:
            self.thaw()
        return self.srv.stop()

    def freeze(self):
        self.host.signal(self.srv.proc, signal.SIGSTOP)
        self.frozen = True

    def thaw(self):
        self.host.signal(self.srv.proc, signal.SIGCONT)
        self.frozen = False

    # -- what the server says
    def log_since_start(self):
        log = self.srv.log()
        i = log.rfind('==== start ')
        return log[i:] if i >= 0 else log

    def state(self):
        """{'my_state': S, 'partner_state': S} (None values when unknown)."""
        if self.kind == 'paceless':
            peers = self.srv.ctl('failover-state', timeout=2)['peers']
            p = [x for x in peers if x.get('name') == PEER][0]
            if not self._seen or self._seen[-1] != p.get('my_state'):
                self._seen.append(p.get('my_state'))
            return p
        log = self.log_since_start()
        me = _ISC_ME.findall(log)
        peer = _ISC_PEER.findall(log)
        return {'my_state': me[-1][1] if me else None,
                'partner_state': peer[-1][1] if peer else None}

    def history(self):
        """The states this server went through since its last start, from its log ("I move
        from X to Y": ISC's line, which paceless writes too), else as sampled by state()
        (every poll of wait_* calls it; a short state can be missed)."""
        moves = _ISC_ME.findall(self.log_since_start())
        if moves:
            return [moves[0][0]] + [m[1] for m in moves]
        return list(self._seen)

    def my_state(self):
        try:
            return self.state()['my_state']
        except (OSError, ServerError, ValueError, KeyError, IndexError):
            return None

    def leases(self):
        """address -> Rec: the server's lease DB."""
        if self.kind == 'paceless' and self.live():
            try:
                lst = self.srv.ctl('lease-list', timeout=3)
                return {l['address']: Rec(l['address'], l.get('state'), l.get('hardware'),
                                          _ts(l.get('ends')), _ts(l.get('tsfp')))
                        for l in lst}
            except (OSError, ServerError, ValueError):
                pass
        return leases_from_file(self.srv.lease_text())

    def partner_down(self):
        """Operator command: this server declares its partner down."""
        if self.kind == 'paceless':
            return self.srv.ctl('failover-partner-down', peer=PEER)
        return self._omshell('new failover-state\nset name = "%s"\nopen\n'
                             'set local-state = 4\nupdate\n' % PEER, 'partner-down')

    def shutdown(self):
        """Operator command: graceful shut-down (pacelessctl shutdown; ISC: omshell, the
        control object's state set to 2), after which the process exits by itself."""
        if self.kind == 'paceless':
            return self.srv.ctl('shutdown')
        return self._omshell('new control\nopen\nset state = 2\nupdate\n', 'shutdown')

    def _omshell(self, body, what):
        script = 'server 127.0.0.1\nport %d\nconnect\n%s' % (OMAPI_PORT, body)
        r = self.host.run(['omshell'], input=script, check=False, timeout=20)
        out = r.stdout + r.stderr
        with open(os.path.join(self.srv.dir, 'omshell-%s.log' % self.role), 'a') as f:
            f.write(script + '----\n' + out + '\n')
        if r.returncode != 0 or re.search(r'(?i)\berror\b|can\'t|not found|failed', out):
            raise ServerError('omshell %s failed: %s' % (what, out))
        return out


# ---------------------------------------------------------------------------------------------
# Real clients: dhclient that records server identifier and lease time per event


_FO_EVENT_LINE = ('sid=${new_dhcp_server_identifier:--}\n'
                  'echo "$reason ${new_ip_address:-${old_ip_address:--}} $sid '
                  '${new_dhcp_lease_time:--} $(date +%%s)" >> \'%(events)s\'')
# dhcp_util's dhclient script, recording also the server identifier, lease time and epoch.
_FO_DHCLIENT_SCRIPT = dhcp_util._DHCLIENT_SCRIPT.replace(
    'echo "$reason ${new_ip_address:-${old_ip_address:--}}" >> \'%(events)s\'', _FO_EVENT_LINE)
assert _FO_EVENT_LINE in _FO_DHCLIENT_SCRIPT

# A patient but quick client: retransmit every 1-2 s (secs grows, so a DISCOVER left
# unanswered by the hashed server reaches the other after load balance max seconds), never
# give up for long.
_FO_DHCLIENT_CONF = '''
timeout 60;
retry 1;
initial-interval 1;
backoff-cutoff 2;
select-timeout 0;
reboot 5;
request subnet-mask, dhcp-lease-time, dhcp-server-identifier;
'''


class FoDhclient(Dhclient):
    """dhclient with its own config; events carry server id, lease time and time."""

    def __init__(self, host, workdir, ifname='eth0'):
        super().__init__(host, workdir, ifname)
        self._write_script(_FO_DHCLIENT_SCRIPT)
        self.conf_path = os.path.join(self.dir, 'dhclient.conf')
        with open(self.conf_path, 'w') as f:
            f.write(_FO_DHCLIENT_CONF)

    def _common(self):
        return super()._common() + ['-cf', self.conf_path]

    def acks(self):
        """[(reason, ip, server_id, lease_time_s, epoch)] of bound/renewed events."""
        out = []
        with open(self.events_path) as f:
            for line in f:
                w = line.split()
                if len(w) >= 5 and w[0] in self.BOUND + self.RENEWED:
                    out.append((w[0], w[1], w[2], int(w[3]) if w[3].isdigit() else None,
                                int(w[4])))
        return out

    def last_ack(self):
        a = self.acks()
        return a[-1] if a else None

    def current(self):
        """The client's own idea of its address: what is on its interface."""
        return self.address()


class VirtualClient:
    """A crafted client (Probe DORA) that holds its ACKed address until its lease ends."""

    def __init__(self, mac, ack, t):
        self.mac = mac
        self.address = ack['yiaddr']
        self.server_id = ack['server_id']
        lt = ack['options'].get(51)
        self.lease_s = int.from_bytes(lt, 'big') if lt else 0
        self.acked_at = t
        self.name = 'v' + mac

    def renewed(self, ack, t):
        lt = ack['options'].get(51)
        self.lease_s = int.from_bytes(lt, 'big') if lt else 0
        self.server_id = ack['server_id']
        self.acked_at = t

    def current(self, now=None):
        now = time.time() if now is None else now
        return self.address if now < self.acked_at + self.lease_s - 1 else None


# ---------------------------------------------------------------------------------------------
# The pair


class Pair:
    """Two failover servers and their clients in one lab."""

    def __init__(self, lab, artifacts, primary_kind, secondary_kind, **conf):
        self.lab = lab
        self.dir = artifacts
        self.servers = {}
        for role, kind in (('primary', primary_kind), ('secondary', secondary_kind)):
            h = lab.host(role, addrs=(ADDR[role] + '/24',))
            self.servers[role] = FoServer(kind, role, h, artifacts, **conf)
        self.real = []      # FoDhclient
        self.virtual = []   # VirtualClient
        self._filler = None
        self._nclients = 0
        self._nmac = 0
        self._nvirtual = 0
        self.timeline = []  # (time, text): what the test did, for the artifacts
        self.partitioned = False
        self.note('pair %s+%s' % (primary_kind, secondary_kind))

    @property
    def primary(self):
        return self.servers['primary']

    @property
    def secondary(self):
        return self.servers['secondary']

    def other(self, s):
        return self.secondary if s is self.primary else self.primary

    def note(self, text):
        """Records a step in timeline.log (and on stdout: pytest shows it on failure)."""
        t = time.time()
        self.timeline.append((t, text))
        line = '%8.3f %s' % (t - self.timeline[0][0], text)
        print(line)
        with open(os.path.join(self.dir, 'timeline.log'), 'a') as f:
            f.write(line + '\n')

    def start(self, **conf):
        for s in self.servers.values():
            s.start(**conf)
        self.note('started')

    def stop(self):
        """Graceful stop of both; returns {role: exit status}."""
        return {r: s.stop() for r, s in self.servers.items()}

    def wait_states(self, states, timeout, servers=None, what=None):
        """Waits until every server in servers has my_state in states (a str or tuple)."""
        if isinstance(states, str):
            states = (states,)
        servers = servers or list(self.servers.values())

        def ok():
            for s in servers:
                if s.my_state() not in states:
                    return False
            return True
        t0 = time.monotonic()
        wait_for(ok, timeout, what or '%s in %s (now %s)' % (
            servers, states, {repr(s): s.my_state() for s in servers}), interval=0.1)
        self.note('%s reached %s' % (servers, states))
        return time.monotonic() - t0

    def wait_normal(self, timeout=60):
        """Both servers normal, both seeing the partner normal."""
        def ok():
            for s in self.servers.values():
                try:
                    st = s.state()
                except (OSError, ServerError, ValueError, KeyError, IndexError):
                    return False
                if st.get('my_state') != 'normal' or st.get('partner_state') != 'normal':
                    return False
            return True
        t0 = time.monotonic()
        try:
            wait_for(ok, timeout, 'both servers normal', interval=0.1)
        except AssertionError:
            raise AssertionError('both servers normal: not after %ds; states %s' % (
                timeout, {repr(s): _safe_state(s) for s in self.servers.values()}))
        self.note('both normal')
        return time.monotonic() - t0

    def wait_drained(self, timeout=20):
        """Updates drained: paceless reports no queued/in-flight updates; for ISC, the two
        lease DBs agree on every active lease (there is no other outside view of its queue)."""
        last = []

        def ok():
            for s in self.servers.values():
                if s.kind == 'paceless':
                    st = s.state()
                    if st.get('updates_queued') or st.get('updates_in_flight'):
                        last[:] = ['%r: %s updates queued, %s in flight' % (
                            s, st.get('updates_queued'), st.get('updates_in_flight'))]
                        return False
            last[:] = _disagreements(self.snapshot())
            return not last
        try:
            wait_for(ok, timeout, 'lease DBs of both servers to agree', interval=0.25)
        except AssertionError:
            snap = self.snapshot()
            with open(os.path.join(self.dir, 'snapshots.log'), 'a') as f:
                f.write(snap.dump('not drained', last))
            raise AssertionError('updates not drained after %ds:\n  %s' % (
                timeout, '\n  '.join(last)))

    # -- clients
    def clients(self, n, roles=None, start=True):
        """n new dhclients, each in its own namespace. roles: None, or a list of n roles
        ('primary'/'secondary'): the client's MAC is chosen so that the RFC 3074 hash sends
        its DISCOVERs to that server in normal."""
        out = []
        for i in range(n):
            self._nclients += 1
            h = self.lab.host('c%d' % self._nclients, addrs=())
            if roles is not None:
                mac = self._mac_for(roles[i])
                h.run(['ip', 'link', 'set', 'dev', 'eth0', 'address', mac])
                h.ifaces['eth0'] = mac
            c = FoDhclient(h, self.dir)
            if start:
                c.start()
            out.append(c)
        self.real += out
        self.note('clients %s' % [(c.host.name, c.mac) for c in out])
        return out

    def _mac_for(self, role):
        while True:
            self._nmac += 1
            mac = '02:fc:00:00:%02x:%02x' % (self._nmac >> 8, self._nmac & 0xff)
            if hash_role(mac) == role:
                return mac

    def filler(self):
        if self._filler is None:
            self._filler = self.lab.host('filler', addrs=())
        return self._filler

    def virtual_macs(self, n, role=None):
        """n fresh crafted-client MACs (hashing to role if given)."""
        out = []
        while len(out) < n:
            self._nvirtual += 1
            i = self._nvirtual
            mac = '02:fa:%02x:%02x:%02x:%02x' % ((i >> 24) & 0xff, (i >> 16) & 0xff,
                                                 (i >> 8) & 0xff, i & 0xff)
            if role is None or hash_role(mac) == role:
                out.append(mac)
        return out

    def take(self, n, deadline_s=10, role=None):
        """n crafted clients DORA at once from the filler host; returns [VirtualClient] of
        those ACKed (the others got no lease before deadline_s)."""
        macs = self.virtual_macs(n, role)
        at = {}  # mac -> when its ACK came: the lease runs from there
        with Probe(self.filler()) as probe:
            acks = probe.run_many(macs, deadline_s, rate=50, retry_s=1.0,
                                  on_ack=lambda mac, p: at.setdefault(mac, time.time()))
        got = [VirtualClient(mac, ack, at[mac]) for mac, ack in acks.items()]
        self.virtual += got
        self.note('take %d: %d acked %s' % (n, len(got), sorted(v.address for v in got)))
        return got

    def take_each(self, n, wait_s=0.7):
        """n crafted clients one after another: each DISCOVERs, collects every OFFER for
        wait_s, then REQUESTs the offer of the primary (even clients) or the secondary (odd),
        or whichever came if only one did. Returns (offers, [VirtualClient]), offers being
        [(mac, server_id, address)] of every OFFER seen."""
        offers, got = [], []
        with Probe(self.filler()) as probe:
            for i, mac in enumerate(self.virtual_macs(n)):
                xid = probe.next_xid()
                probe.send(1, xid, mac)
                seen = {}
                deadline = time.monotonic() + wait_s
                while time.monotonic() < deadline:
                    p = probe.recv(deadline - time.monotonic())
                    if p is not None and p['xid'] == xid and p['type'] == 2:
                        seen[p['server_id']] = p
                        offers.append((mac, p['server_id'], p['yiaddr']))
                if not seen:
                    continue
                o = seen.get(ADDR[ROLES[i % 2]]) or list(seen.values())[0]
                ack = probe.request(mac, o['yiaddr'], o['server_id'], timeout=2, tries=2)
                if ack is not None and ack['type'] == 5:
                    got.append(VirtualClient(mac, ack, time.time()))
        self.virtual += got
        self.note('take_each %d: offers %s; acked %s' % (
            n, offers, [(v.server_id, v.address) for v in got]))
        return offers, got

    def renew(self, vclients, timeout=3):
        """Each crafted client asks again for its address (INIT-REBOOT REQUEST); returns the
        list of those that were ACKed (their lease restarts now)."""
        out = []
        with Probe(self.filler()) as probe:
            for v in vclients:
                p = probe.request(v.mac, v.address, timeout=timeout, tries=2)
                if p is not None and p['type'] == 5 and p['yiaddr'] == v.address:
                    v.renewed(p, time.time())
                    out.append(v)
        self.note('renewed %d of %d crafted clients' % (len(out), len(vclients)))
        return out

    def wait_bound(self, clients, timeout):
        for c in clients:
            c.host.wait_for(lambda: c.current(), timeout, 'dhclient bound')

    def wait_acked_by(self, client, server, after, timeout, what='ACK'):
        """Waits for an ACK (bound/renew/rebind) to client from server after epoch `after`;
        returns the event."""
        def seen():
            for e in client.acks():
                if e[4] >= int(after) and e[2] == server.addr:
                    return e
            return None
        return client.host.wait_for(seen, timeout, '%s from %r to %s' % (what, server,
                                                                     client.mac))

    def owned(self, server):
        """(own, partner's): the addresses that server's DB holds in its own allocation
        state (primary: free; secondary: backup) and in its partner's."""
        db = server.leases()
        for a in pool_addresses():  # lease-list may leave out addresses never used: free
            db.setdefault(a, Rec(a, 'free'))
        own = {a for a, r in db.items() if r.state == server.own_state}
        theirs = {a for a, r in db.items() if r.state == server.peer_own_state}
        return own, theirs

    # -- checker
    def snapshot(self):
        """Clients first (a lease is committed before the ACK leaves), then servers."""
        now = time.time()
        clients = {}
        for c in self.real:
            if c.proc is None:
                continue
            clients['%s(%s)' % (c.host.name, c.mac)] = (c.mac, c.current())
        for v in self.virtual:
            clients[v.name] = (v.mac, v.current(now))
        dbs = {}
        for role, s in self.servers.items():
            dbs['%s %s' % (s.kind, role)] = (s.live(), s.leases())
        return Snapshot(now, clients, dbs)

    def check(self, converged=False, what=''):
        snap = self.snapshot()
        problems = check_snapshot(snap, converged)
        path = os.path.join(self.dir, 'snapshots.log')
        with open(path, 'a') as f:
            f.write(snap.dump(what, problems))
        self.note('check %s%s: %d problems' % (what, ' (converged)' if converged else '',
                                              len(problems)))
        assert not problems, 'checker (%s): %d problems:\n  %s' % (
            what, len(problems), '\n  '.join(problems))
        return snap

    # -- partition: the two servers' switch ports are isolated from each other (bridge port
    # isolation: an isolated port talks only to non-isolated ones), so every frame between
    # the servers is lost while clients still reach both; as a cable cut, nothing is refused.
    def _ports(self):
        links = json.loads(subprocess.run(
            [IP, '-n', self.lab.switch, '-j', 'link', 'show'], capture_output=True,
            text=True, check=True).stdout)
        ports = []
        for s in self.servers.values():
            want = '02:51' + s.host.mac()[5:]
            ports += [l['ifname'] for l in links
                      if l.get('address') == want and l['ifname'] not in self.lab.bridges]
        assert len(ports) == 2, ports
        return ports

    def _isolate(self, on):
        for port in self._ports():
            subprocess.run(['bridge', '-n', self.lab.switch, 'link', 'set', 'dev', port,
                            'isolated', 'on' if on else 'off'], check=True, timeout=10)
        self.partitioned = on

    def partition(self):
        self._isolate(True)
        self.note('partitioned')

    def heal(self):
        self._isolate(False)
        self.note('healed')

    def close(self):
        for c in self.real:
            c.stop()
        for s in self.servers.values():
            if s.frozen:
                s.thaw()
        if self.partitioned and not self.lab._closed:
            self._isolate(False)


def _safe_state(s):
    try:
        return s.state() if s.running() else 'not running'
    except Exception as e:  # noqa: BLE001 - only for a message
        return 'unknown (%s)' % e


class Snapshot:
    """What the checker looks at.

    t        time of the snapshot (epoch s)
    clients  name -> (mac, address or None): each client's own view of its address
    dbs      name -> (live, {address: Rec}): each server's lease DB; live = it can serve
    """

    def __init__(self, t, clients, dbs):
        self.t = t
        self.clients = clients
        self.dbs = dbs

    def dump(self, what, problems):
        lines = ['==== %s at %.3f: %d problems' % (what, self.t, len(problems))]
        lines += ['  ! ' + p for p in problems]
        for n, (mac, a) in sorted(self.clients.items()):
            lines.append('  client %s %s %s' % (n, mac, a))
        for n, (live, db) in sorted(self.dbs.items()):
            lines.append('  db %s live=%s' % (n, live))
            for a in sorted(db, key=lambda x: ipaddress.ip_address(x)):
                r = db[a]
                lines.append('    %s %s %s ends=%s' % (a, r.state, r.hardware, r.ends))
        return '\n'.join(lines) + '\n'


def check_snapshot(snap, converged=False, grace=GRACE_S):
    """The checker: a list of problems (empty = all good). See the module docstring."""
    problems = []
    t = snap.t
    # 1. No address configured on two clients at once.
    holders = collections.defaultdict(list)
    for name, (mac, addr) in snap.clients.items():
        if addr:
            holders[addr].append(name)
    for addr, names in sorted(holders.items()):
        if len(names) > 1:
            problems.append('address %s held by %d clients at once: %s' % (
                addr, len(names), ', '.join(sorted(names))))
    # 2. No address active for two different clients in the DBs (leases that end within
    # the grace period count as gone: the clocks of the lease file and the client race).
    owners = collections.defaultdict(dict)  # addr -> hw -> [db names]
    for dbname, (live, db) in snap.dbs.items():
        for addr, r in db.items():
            if r.state == 'active' and (r.ends is None or r.ends > t + grace):
                owners[addr].setdefault(r.hardware, []).append(dbname)
    for addr, by_hw in sorted(owners.items()):
        if len(by_hw) > 1:
            problems.append('address %s active for %d clients: %s' % (
                addr, len(by_hw), '; '.join('%s in %s' % (hw, ', '.join(d))
                                            for hw, d in sorted(by_hw.items(), key=str))))
    # 3. Every client's address is active for it in at least one live server's DB.
    live_dbs = {n: db for n, (live, db) in snap.dbs.items() if live}
    for name, (mac, addr) in sorted(snap.clients.items()):
        if not addr:
            continue
        seen = [n for n, db in live_dbs.items()
                if addr in db and db[addr].hardware == _norm_mac(mac)
                and db[addr].active_at(t, grace)]
        if not seen:
            where = {n: db.get(addr) for n, (live, db) in snap.dbs.items()}
            problems.append('client %s holds %s but no live server has it active for %s: %s' % (
                name, addr, mac, where))
    # 4. Converged: both DBs agree on every active lease.
    if converged:
        problems += _disagreements(snap, grace)
    return problems


def _disagreements(snap, grace=GRACE_S):
    out = []
    dbs = [(n, db) for n, (live, db) in snap.dbs.items()]
    if len(dbs) != 2:
        return out
    (na, a), (nb, b) = dbs
    t = snap.t
    for addr in sorted(set(a) | set(b), key=lambda x: ipaddress.ip_address(x)):
        ra, rb = a.get(addr), b.get(addr)
        act_a = ra is not None and ra.active_at(t, -grace)
        act_b = rb is not None and rb.active_at(t, -grace)
        if not act_a and not act_b:
            continue
        if ra is None or rb is None or ra.state != rb.state or ra.hardware != rb.hardware:
            out.append('DBs disagree on %s: %s has %s, %s has %s' % (addr, na, ra, nb, rb))
    return out
