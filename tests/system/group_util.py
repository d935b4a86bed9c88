# SPDX-License-Identifier: MPL-2.0
"""Real-process group tests: grp_testnode and paceless-arbitrator processes and what they record.

Processes are started with lab.Host.spawn (tracked: the lab stops them by PID, even when a
test fails). "Loopback" tests put every process in one namespace that has only lo
(lab.host(name, bridge=None)), so their fixed ports on 127.0.0.1 collide with nothing else.

    node = TestNode(host, artifacts, 'n1', '127.0.0.1:24001', bootstrap=True, rate=200, count=500)
    node.deliveries()   # [(t_ms, seq, origin, payload)], t_ms on CLOCK_MONOTONIC (time.monotonic)
    node.views()        # [(t_ms, view_id, primary, my_index, [names])]
    node.leader()       # True when its last L line says it leads
    node.kill()         # SIGKILL, by PID

    node.counters()     # {'links_up': N, 'tls_refused': N, ...} from its last C line

With tls=pki.files('n1') a node runs TLS (Pki: a throwaway CA and node certificates made with
the openssl command in the test's artifacts dir).

check_order(lists) asserts that delivery lists agree: within each list seqs are consecutive
with no duplicates, a seq means the same payload everywhere, and no payload has two seqs.
"""

import json
import os
import signal
import subprocess
import time

import pytest

from lab import IP, wait_for

from dhcp_util import REPO, build_dir  # noqa: F401  (one place says where the build is)


def node_bin():
    return os.path.join(build_dir(), 'tests', 'group', 'grp_testnode')


def arbitrator_bin():
    return os.path.join(build_dir(), 'src', 'arbitrator', 'paceless-arbitrator')


@pytest.fixture
def lo(lab):
    """A namespace with only lo, for tests on 127.0.0.1 (import this fixture by name)."""
    if not os.access(node_bin(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % node_bin())
    return lab.host('lo', bridge=None)


def now_ms():
    return time.monotonic() * 1000.0


class TestNode:
    """One grp_testnode process (tests/group/grp_testnode.c documents its output)."""

    __test__ = False  # not a pytest class

    def __init__(self, host, artifacts, name, listen, peers=(), bootstrap=False, rate=0,
                 count=0, weight=1, state=None, tag='', cluster='paceless-test', tls=None,
                 state_file=None, xfer_dir=None, counter_from=0, size=0, members=0,
                 cache_mb=0, submit_mb=0):
        self.host = host
        self.name = name
        self.listen = listen
        self.out = os.path.join(artifacts, '%s%s.out' % (name, tag))
        self.err = os.path.join(artifacts, '%s%s.err' % (name, tag))
        argv = [node_bin(), '--cluster', cluster, '--name', name, '--listen', listen,
                '--out', self.out, '--weight', str(weight), '--rate', str(rate),
                '--count', str(count)]
        if peers:
            argv += ['--peers', ','.join(peers)]
        if size:
            argv += ['--size', str(size)]
        if members:
            argv += ['--members', str(members)]
        if cache_mb:
            argv += ['--cache-mb', str(cache_mb)]
        if submit_mb:
            argv += ['--submit-mb', str(submit_mb)]
        if bootstrap:
            argv.append('--bootstrap')
        if state:
            argv += ['--state', state]
        if tls:
            argv += ['--tls-cert', tls[0], '--tls-key', tls[1]]
            if tls[2]:
                argv += ['--tls-ca', tls[2]]
        if state_file:
            argv += ['--state-file', state_file]
        if xfer_dir:
            argv += ['--xfer-dir', xfer_dir]
        if counter_from:
            argv += ['--counter-from', str(counter_from)]
        with open(self.err, 'w') as errf:
            self.proc = host.spawn(argv, stdout=errf, stderr=subprocess.STDOUT)

    def lines(self):
        try:
            with open(self.out) as f:
                return [ln.rstrip('\n').split(' ', 2) for ln in f if ln.endswith('\n')]
        except FileNotFoundError:
            return []

    def deliveries(self):
        out = []
        for t, kind, rest in (ln for ln in self.lines() if len(ln) == 3):
            if kind == 'D':
                seq, origin, payload = rest.split(' ', 2)
                out.append((int(t), int(seq), origin, payload))
        return out

    def views(self):
        out = []
        for t, kind, rest in (ln for ln in self.lines() if len(ln) == 3):
            if kind == 'V':
                vid, prim, my, names = rest.split(' ')
                out.append((int(t), int(vid), prim == 'P', int(my),
                            [] if names == '-' else names.split(',')))
        return out

    def events(self, kind):
        return [(int(ln[0]), ln[2]) for ln in self.lines() if len(ln) == 3 and ln[1] == kind]

    def counters(self):
        cs = self.events('C')
        return {k: int(v) for k, v in (kv.split('=') for kv in cs[-1][1].split())} if cs else {}

    def leader(self):
        ls = self.events('L')
        return bool(ls) and ls[-1][1].startswith('1')

    def view_now(self):
        v = self.views()
        return v[-1] if v else None

    def in_primary_view(self, members):
        """True when the last view is primary with exactly these member names."""
        v = self.view_now()
        return v is not None and v[2] and sorted(v[4]) == sorted(members)

    def memory_bound_kb(self):
        """grp_node_memory_bound() for this node's parameters (with members=N), in KiB."""
        bs = self.events('B')
        return int(bs[0][1]) // 1024 if bs else 0

    def rss_kb(self):
        """Resident memory of the process (VmRSS), 0 once it is gone."""
        try:
            with open('/proc/%d/status' % self.proc.pid) as f:
                return next(int(ln.split()[1]) for ln in f if ln.startswith('VmRSS:'))
        except (FileNotFoundError, StopIteration, ProcessLookupError):
            return 0

    def kill(self):
        self.host.signal(self.proc, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def uuid(self):
        """The uuid from the start line (None before it)."""
        for _, text in self.events('E'):
            if text.startswith('started ') and ' uuid ' in text:
                return text.split(' uuid ')[1]
        return None

    def transfers(self):
        """[(t_ms, seq, donor)] of the state transfers done (--xfer-dir)."""
        return [(t, int(r.split(' ')[0]), r.split(' ')[1]) for t, r in self.events('T')]

    def force_bootstrap(self):
        self.host.signal(self.proc, signal.SIGUSR1)

    def stop(self):
        return self.host.stop(self.proc, timeout=10)


class Arbitrator:
    """One paceless-arbitrator process in the foreground, logging to a file."""

    def __init__(self, host, artifacts, argv, name='garb'):
        self.host = host
        self.name = name
        self.log_path = os.path.join(artifacts, 'arbitrator-%s.log' % name)
        self.stderr_path = os.path.join(artifacts, 'arbitrator-%s.err' % name)
        with open(self.stderr_path, 'w') as errf:
            self.proc = host.spawn([arbitrator_bin()] + list(argv) + ['-l', self.log_path],
                                   stdout=errf, stderr=subprocess.STDOUT)

    def log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def voting(self, n_members):
        """The last view line is primary, with n members, this one a member with a weight."""
        views = [ln for ln in self.log().splitlines() if ': view ' in ln]
        if not views:
            return False
        last = views[-1]
        return (': PRIMARY, %d members' % n_members in last and 'this arbitrator is a member'
                in last and 'weight 0, arbitrator' not in last)

    def stop(self):
        return self.host.stop(self.proc, timeout=10)


def start_group(host, artifacts, n, rate=0, count=0, base_port=24100, pki=None, **kw):
    """n test nodes on 127.0.0.1 of host: n1 bootstraps, the others join through it; returns
    them once every one is in a primary view of all n. With pki (a Pki), each runs TLS with
    its own certificate from it."""
    names = ['n%d' % (i + 1) for i in range(n)]
    addrs = ['127.0.0.1:%d' % (base_port + i) for i in range(n)]
    nodes = []
    for i in range(n):
        tls = pki.files(names[i]) if pki else None
        nodes.append(TestNode(host, artifacts, names[i], addrs[i], peers=addrs[:1] if i else (),
                              bootstrap=not i, rate=rate, count=count, tls=tls, **kw))
    wait_for(lambda: all(nd.in_primary_view(names) for nd in nodes), 30,
             'a primary view of %d nodes' % n)
    return nodes


class Pki:
    """A throwaway certificate authority in dir, made with the openssl command (EC P-256).

        pki = Pki(artifacts, 'ca')
        pki.files('n1')                  # (cert, key, ca) paths for n1, signed by this CA
        pki.files('old', days=-1)        # an expired one
    """

    def __init__(self, dir, name):
        self.dir = dir
        self.name = name
        self.ca = os.path.join(dir, '%s.pem' % name)
        self.ca_key = os.path.join(dir, '%s.key' % name)
        self._openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                      '-nodes', '-keyout', self.ca_key, '-out', self.ca, '-days', '2',
                      '-subj', '/CN=%s' % name)

    @staticmethod
    def _openssl(*args):
        subprocess.run(['openssl'] + list(args), check=True, capture_output=True, timeout=30)

    def files(self, node, days=2):
        base = os.path.join(self.dir, '%s-%s' % (self.name, node))
        cert, key, csr = base + '.pem', base + '.key', base + '.csr'
        if not os.path.exists(cert):
            self._openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
                          '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=%s' % node)
            self._openssl('x509', '-req', '-in', csr, '-CA', self.ca, '-CAkey', self.ca_key,
                          '-CAcreateserial', '-out', cert, '-days', str(days))
        return cert, key, self.ca


def kill_all(nodes):
    """SIGKILL to every process first, then the waits: as close to a power cut as it gets."""
    for nd in nodes:
        nd.host.signal(nd.proc, signal.SIGKILL)
    for nd in nodes:
        nd.proc.wait(timeout=10)


def check_order(lists, first_seq=None):
    """Every list of deliveries is gap- and duplicate-free and they all agree. Returns the
    seq -> payload map of the union."""
    by_seq, by_payload = {}, {}
    for d in lists:
        seqs = [x[1] for x in d]
        if not seqs:
            continue
        if first_seq is not None:
            assert seqs[0] == first_seq, 'first seq %d, want %d' % (seqs[0], first_seq)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), \
            'a gap or a duplicate in the seqs %s...' % seqs[:20]
        for _, seq, _, payload in d:
            assert by_seq.setdefault(seq, payload) == payload, \
                'seq %d is %r on one node, %r on another' % (seq, by_seq[seq], payload)
            assert by_payload.setdefault(payload, seq) == seq, \
                'payload %r delivered at seq %d and %d' % (payload, by_payload[payload], seq)
    return by_seq


def own_payloads(node, count):
    return {'%s:%d' % (node.name, i) for i in range(1, count + 1)}


def delivered_payloads(node):
    return {x[3] for x in node.deliveries()}


def resume_ms(survivor, victim_last_seq, t_kill_ms):
    """How long after t_kill_ms the survivor delivered the first message ordered after the
    victim's last delivery (None: not yet)."""
    for t, seq, _, _ in survivor.deliveries():
        if seq > victim_last_seq:
            return t - t_kill_ms
    return None


def stall_ms(node, t_from_ms, t_to_ms):
    """The longest time without a delivery on node between t_from_ms and t_to_ms."""
    times = [t_from_ms] + [t for t, _, _, _ in node.deliveries() if t_from_ms < t < t_to_ms]
    times.append(t_to_ms)
    return max(b - a for a, b in zip(times, times[1:]))


def switch_port(lab, host, ifname='eth0'):
    """The switch-side veth of host's ifname (the lab gives it the host MAC with 02:51)."""
    want = '02:51' + host.mac(ifname)[5:]
    out = subprocess.run([IP, '-n', lab.switch, '-j', 'link', 'show'], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    for link in json.loads(out):
        if link.get('address') == want:
            return link['ifname']
    raise AssertionError('no switch port for %s' % host.name)


def cut(lab, host):
    """Unplugs host from its bridge: its link stays up, nothing gets through (a partition)."""
    subprocess.run([IP, '-n', lab.switch, 'link', 'set', switch_port(lab, host), 'nomaster'],
                   check=True, timeout=30)


def heal(lab, host, bridge='lan'):
    subprocess.run([IP, '-n', lab.switch, 'link', 'set', switch_port(lab, host), 'master',
                    bridge], check=True, timeout=30)
