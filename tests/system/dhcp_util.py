# SPDX-License-Identifier: MPL-2.0
"""Shared helpers for the DHCP system tests: the server under test, real clients, crafted packets.

Server(kind, host, workdir)      paceless-dhcpd or ISC dhcpd in a lab Host, same CLI for both
    .start(conf, leases=None, ifaces=('eth0',))   writes dhcpd.conf (+ an initial lease file),
                                 starts in the foreground (-f -d), waits until it serves.
    .stop() / .kill() / .reload(conf=None) / .ctl(command, **arguments) / .leases() /
    .active_lease(mac) / .log() / .wait_log(regex, timeout)
parse_leases(text) -> list[Lease]   a tiny dhcpd.leases reader (address, state, hw, ends...)
Dhclient / Udhcpc / Dhcpcd        real clients in a Host, recording each event to a file
build_packet / parse_packet       raw BOOTP/DHCP messages
Probe(host, ifname)               a crafted client (or relay) in this process: one UDP socket
                                 in the host's namespace, DISCOVER/REQUEST/RELEASE, many
                                 clients at once (run_many).
"""

import calendar
import ipaddress
import json
import os
import re
import select
import signal
import socket
import struct
import subprocess
import time

from lab import wait_for

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ISC_DHCPD = '/usr/sbin/dhcpd'


def build_dir():
    """The meson build dir holding the daemon: $PACELESS_BUILD (relative to the repo) or build/."""
    b = os.environ.get('PACELESS_BUILD', 'build')
    return b if os.path.isabs(b) else os.path.join(REPO, b)


def paceless_dhcpd():
    return os.path.join(build_dir(), 'src', 'dhcp', 'paceless-dhcpd')


def pacelessctl():
    return os.path.join(build_dir(), 'src', 'ctl', 'pacelessctl')


def server_kinds():
    """Server kinds this run tests: $PACELESS_TEST_SERVER = paceless (default), isc or both."""
    v = os.environ.get('PACELESS_TEST_SERVER', 'paceless')
    return ['paceless', 'isc'] if v == 'both' else [v]


# ---------------------------------------------------------------------------------------------
# dhcpd.leases


class Lease:
    """One lease record of a dhcpd.leases file (the last record for an address wins)."""

    def __init__(self, address):
        self.address = address
        self.state = None
        self.next_state = None
        self.hardware = None
        self.uid = None
        self.hostname = None
        self.starts = None
        self.ends = None  # epoch seconds, or float('inf') for "never"

    def __repr__(self):
        return 'Lease(%s %s %s ends=%s)' % (self.address, self.state, self.hardware, self.ends)


def _lease_time(words):
    # "3 2026/11/25 15:00:00" (UTC), "epoch 1764082800" or "never".
    if words[0] == 'never':
        return float('inf')
    if words[0] == 'epoch':
        return int(words[1])
    return calendar.timegm(time.strptime(words[1] + ' ' + words[2], '%Y/%m/%d %H:%M:%S'))


def parse_leases(text):
    """Lease records of a dhcpd.leases image, in file order; unknown statements are skipped."""
    out = []
    cur = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        m = re.match(r'lease\s+(\d+\.\d+\.\d+\.\d+)\s*\{', line)
        if m:
            cur = Lease(m.group(1))
            continue
        if cur is None:
            continue
        if line.startswith('}'):
            out.append(cur)
            cur = None
            continue
        words = line.rstrip(';').split()
        if words[:2] == ['binding', 'state']:
            cur.state = words[2]
        elif words[:3] == ['next', 'binding', 'state']:
            cur.next_state = words[3]
        elif words[:2] == ['hardware', 'ethernet']:
            cur.hardware = words[2].lower()
        elif words[0] == 'starts':
            cur.starts = _lease_time(words[1:])
        elif words[0] == 'ends':
            cur.ends = _lease_time(words[1:])
        elif words[0] == 'uid':
            cur.uid = line[len('uid'):].strip().rstrip(';')
        elif words[0] == 'client-hostname':
            cur.hostname = line.split('"')[1] if '"' in line else None
    return out


def lease_map(text):
    """address -> latest Lease."""
    return {l.address: l for l in parse_leases(text)}


# ---------------------------------------------------------------------------------------------
# The server under test


def _udp_port_bound(host, port):
    # /proc/net/udp shows the sockets of the reading process's namespace.
    out = host.run(['cat', '/proc/net/udp'], check=False).stdout
    want = ':%04X' % port
    return any(line.split()[1].endswith(want) for line in out.splitlines()[1:] if line.split())


class ServerError(Exception):
    pass


class Server:
    """paceless-dhcpd or ISC dhcpd running in host, files under workdir (kept as artifacts)."""

    def __init__(self, kind, host, workdir, name='dhcpd'):
        assert kind in ('paceless', 'isc'), kind
        self.kind = kind
        self.host = host
        self.dir = workdir
        self.conf_path = os.path.join(workdir, name + '.conf')
        self.lease_path = os.path.join(workdir, name + '.leases')
        self.pid_path = os.path.join(workdir, name + '.pid')
        self.ctl_path = os.path.join(workdir, name + '.ctl')
        self.log_path = os.path.join(workdir, name + '.log')
        self.proc = None
        self.ifaces = ('eth0',)
        self.starts = 0

    @property
    def binary(self):
        return paceless_dhcpd() if self.kind == 'paceless' else ISC_DHCPD

    def argv(self):
        a = [self.binary, '-f', '-d', '-4', '-cf', self.conf_path, '-lf', self.lease_path,
             '-pf', self.pid_path]
        if self.kind == 'paceless':
            a += ['--ctl', self.ctl_path]
        return a + list(self.ifaces)

    def write_conf(self, conf):
        with open(self.conf_path, 'w') as f:
            f.write(conf)

    def start(self, conf=None, leases=None, ifaces=None, timeout=15):
        """Starts the server (conf text replaces dhcpd.conf; leases text seeds the lease file)."""
        if conf is not None:
            self.write_conf(conf)
        if ifaces is not None:
            self.ifaces = tuple(ifaces)
        if leases is not None:
            with open(self.lease_path, 'w') as f:
                f.write(leases)
        elif not os.path.exists(self.lease_path):
            open(self.lease_path, 'w').close()  # ISC insists that it exists
        self.starts += 1
        log = open(self.log_path, 'a')
        log.write('==== start %d: %s\n' % (self.starts, ' '.join(self.argv())))
        log.flush()
        self.proc = self.host.spawn(self.argv(), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_ready(timeout)
        return self

    def ready(self):
        if self.proc.poll() is not None:
            raise ServerError('%s exited with %s during start; log %s:\n%s' %
                              (self.kind, self.proc.returncode, self.log_path, self.log()[-3000:]))
        if not _udp_port_bound(self.host, 67):
            return False
        if self.kind == 'paceless':
            try:
                self.ctl('counters', timeout=1)
            except (OSError, ServerError, ValueError):
                return False
        return True

    def wait_ready(self, timeout=15):
        wait_for(self.ready, timeout, '%s dhcpd serving on port 67' % self.kind)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM (graceful), SIGKILL after timeout; returns the exit status."""
        if self.proc is None:
            return None
        rc = self.host.stop(self.proc, timeout)
        return rc

    def kill(self):
        """SIGKILL: a crash."""
        self.host.signal(self.proc, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def reload(self, conf=None, timeout=15):
        """Applies a new dhcpd.conf: SIGHUP for paceless; ISC has no reload, so it restarts."""
        if conf is not None:
            self.write_conf(conf)
        if self.kind == 'paceless':
            self.host.signal(self.proc, signal.SIGHUP)
        else:
            self.stop()
            self.start(timeout=timeout)

    def ctl(self, command, timeout=5, **arguments):
        """One control-socket request (paceless only); returns the reply's "arguments"."""
        if self.kind != 'paceless':
            raise ServerError('control socket is paceless-only')
        req = {'command': command}
        if arguments:
            req['arguments'] = {k.replace('_', '-'): v for k, v in arguments.items()}
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.ctl_path)
            s.sendall(json.dumps(req).encode() + b'\n')
            buf = b''
            while b'\n' not in buf:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        reply = json.loads(buf.split(b'\n', 1)[0])
        if reply.get('result') != 0:
            raise ServerError('%s: %s' % (command, reply.get('text')))
        return reply.get('arguments')

    def counters(self):
        return self.ctl('counters')

    def lease_text(self):
        with open(self.lease_path) as f:
            return f.read()

    def leases(self):
        """address -> latest Lease, from the lease file (works for both kinds)."""
        return lease_map(self.lease_text())

    def active_lease(self, mac):
        """The active lease of mac in the lease file, or None."""
        now = time.time()
        for l in self.leases().values():
            if l.hardware == mac.lower() and l.state == 'active' and (l.ends or 0) >= now - 1:
                return l
        return None

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def wait_log(self, regex, timeout, what=None):
        r = re.compile(regex, re.I)
        return wait_for(lambda: r.search(self.log()), timeout, what or 'server log /%s/' % regex)


def paceless_only(server):
    """Skips the calling test unless the server is paceless (control socket, SIGHUP reload)."""
    import pytest
    if server.kind != 'paceless':
        pytest.skip('paceless-only check (control socket / reload)')


def ctl_lease(server, address=None, hardware=None):
    """lease-get through the control socket as a dict (None if unknown); paceless only."""
    args = {'address': address} if address else {'hardware': hardware}
    try:
        r = server.ctl('lease-get', **args)
    except ServerError:
        return None
    if isinstance(r, list):
        r = r[0] if r else None
    return r


def assert_lease(server, address, mac, states=('active',)):
    """The lease DB holds address for mac in one of states: lease file always, and
    lease-get through the control socket for paceless."""
    rec = server.leases().get(address)
    assert rec is not None, 'no record of %s in %s' % (address, server.lease_path)
    assert rec.state in states, 'lease file: %s is %s, want %s' % (address, rec.state, states)
    assert rec.hardware == mac.lower(), 'lease file: %s has %s, want %s' % (
        address, rec.hardware, mac)
    if server.kind == 'paceless':
        r = ctl_lease(server, address=address)
        assert r is not None, 'lease-get %s: not found' % address
        assert r.get('state') in states, 'lease-get %s: %r' % (address, r)
        assert (r.get('hardware') or '').lower().endswith(mac.lower()), \
            'lease-get %s: %r' % (address, r)
    return rec


def isc_check(conf_path, lease_path=None):
    """Runs ISC `dhcpd -t` (config) or `-T` (lease file); returns the CompletedProcess.

    Beware: `dhcpd -T` exits 0 even on a corrupt lease file; use isc_lease_check for that."""
    argv = [ISC_DHCPD, '-4', '-cf', conf_path, '-pf', os.devnull]
    argv += ['-T', '-lf', lease_path] if lease_path else ['-t']
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def isc_lease_check(conf_path, lease_path):
    """ISC's verdict on a lease file: (ok, leases ISC kept, its output). ok needs exit 0 and no
    parse complaint ("line N:", "corrupt") from ISC's lease file reader."""
    r = isc_check(conf_path, lease_path)
    out = r.stdout + r.stderr
    complaints = re.findall(r'^.*(?:line \d+:|[Cc]orrupt lease file|no subnet).*$', out, re.M)
    m = re.search(r'Wrote (\d+) leases to leases file', out)
    return r.returncode == 0 and not complaints, int(m.group(1)) if m else -1, out


def subnet_conf(subnet='192.0.2.0', mask='255.255.255.0', first='192.0.2.100',
                last='192.0.2.199', lease_time=20, authoritative=True, extra='', subnet_extra=''):
    """A plain one-subnet dhcpd.conf."""
    return ('%sdefault-lease-time %d;\nmax-lease-time %d;\n%s\n'
            'subnet %s netmask %s {\n  range %s %s;\n%s}\n' %
            ('authoritative;\n' if authoritative else '', lease_time, lease_time, extra,
             subnet, mask, first, last, subnet_extra))


# ---------------------------------------------------------------------------------------------
# Real clients: each records every event its script sees to events.log as "reason ip".

_DHCLIENT_SCRIPT = r'''#!/bin/sh
# Records dhclient's event and applies the address (no resolv.conf, no routes).
echo "$reason ${new_ip_address:-${old_ip_address:--}}" >> '%(events)s'
case "$reason" in
BOUND|RENEW|REBIND|REBOOT)
	if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
		ip -4 addr flush dev "$interface"
	fi
	ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
EXPIRE|FAIL|RELEASE|STOP)
	ip -4 addr flush dev "$interface" ;;
esac
exit 0
'''

_UDHCPC_SCRIPT = r'''#!/bin/sh
# Records udhcpc's event (and the DNS servers and routers it got) and applies the address.
echo "$1 ${ip:--}" >> '%(events)s'
echo "$1|${ip:-}|${dns:-}|${router:-}" >> '%(events)s.options'
case "$1" in
bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;
deconfig) ip -4 addr flush dev "$interface" ;;
esac
exit 0
'''

_DHCPCD_SCRIPT = r'''#!/bin/sh
# Records dhcpcd's event; dhcpcd applies addresses itself.
echo "$reason ${new_ip_address:-${old_ip_address:--}}" >> '%(events)s'
exit 0
'''


class Client:
    """Base of the real-client wrappers: a process in host, a work dir, an event log."""

    kind = None

    def __init__(self, host, workdir, ifname='eth0'):
        self.host = host
        self.ifname = ifname
        self.dir = os.path.join(workdir, '%s-%s' % (self.kind, host.name))
        os.makedirs(self.dir, exist_ok=True)
        self.events_path = os.path.join(self.dir, 'events.log')
        self.log_path = os.path.join(self.dir, 'client.log')
        self.script = os.path.join(self.dir, 'script.sh')
        self.proc = None
        open(self.events_path, 'a').close()

    @property
    def mac(self):
        return self.host.mac(self.ifname)

    def _write_script(self, template):
        with open(self.script, 'w') as f:
            f.write(template % {'events': self.events_path})
        os.chmod(self.script, 0o755)

    def _spawn(self, argv):
        log = open(self.log_path, 'a')
        self.proc = self.host.spawn(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        return self.proc

    def events(self):
        """[(reason, ip)] in order."""
        with open(self.events_path) as f:
            return [tuple(l.split()[:2]) for l in f if l.strip()]

    def wait_event(self, reasons, timeout, after=0):
        """Waits for an event whose reason is in reasons, past the first `after` events."""
        def seen():
            for i, (reason, ip) in enumerate(self.events()):
                if i >= after and reason in reasons:
                    return (reason, ip)
            return None
        return self.host.wait_for(seen, timeout, '%s event %s' % (self.kind, '/'.join(reasons)))

    def address(self):
        """The IPv4 address on the interface (without the prefix length), or None."""
        a = self.host.addrs(self.ifname)
        return a[0].split('/')[0] if a else None

    def log(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def stop(self):
        if self.proc is not None:
            self.host.stop(self.proc, 5)


class Dhclient(Client):
    """ISC dhclient in the foreground with its own lease/pid files and a recording script."""

    kind = 'dhclient'
    BOUND = ('BOUND', 'REBOOT')
    RENEWED = ('RENEW', 'REBIND')

    def __init__(self, host, workdir, ifname='eth0'):
        super().__init__(host, workdir, ifname)
        self.lease_path = os.path.join(self.dir, 'dhclient.leases')
        self.pid_path = os.path.join(self.dir, 'dhclient.pid')
        self._write_script(_DHCLIENT_SCRIPT)

    def _common(self):
        return ['-4', '-v', '-lf', self.lease_path, '-pf', self.pid_path, '-sf', self.script]

    def seed_lease(self, address, mask='255.255.255.0', server='192.0.2.1'):
        """Pre-seeds dhclient.leases so dhclient starts in INIT-REBOOT asking for address."""
        with open(self.lease_path, 'w') as f:
            f.write('lease {\n  interface "%s";\n  fixed-address %s;\n'
                    '  option subnet-mask %s;\n  option dhcp-lease-time 600;\n'
                    '  option dhcp-server-identifier %s;\n  renew 4 2037/1/1 00:00:00;\n'
                    '  rebind 4 2037/1/1 00:00:00;\n  expire 4 2037/1/1 00:00:00;\n}\n' %
                    (self.ifname, address, mask, server))

    def start(self):
        return self._spawn(['dhclient', '-d'] + self._common() + [self.ifname])

    def release(self, timeout=15):
        """dhclient -r: the running client is stopped and a DHCPRELEASE is sent."""
        self.host.run(['dhclient', '-r'] + self._common() + [self.ifname], timeout=timeout)
        if self.proc is not None:
            self.proc.wait(timeout=timeout)


class Udhcpc(Client):
    """busybox udhcpc in the foreground; SIGUSR1 renews, SIGUSR2 releases."""

    kind = 'udhcpc'
    BOUND = ('bound',)
    RENEWED = ('renew',)

    def __init__(self, host, workdir, ifname='eth0'):
        super().__init__(host, workdir, ifname)
        self._write_script(_UDHCPC_SCRIPT)

    def start(self):
        return self._spawn(['udhcpc', '-f', '-i', self.ifname, '-s', self.script, '-t', '20',
                            '-T', '1', '-A', '1'])

    def renew(self):
        self.host.signal(self.proc, signal.SIGUSR1)

    def bound_options(self):
        """(address, {'dns': 'A B', 'router': 'R'}) of the first bound event, or None."""
        with open(self.events_path + '.options') as f:
            for line in f:
                reason, ip, dns, router = line.rstrip('\n').split('|')
                if reason == 'bound':
                    return ip, {'dns': dns, 'router': router}
        return None

    def release(self, timeout=15):
        n = len(self.events())
        self.host.signal(self.proc, signal.SIGUSR2)
        self.wait_event(('deconfig',), timeout, after=n)


class Dhcpcd(Client):
    """dhcpcd in the foreground, with private /run/dhcpcd and /var/lib/dhcpcd (bind mounts)."""

    kind = 'dhcpcd'
    BOUND = ('BOUND', 'REBOOT')
    RENEWED = ('RENEW', 'REBIND')

    def __init__(self, host, workdir, ifname='eth0'):
        super().__init__(host, workdir, ifname)
        self._write_script(_DHCPCD_SCRIPT)
        for d in ('run', 'db'):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        self.conf = os.path.join(self.dir, 'dhcpcd.conf')
        with open(self.conf, 'w') as f:
            f.write('ipv4only\nnoipv4ll\nnoarp\noption subnet_mask\n')

    def _wrap(self, argv):
        # ip netns exec already gives the command its own mount namespace: bind our private
        # state dirs over dhcpcd's fixed paths so that clients and parallel runs cannot clash.
        mounts = 'mkdir -p /run/dhcpcd && mount --bind %s /run/dhcpcd && ' \
                 'mount --bind %s /var/lib/dhcpcd && exec "$@"' % (
                     os.path.join(self.dir, 'run'), os.path.join(self.dir, 'db'))
        return ['sh', '-c', mounts, 'sh'] + argv

    def _dhcpcd(self, *args):
        return ['dhcpcd', '-f', self.conf, '-c', self.script] + list(args)

    def start(self):
        return self._spawn(self._wrap(self._dhcpcd('-B', '-d', '-4', self.ifname)))

    def renew(self):
        self.host.run(self._wrap(self._dhcpcd('-4', '-n', self.ifname)))

    def release(self, timeout=15):
        self.host.run(self._wrap(self._dhcpcd('-4', '-k', self.ifname)), timeout=timeout)


CLIENTS = {'dhclient': Dhclient, 'udhcpc': Udhcpc, 'dhcpcd': Dhcpcd}


# ---------------------------------------------------------------------------------------------
# Crafted packets

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
MSG_NAMES = {1: 'DISCOVER', 2: 'OFFER', 3: 'REQUEST', 4: 'DECLINE', 5: 'ACK', 6: 'NAK',
             7: 'RELEASE', 8: 'INFORM'}
COOKIE = b'\x63\x82\x53\x63'
OPT_REQUESTED_ADDR, OPT_LEASE_TIME, OPT_MSG_TYPE, OPT_SERVER_ID = 50, 51, 53, 54
OPT_AGENT_INFO = 82


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(':'))


def mac_str(b):
    return ':'.join('%02x' % x for x in b)


def build_packet(msgtype, xid, mac, ciaddr='0.0.0.0', giaddr='0.0.0.0', broadcast=True,
                 options=(), op=1, hops=0):
    """A BOOTREQUEST (op=1) carrying DHCP message type msgtype and (code, bytes) options."""
    hw = mac_bytes(mac)
    head = struct.pack('!BBBBIHH4s4s4s4s16s64s128s', op, 1, len(hw), hops, xid, 0,
                       0x8000 if broadcast else 0, socket.inet_aton(ciaddr),
                       b'\0' * 4, b'\0' * 4, socket.inet_aton(giaddr), hw, b'', b'')
    opts = bytes([OPT_MSG_TYPE, 1, msgtype])
    for code, value in options:
        opts += bytes([code, len(value)]) + value
    return head + COOKIE + opts + b'\xff'


def parse_packet(data):
    """A dict of the fields tests look at, or None if data is not a DHCP message."""
    if len(data) < 240 or data[236:240] != COOKIE:
        return None
    op, htype, hlen, hops, xid, secs, flags = struct.unpack('!BBBBIHH', data[:12])
    p = {'op': op, 'xid': xid, 'flags': flags, 'hops': hops,
         'ciaddr': socket.inet_ntoa(data[12:16]), 'yiaddr': socket.inet_ntoa(data[16:20]),
         'siaddr': socket.inet_ntoa(data[20:24]), 'giaddr': socket.inet_ntoa(data[24:28]),
         'chaddr': mac_str(data[28:28 + min(hlen, 16)]), 'options': {}}
    i = 240
    while i < len(data):
        code = data[i]
        if code == 255:
            break
        if code == 0:
            i += 1
            continue
        if i + 1 >= len(data) or i + 2 + data[i + 1] > len(data):
            return None
        p['options'][code] = data[i + 2:i + 2 + data[i + 1]]
        i += 2 + data[i + 1]
    mt = p['options'].get(OPT_MSG_TYPE)
    p['type'] = mt[0] if mt else None
    sid = p['options'].get(OPT_SERVER_ID)
    p['server_id'] = socket.inet_ntoa(sid) if sid and len(sid) == 4 else None
    return p


def ip_bytes(addr):
    return socket.inet_aton(addr)


class Probe:
    """A crafted DHCP client in this process, with a socket in host's namespace.

    Direct mode (relay=None): bound to 0.0.0.0:68 on ifname, broadcasts requests with the
    broadcast flag so replies come back to 255.255.255.255:68 (no address needed).
    Relay mode (relay='A.B.C.D', server='A.B.C.D'): acts as a relay agent bound to relay:67,
    sets giaddr=relay and unicasts to the server; replies come back to relay:67.
    """

    def __init__(self, host, ifname='eth0', relay=None, server=None, agent_info=None):
        self.host = host
        self.ifname = ifname
        self.relay = relay
        self.server = server
        self.agent_info = agent_info  # bytes of option 82, relay mode only
        self.sock = host.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        if relay is None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
            self.sock.bind(('0.0.0.0', 68))
        else:
            self.sock.bind((relay, 67))
        self.sock.setblocking(False)
        self._xid = (os.getpid() << 12) & 0xffffffff
        self.log = []  # (time, 'sent'/'recv', type, mac, yiaddr)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def next_xid(self):
        self._xid = (self._xid + 1) & 0xffffffff
        return self._xid

    def send(self, msgtype, xid, mac, options=(), ciaddr='0.0.0.0', dest=None):
        opts = list(options)
        if self.relay is not None:
            if self.agent_info is not None:
                opts.append((OPT_AGENT_INFO, self.agent_info))
            pkt = build_packet(msgtype, xid, mac, ciaddr=ciaddr, giaddr=self.relay,
                               broadcast=False, options=opts, hops=1)
            self.sock.sendto(pkt, (self.server, 67))
        else:
            pkt = build_packet(msgtype, xid, mac, ciaddr=ciaddr, broadcast=ciaddr == '0.0.0.0',
                               options=opts)
            self.sock.sendto(pkt, (dest or '255.255.255.255', 67))
        self.log.append((time.time(), 'sent', MSG_NAMES.get(msgtype), mac, ciaddr))

    def recv(self, timeout):
        """One parsed reply, or None after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                continue
            p = parse_packet(data)
            if p is not None and p['op'] == 2:
                self.log.append((time.time(), 'recv', MSG_NAMES.get(p['type']), p['chaddr'],
                                 p['yiaddr']))
                return p

    def exchange(self, msgtype, mac, options=(), ciaddr='0.0.0.0', timeout=3, tries=1):
        """Sends one request and returns the first reply with the same xid (or None)."""
        xid = self.next_xid()
        for _ in range(tries):
            self.send(msgtype, xid, mac, options, ciaddr)
            deadline = time.monotonic() + timeout
            while True:
                p = self.recv(deadline - time.monotonic())
                if p is None:
                    break
                if p['xid'] == xid:
                    return p
        return None

    def discover(self, mac, timeout=3, tries=1):
        return self.exchange(DISCOVER, mac, timeout=timeout, tries=tries)

    def request(self, mac, address, server_id=None, timeout=3, tries=1):
        """A REQUEST in SELECTING (server_id given) or INIT-REBOOT (server_id None) state."""
        opts = [(OPT_REQUESTED_ADDR, ip_bytes(address))]
        if server_id:
            opts.append((OPT_SERVER_ID, ip_bytes(server_id)))
        return self.exchange(REQUEST, mac, opts, timeout=timeout, tries=tries)

    def dora(self, mac, timeout=3, tries=2):
        """DISCOVER, OFFER, REQUEST, ACK; returns the ACK (or the NAK / None)."""
        offer = self.discover(mac, timeout, tries)
        if offer is None or offer['type'] != OFFER:
            return None
        return self.request(mac, offer['yiaddr'], offer['server_id'], timeout, tries)

    def release(self, mac, address, server_id):
        """DHCPRELEASE, unicast to the server from address as a bound client sends it.

        A datagram from source 0.0.0.0 to a unicast address is a martian to the server's
        kernel (only raw-socket servers would see it), so in direct mode the address is put on
        the interface for the time of the send."""
        opts = [(OPT_SERVER_ID, ip_bytes(server_id))]
        if self.relay is not None:
            self.send(RELEASE, self.next_xid(), mac, opts, ciaddr=address)
            return
        self.host.run(['ip', 'addr', 'add', address + '/32', 'dev', self.ifname])
        try:
            self.send(RELEASE, self.next_xid(), mac, opts, ciaddr=address, dest=server_id)
        finally:
            self.host.run(['ip', 'addr', 'del', address + '/32', 'dev', self.ifname])

    def run_many(self, macs, deadline_s, rate=500, retry_s=1.0, on_ack=None, stop=None):
        """Drives many clients through DORA at once; returns {mac: ack_packet}.

        Clients start at `rate` per second; an exchange with no answer is retried after
        retry_s (same state: a lost OFFER re-DISCOVERs, a lost ACK re-REQUESTs). on_ack(mac,
        packet) is called as each ACK arrives; stop() returning True ends the run early.
        """
        state = {}  # xid -> [mac, phase, offer, last_sent]
        by_mac = {}
        acks = {}
        pending = list(macs)
        t0 = time.monotonic()
        end = t0 + deadline_s
        started = 0
        while time.monotonic() < end and len(acks) < len(macs):
            if stop is not None and stop():
                break
            now = time.monotonic()
            while pending and started < (now - t0) * rate + 1:
                mac = pending.pop(0)
                xid = self.next_xid()
                state[xid] = [mac, DISCOVER, None, now]
                by_mac[mac] = xid
                self.send(DISCOVER, xid, mac)
                started += 1
            for xid, st in list(state.items()):
                if st[1] is not None and now - st[3] > retry_s:
                    st[3] = now
                    if st[1] == DISCOVER:
                        self.send(DISCOVER, xid, st[0])
                    else:
                        self._send_request(xid, st)
            p = self.recv(0.02)
            while p is not None:
                self._on_reply(p, state, acks, on_ack)
                p = self.recv(0)
        return acks

    def _send_request(self, xid, st):
        offer = st[2]
        self.send(REQUEST, xid, st[0], [(OPT_REQUESTED_ADDR, ip_bytes(offer['yiaddr'])),
                                        (OPT_SERVER_ID, ip_bytes(offer['server_id']))])

    def _on_reply(self, p, state, acks, on_ack):
        st = state.get(p['xid'])
        if st is None or st[1] is None or p['chaddr'] != st[0]:
            return
        if p['type'] == OFFER and st[1] == DISCOVER:
            st[1], st[2], st[3] = REQUEST, p, time.monotonic()
            self._send_request(p['xid'], st)
        elif p['type'] == ACK and st[1] == REQUEST:
            st[1] = None
            acks[st[0]] = p
            if on_ack is not None:
                on_ack(st[0], p)
        elif p['type'] == NAK and st[1] == REQUEST:
            st[1], st[3] = DISCOVER, time.monotonic()  # start over, as a client would
            self.send(DISCOVER, p['xid'], st[0])


def in_range(addr, first, last):
    a = ipaddress.ip_address(addr)
    return ipaddress.ip_address(first) <= a <= ipaddress.ip_address(last)


def client_mac(i, base=0x0a):
    """A deterministic locally administered MAC for crafted client i."""
    return '02:%02x:00:%02x:%02x:%02x' % (base, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
