# SPDX-License-Identifier: MPL-2.0
"""Real DHCP clients (dhclient, udhcpc, dhcpcd) get, renew and release a lease."""

import pytest

from dhcp_util import CLIENTS, assert_lease, ctl_lease, in_range, subnet_conf
from lab import wait_for

FIRST, LAST = '192.0.2.100', '192.0.2.199'
LEASE_S = 20  # T1 = 10 s: every client renews on its own within the test


@pytest.mark.deadline(90)
@pytest.mark.parametrize('client_kind', sorted(CLIENTS))
def test_get_renew_release(lab, server, artifacts, client_kind):
    server.start(subnet_conf(first=FIRST, last=LAST, lease_time=LEASE_S))
    host = lab.host('cli', addrs=())
    client = CLIENTS[client_kind](host, artifacts)
    client.start()

    # Bound: the interface carries an address from the range, the server has it active.
    _, ip = client.wait_event(client.BOUND, 20)
    assert in_range(ip, FIRST, LAST), ip
    host.wait_for(lambda: client.address() == ip, 5, 'address %s on eth0' % ip)
    first = wait_for(lambda: server.active_lease(client.mac), 5,
                     'active lease of %s in the lease file' % client.mac)
    assert first.address == ip
    assert_lease(server, ip, client.mac)

    # Renewed at T1 by the client itself: same address, the lease's end moved forward.
    n = len(client.events())
    _, ip2 = client.wait_event(client.RENEWED, LEASE_S + 5, after=n)
    assert ip2 == ip
    renewed = wait_for(lambda: (lambda l: l if l and l.ends > first.ends else None)(
        server.active_lease(client.mac)), 5, 'lease end moved forward after renew')
    assert renewed.address == ip
    assert_lease(server, ip, client.mac)

    # Released: the address leaves the interface, the lease is free (or released).
    client.release()
    host.wait_for(lambda: client.address() is None, 10, 'address removed after release')
    wait_for(lambda: server.leases()[ip].state in ('free', 'released'), 10,
             'lease %s free after release' % ip)
    if server.kind == 'paceless':
        r = ctl_lease(server, address=ip)
        assert r is None or r.get('state') in ('free', 'released'), r
