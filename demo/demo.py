#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The paceless-dhcpd demo: a live network in namespaces where real clients get addresses.

Step by step: an ISC-syntax dhcpd.conf is checked; paceless-dhcpd serves a LAN and, through a
real ISC relay, a second segment; dhclient, udhcpc and dhcpcd get leases; the control socket
shows leases and pools; ISC's own dhcpd accepts our lease file; the server is killed with
SIGKILL and restarted with every lease intact. Then a failover pair, paceless-dhcpd primary
and ISC dhcpd secondary with ISC's failover configuration: both reach normal, clients are
split between them, the secondary is killed and the primary serves everyone, takes over the
partner's leases after partner-down, and both return to normal when ISC comes back.
Everything lives in network namespaces with TEST-NET addresses, and is removed at the end.
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'tests', 'system'))

from lab import Lab  # noqa: E402
import dhcp_util as du  # noqa: E402

CONF = '''# An ordinary ISC dhcpd.conf: nothing here is paceless-specific.
authoritative;
ddns-update-style none;
default-lease-time 600;
max-lease-time 7200;
option domain-name "demo.test";
option domain-name-servers 192.0.2.53;

subnet 192.0.2.0 netmask 255.255.255.0 {
  range 192.0.2.100 192.0.2.199;
  option routers 192.0.2.1;
}

# The segment behind the relay
subnet 198.51.100.0 netmask 255.255.255.0 {
  range 198.51.100.100 198.51.100.199;
  option routers 198.51.100.1;
}

host printer {
  hardware ethernet 02:00:00:00:00:99;
  fixed-address 192.0.2.99;
}
'''

FO_CONF = '''# ISC's failover configuration, for both servers of the pair (%(role)s here).
authoritative;
ddns-update-style none;
ping-check false;
default-lease-time 600;
max-lease-time 7200;

failover peer "demo-pair" {
  %(role)s;
  address %(me)s;
  port 647;
  peer address %(peer)s;
  peer port 647;
  max-response-delay 10;
  max-unacked-updates 10;
  load balance max seconds 3;
  %(primary_only)s
}

subnet 192.0.2.0 netmask 255.255.255.0 {
  option routers 192.0.2.1;
  pool {
    failover peer "demo-pair";
    range 192.0.2.100 192.0.2.119;
  }
}
'''


def fo_conf(role):
    primary = role == 'primary'
    return FO_CONF % {'role': role, 'me': '192.0.2.1' if primary else '192.0.2.2',
                      'peer': '192.0.2.2' if primary else '192.0.2.1',
                      'primary_only': 'mclt 20;\n  split 128;' if primary else ''}


STEP = [0]


def step(title):
    STEP[0] += 1
    print('\n\033[1m== %d. %s\033[0m' % (STEP[0], title), flush=True)


def show(cmd, out):
    print('$ ' + cmd)
    for line in out.rstrip().splitlines():
        print('  ' + line)
    sys.stdout.flush()


def ctl(server, command, *args):
    r = subprocess.run([du.pacelessctl(), '-s', server.ctl_path, command] + list(args),
                       capture_output=True, text=True, timeout=10)
    show('pacelessctl %s %s' % (command, ' '.join(args)), r.stdout + r.stderr)


def main():
    work = tempfile.mkdtemp(prefix='paceless-demo-')
    with Lab() as lab:
        step('A LAN in network namespaces: a server, three clients, a relay to a second segment')
        lab.bridge('far')
        srv_host = lab.host('server', addrs=('192.0.2.1/24',))
        srv_host.run(['ip', 'route', 'add', '198.51.100.0/24', 'via', '192.0.2.2'])
        relay = lab.host('relay', addrs=('192.0.2.2/24',))
        relay.add_iface('far', addrs=('198.51.100.1/24',), ifname='eth1')
        relay.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
        clients = {kind: lab.host(kind, addrs=()) for kind in ('dhclient', 'udhcpc', 'dhcpcd')}
        far = lab.host('far-client', bridge='far', addrs=())
        print('server 192.0.2.1 | relay 192.0.2.2 <-> 198.51.100.1 | clients: %s, far-client' %
              ', '.join(clients))

        server = du.Server('paceless', srv_host, work)
        server.write_conf(CONF)
        step('The ISC dhcpd.conf, checked with paceless-dhcpd -t (as with ISC dhcpd -t)')
        show('cat dhcpd.conf', CONF)
        r = subprocess.run([du.paceless_dhcpd(), '-t', '-cf', server.conf_path],
                           capture_output=True, text=True)
        show('paceless-dhcpd -t -cf dhcpd.conf; echo $?', r.stdout + r.stderr + str(r.returncode))

        step('Start paceless-dhcpd with ISC\'s command line')
        server.start()
        print('$ ' + ' '.join(server.argv()))
        print('  serving (log: %s)' % server.log_path)

        step('Real clients ask for addresses')
        print('  (a new address is pinged first and offered after 1 s of silence: ping-check,')
        print('   on by default in ISC dhcpd and here)')
        for kind, host in clients.items():
            c = du.CLIENTS[kind](host, work)
            t0 = time.monotonic()
            c.start()
            reason, ip = c.wait_event(c.BOUND, 30)
            host.wait_for(c.address, 10, 'address on %s' % kind)
            print('  %-9s %s got %s in %.0f ms' % (kind, c.mac, c.address(),
                                                   1000 * (time.monotonic() - t0)))
        relay.spawn(['dhcrelay', '-d', '-4', '-a', '-iu', 'eth0', '-id', 'eth1', '192.0.2.1'],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        c = du.Udhcpc(far, work)
        c.start()
        c.wait_event(c.BOUND, 30)
        far.wait_for(c.address, 10, 'address on far-client')
        print('  %-9s %s got %s through the ISC relay' % ('far', c.mac, c.address()))

        step('What the server knows, through its control socket')
        ctl(server, 'lease-list', 'state=active')
        ctl(server, 'pool-stats')

        step('The lease file is ISC\'s format: ISC dhcpd itself accepts it')
        show('tail -n 12 dhcpd.leases', ''.join(open(server.lease_path).readlines()[-12:]))
        r = subprocess.run(['/usr/sbin/dhcpd', '-4', '-T', '-cf', server.conf_path, '-lf',
                            server.lease_path], capture_output=True, text=True)
        show('dhcpd -T -cf dhcpd.conf -lf dhcpd.leases; echo $?',
             '\n'.join(l for l in (r.stdout + r.stderr).splitlines()
                       if 'lease' in l.lower() or 'error' in l.lower())
             + '\nexit status %d' % r.returncode)

        step('Counters: what was received, answered and dropped (non-zero ones)')
        counters = server.ctl('counters')
        print('$ pacelessctl counters')
        for k, v in counters.items():
            if v:
                print('  %-28s %d' % (k, v))

        step('SIGKILL the server, start it again: every acknowledged lease is still there')
        before = {l['address'] for l in server.ctl('lease-list', state='active')}
        server.kill()
        print('  killed; restarting')
        server.start()
        after = {l['address'] for l in server.ctl('lease-list', state='active')}
        print('  active leases before: %d, after: %d, lost: %d' %
              (len(before), len(after), len(before - after)))

        step('Clean up: processes stopped, namespaces removed')
    failover_demo(os.path.join(work, 'failover'))
    print('  done; files kept in %s' % work)


def fo_states(server):
    p = server.ctl('failover-state')['peers'][0]
    return p['my_state'], p['partner_state']


def new_client(lab, name, work, timeout=30):
    c = du.Dhclient(lab.host(name, addrs=()), work)
    c.start()
    reason, ip = c.wait_event(c.BOUND, timeout)
    return c, ip


def agree(ours, isc, timeout=15):
    """Waits until both servers' lease files hold the same active leases, and says so."""
    t0 = time.monotonic()
    while True:
        mine = {l['address'] for l in ours.ctl('lease-list', state='active')}
        theirs = {a for a, l in isc.leases().items() if l.state == 'active'}
        if mine == theirs or time.monotonic() - t0 > timeout:
            break
        time.sleep(0.2)
    print('  active leases: paceless %d, ISC %d; %s' % (
        len(mine), len(theirs), 'the same ones' if mine == theirs else 'THEY DIFFER'))


def failover_demo(work):
    os.makedirs(work)
    with Lab() as lab:
        step('A failover pair: paceless-dhcpd primary 192.0.2.1, ISC dhcpd 4.4 secondary '
             '192.0.2.2')
        ours = du.Server('paceless', lab.host('primary', addrs=('192.0.2.1/24',)), work,
                         name='primary')
        isc = du.Server('isc', lab.host('secondary', addrs=('192.0.2.2/24',)), work,
                        name='secondary')
        show('cat primary.conf  # ISC\'s failover statements, unchanged', fo_conf('primary'))
        ours.start(fo_conf('primary'))
        isc.start(fo_conf('secondary'))
        t0 = time.monotonic()
        lab.hosts['primary'].wait_for(lambda: fo_states(ours) == ('normal', 'normal'), 60,
                                      'the pair in normal')
        print('  both normal after %.1f s (new servers recover from each other first)' %
              (time.monotonic() - t0))
        ctl(ours, 'failover-state')

        step('Clients are split between the servers by the RFC 3074 hash')
        for i in range(6):
            c, ip = new_client(lab, 'c%d' % i, work)
            line = [l for l in open(isc.log_path) if 'DHCPACK on %s ' % ip in l]
            print('  %s got %s from %s' % (c.mac, ip, 'ISC (secondary)' if line
                                             else 'paceless (primary)'))
        agree(ours, isc)

        step('SIGKILL the ISC secondary: the primary serves every client alone')
        isc.kill()
        lab.hosts['primary'].wait_for(
            lambda: fo_states(ours)[0] == 'communications-interrupted', 15, 'interrupted')
        print('  primary: %s / partner %s' % fo_states(ours))
        c, ip = new_client(lab, 'c-alone', work)
        print('  a new client %s got %s (one of the primary\'s own free leases)' % (c.mac, ip))

        step('The operator declares the partner down; after MCLT its leases are usable too')
        ctl(ours, 'failover-partner-down')

        step('ISC comes back: it recovers from the primary and both return to normal')
        isc.start()
        t0 = time.monotonic()
        lab.hosts['primary'].wait_for(lambda: fo_states(ours) == ('normal', 'normal'), 90,
                                      'the pair in normal again')
        print('  normal again after %.1f s' % (time.monotonic() - t0))
        agree(ours, isc)
        step('Clean up the pair')


if __name__ == '__main__':
    main()
