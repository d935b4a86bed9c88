# SPDX-License-Identifier: MPL-2.0
"""The one network-namespace lab for paceless system tests and benchmarks.

A Lab is a small, private L2 network built from Linux network namespaces: one "switch"
namespace holds Linux bridges (each bridge is one L2 segment), and every Host is a namespace of
its own, joined to a bridge by a veth pair. Nothing leaves the lab: the namespaces have no
route to the machine's own interfaces, and tests use TEST-NET addresses only
(192.0.2.0/24 main LAN, 198.51.100.0/24 behind a relay, 203.0.113.0/24 spare).

Needs root (ip netns). Stable API (bench/ imports it; add, never change):

    from lab import Lab

    with Lab() as lab:                         # or the `lab` pytest fixture from conftest.py
        lab.bridge('relayed')                  # another L2 segment ('lan' exists already)
        srv = lab.host('srv', addrs=('192.0.2.1/24',))
        cli = lab.host('cli', addrs=())        # no address: a DHCP client
        p = srv.spawn(['some-daemon', '-f'], stdout=f, stderr=subprocess.STDOUT)  # tracked
        cli.run(['ip', 'link'])                # ip netns exec, check=True, timeout=30
        cli.wait_for(lambda: cli.addrs(), 10, 'client address')
    # on exit (also on exceptions): every spawned process gets SIGTERM, then SIGKILL after
    # a deadline; any process left inside a lab namespace is killed by PID; namespaces deleted.

Lab(prefix=None)
    prefix: short unique tag for namespace names; default 'pl<pid>x<n>' so parallel runs and
    several labs in one process do not collide. Namespaces are named '<prefix>-<name>'.
Lab.bridge(name) -> str            creates a bridge in the switch namespace; returns its name.
Lab.host(name, bridge='lan', addrs=('192.0.2.1/24',), ifname='eth0') -> Host
    a new namespace with lo up and one veth (named ifname) on bridge, holding addrs
    (CIDR strings; may be empty). bridge=None makes a host with no interface but lo.
Lab.close()                        idempotent; also run by __exit__ and at interpreter exit.
Lab.switch                         the switch namespace's name.
Lab.hosts                          dict name -> Host.
Lab.sweep_stale()                  static: deletes namespaces of labs whose process is gone.

Host.name, Host.ns                 the host's short name and its namespace's name.
Host.run(argv, check=True, timeout=30, **kw) -> subprocess.CompletedProcess
    runs argv inside the namespace (ip netns exec); output captured as text unless stdout/
    stderr are given in kw. Raises subprocess.CalledProcessError / TimeoutExpired.
Host.spawn(argv, **kw) -> subprocess.Popen
    starts argv inside the namespace; tracked: Lab.close() stops it. The Popen's pid is the
    program's own pid (ip netns exec execs it), so signals sent with Host.signal reach it.
    Run daemons in the foreground so that they stay tracked.
Host.stop(proc, timeout=5) -> int  SIGTERM, then SIGKILL after timeout; returns the exit code.
Host.signal(proc, sig)             sends sig to a spawned process (by PID).
Host.add_iface(bridge, addrs=(), ifname=None) -> str
    another veth into bridge (e.g. a relay on two segments); ifname defaults to eth<N>.
Host.addrs(ifname='eth0') -> list[str]   current IPv4 addresses of ifname, as 'A.B.C.D/len'.
Host.socket(family=AF_INET, type=SOCK_DGRAM, proto=0) -> socket.socket
    a socket created inside the namespace (setns on the calling thread, then back), used from
    this process: e.g. a crafted DHCP client or relay without a helper process.
Host.mac(ifname='eth0') -> str     the interface's MAC (lower case, colon separated).
Host.ifaces -> dict ifname -> mac  interfaces made by the lab.
Host.wait_for(predicate, timeout, what, interval=0.05)
    polls predicate until it returns a truthy value (returned) or raises AssertionError
    naming `what` after timeout seconds. Module-level wait_for() is the same thing.

MACs are deterministic: 02:50:<lab number>:00:<iface number>, distinct within a lab (the host
end of a veth; the switch ends get 02:51:...).
"""

import atexit
import ctypes
import itertools
import json
import os
import signal
import socket
import subprocess
import threading
import time

IP = '/usr/sbin/ip' if os.path.exists('/usr/sbin/ip') else 'ip'

_lab_counter = itertools.count(1)
_live_labs = []


def wait_for(predicate, timeout, what, interval=0.05):
    """Polls predicate() until truthy (returns that value); AssertionError naming what after
    timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError('timed out after %.1fs waiting for %s' % (timeout, what))
        time.sleep(interval)


def _ip(*args, check=True):
    return subprocess.run([IP] + list(args), check=check, capture_output=True, text=True,
                          timeout=30)


class Host:
    """One namespace in a Lab: an end system (server, client, relay). Made by Lab.host()."""

    def __init__(self, lab, name, ns):
        self.lab = lab
        self.name = name
        self.ns = ns
        self.ifaces = {}

    def __repr__(self):
        return 'Host(%r, ns=%r)' % (self.name, self.ns)

    def _argv(self, argv):
        return [IP, 'netns', 'exec', self.ns] + [str(a) for a in argv]

    def run(self, argv, check=True, timeout=30, **kw):
        """Runs argv in this namespace and waits for it (see the module docstring)."""
        if 'stdout' not in kw and 'stderr' not in kw and 'capture_output' not in kw:
            kw['capture_output'] = True
        kw.setdefault('text', True)
        return subprocess.run(self._argv(argv), check=check, timeout=timeout, **kw)

    def spawn(self, argv, **kw):
        """Starts argv in this namespace; the lab stops it on close."""
        kw.setdefault('stdin', subprocess.DEVNULL)
        proc = subprocess.Popen(self._argv(argv), **kw)
        self.lab._procs.append(proc)
        return proc

    def signal(self, proc, sig):
        """Sends sig to proc (a Popen from spawn) unless it already exited."""
        if proc.poll() is None:
            try:
                os.kill(proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, proc, timeout=5):
        """SIGTERM, then SIGKILL after timeout seconds; returns the exit status."""
        return _stop(proc, timeout)

    def add_iface(self, bridge, addrs=(), ifname=None):
        """Adds a veth from this host into bridge; returns the interface name."""
        return self.lab._attach(self, bridge, addrs, ifname)

    def addrs(self, ifname='eth0'):
        """IPv4 addresses currently on ifname, as 'A.B.C.D/len' strings."""
        out = self.run([IP, '-j', '-4', 'addr', 'show', 'dev', ifname]).stdout
        result = []
        for link in json.loads(out or '[]'):
            for a in link.get('addr_info', []):
                if a.get('family') == 'inet':
                    result.append('%s/%d' % (a['local'], a['prefixlen']))
        return result

    def socket(self, family=socket.AF_INET, type=socket.SOCK_DGRAM, proto=0):
        """A socket that lives in this namespace, usable from this process."""
        return _socket_in_ns(self.ns, family, type, proto)

    def mac(self, ifname='eth0'):
        """The MAC of ifname (lower case, colon separated)."""
        if ifname in self.ifaces:
            return self.ifaces[ifname]
        out = self.run([IP, '-j', 'link', 'show', 'dev', ifname]).stdout
        return json.loads(out)[0]['address']

    def wait_for(self, predicate, timeout, what, interval=0.05):
        """Same as the module-level wait_for, with the host's name in the message."""
        return wait_for(predicate, timeout, '%s (host %s)' % (what, self.name), interval)


_CLONE_NEWNET = 0x40000000
_setns_lock = threading.Lock()
_libc = None


def _setns(fd):
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, 'setns: ' + os.strerror(err))


def _socket_in_ns(ns, family, type, proto):
    # setns(CLONE_NEWNET) moves only the calling thread; a socket keeps the namespace it was
    # created in, so the thread creates it there and comes straight back.
    with _setns_lock:
        home = os.open('/proc/thread-self/ns/net', os.O_RDONLY)
        target = os.open('/run/netns/' + ns, os.O_RDONLY)
        try:
            _setns(target)
            try:
                return socket.socket(family, type, proto)
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)


def _stop(proc, timeout):
    if proc.poll() is None:
        try:
            proc.terminate()
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            try:
                proc.kill()
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
    return proc.returncode


class Lab:
    """A private L2 lab made of network namespaces (see the module docstring)."""

    def __init__(self, prefix=None):
        self.number = next(_lab_counter)
        self.prefix = prefix or 'pl%dx%d' % (os.getpid(), self.number)
        self.switch = self.prefix + '-sw'
        self.hosts = {}
        self.bridges = []
        self._procs = []
        self._namespaces = []
        self._ifcount = 0
        self._closed = False
        _live_labs.append(self)
        try:
            self._add_ns(self.switch)
            self.bridge('lan')
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def _add_ns(self, ns):
        _ip('netns', 'add', ns)
        self._namespaces.append(ns)
        _ip('-n', ns, 'link', 'set', 'lo', 'up')

    def bridge(self, name):
        """Creates an L2 segment named name in the switch namespace; returns name."""
        if len(name) > 15 or name in self.bridges:
            raise ValueError('bad or duplicate bridge name %r' % name)
        _ip('-n', self.switch, 'link', 'add', name, 'type', 'bridge', 'forward_delay', '0',
            'stp_state', '0', 'mcast_snooping', '0')
        _ip('-n', self.switch, 'link', 'set', name, 'up')
        self.bridges.append(name)
        return name

    def host(self, name, bridge='lan', addrs=('192.0.2.1/24',), ifname='eth0'):
        """A new namespace joined to bridge (see the module docstring)."""
        if name in self.hosts:
            raise ValueError('duplicate host %r' % name)
        ns = '%s-%s' % (self.prefix, name)
        self._add_ns(ns)
        h = Host(self, name, ns)
        self.hosts[name] = h
        # No IPv6 chatter (router solicitations, DAD) on the segments: DHCPv4 only.
        for key in ('all', 'default'):
            _ip('netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % key,
                check=False)
        if bridge is not None:
            self._attach(h, bridge, addrs, ifname)
        return h

    def _attach(self, h, bridge, addrs, ifname):
        if bridge not in self.bridges:
            raise ValueError('no bridge %r in this lab' % bridge)
        self._ifcount += 1
        n = self._ifcount
        ifname = ifname or 'eth%d' % len(h.ifaces)
        if len(ifname) > 15 or ifname in h.ifaces:
            raise ValueError('bad or duplicate interface name %r' % ifname)
        port = 'p%d' % n
        mac = '02:50:%02x:00:%02x:%02x' % (self.number & 0xff, (n >> 8) & 0xff, n & 0xff)
        port_mac = '02:51' + mac[5:]
        # Both ends are born in the switch namespace under lab-unique names, then the host
        # end moves and takes its final name: no clash with names the host already has.
        tmp = 'h%d' % n
        _ip('-n', self.switch, 'link', 'add', port, 'address', port_mac, 'type', 'veth', 'peer',
            'name', tmp, 'address', mac)
        _ip('-n', self.switch, 'link', 'set', tmp, 'netns', h.ns)
        _ip('-n', h.ns, 'link', 'set', tmp, 'name', ifname)
        _ip('-n', self.switch, 'link', 'set', port, 'master', bridge)
        _ip('-n', self.switch, 'link', 'set', port, 'up')
        for a in addrs:
            _ip('-n', h.ns, 'addr', 'add', a, 'dev', ifname)
        _ip('-n', h.ns, 'link', 'set', ifname, 'up')
        h.ifaces[ifname] = mac
        return ifname

    def close(self):
        """Stops every process of the lab and deletes its namespaces; idempotent."""
        if self._closed:
            return
        self._closed = True
        for p in self._procs:
            if p.poll() is None:
                try:
                    p.terminate()
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for p in self._procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)
        # Anything still inside a lab namespace (a client that forked into the background)
        # was started by this lab: kill it by PID.
        for ns in self._namespaces:
            _kill_ns_pids(ns)
        for ns in reversed(self._namespaces):
            _ip('netns', 'del', ns, check=False)
        self._namespaces = []
        if self in _live_labs:
            _live_labs.remove(self)

    @staticmethod
    def sweep_stale():
        """Deletes namespaces named by a Lab of a process that no longer exists."""
        out = _ip('netns', 'list', check=False).stdout
        for line in out.splitlines():
            ns = line.split()[0] if line.split() else ''
            if not ns.startswith('pl') or 'x' not in ns or '-' not in ns:
                continue
            pid = ns[2:ns.index('x')]
            if pid.isdigit() and not os.path.exists('/proc/%s' % pid):
                _kill_ns_pids(ns)
                _ip('netns', 'del', ns, check=False)


def _kill_ns_pids(ns):
    out = _ip('netns', 'pids', ns, check=False).stdout
    pids = [int(x) for x in out.split() if x.isdigit()]
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        pids = [p for p in pids if os.path.exists('/proc/%d' % p)]
        if pids:
            time.sleep(0.02)


@atexit.register
def _close_all():
    for lab in list(_live_labs):
        lab.close()
