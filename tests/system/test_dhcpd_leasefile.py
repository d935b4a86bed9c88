# SPDX-License-Identifier: MPL-2.0
"""dhcpd.leases both ways: ISC accepts the file we write, we take over the file ISC wrote."""

import pytest

from lab import wait_for

from dhcp_util import ACK, Probe, Server, client_mac, isc_lease_check, subnet_conf

CONF = subnet_conf(first='192.0.2.100', last='192.0.2.199', lease_time=3600)
N = 5


def serve_clients(host, n, base):
    with Probe(host) as probe:
        acks = {}
        for i in range(n):
            mac = client_mac(i, base=base)
            ack = probe.dora(mac, timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK, (mac, ack)
            acks[mac] = ack['yiaddr']
    return acks


@pytest.mark.deadline(60)
@pytest.mark.parametrize('stop', ['sigterm', 'sigkill'])
def test_isc_accepts_our_lease_file(lab, server, stop):
    server.start(CONF)
    cli = lab.host('cli', addrs=())
    acks = serve_clients(cli, N, 0x0c)
    # Release one: the file then holds a state change too, not only fresh leases.
    with Probe(cli) as probe:
        mac, addr = next(iter(acks.items()))
        probe.release(mac, addr, '192.0.2.1')
    wait_for(lambda: server.leases()[addr].state in ('free', 'released'), 5, 'release recorded')
    if stop == 'sigterm':
        server.stop()
    else:
        server.kill()
    ok, kept, out = isc_lease_check(server.conf_path, server.lease_path)
    assert ok, 'dhcpd -T rejects %s:\n%s' % (server.lease_path, out)
    assert kept >= N, 'dhcpd -T kept %d leases of %d:\n%s' % (kept, N, out)
    leases = server.leases()
    for m, a in list(acks.items())[1:]:
        assert leases[a].hardware == m and leases[a].state == 'active', (a, leases.get(a))


@pytest.mark.deadline(60)
def test_takes_over_isc_lease_file(lab, server, artifacts):
    isc = Server('isc', server.host, artifacts, name='isc')
    isc.start(CONF)
    cli = lab.host('cli', addrs=())
    acks = serve_clients(cli, N, 0x0d)
    isc.stop()

    server.start(CONF, leases=isc.lease_text())
    if server.kind == 'paceless':
        listed = {l['address']: l for l in server.ctl('lease-list')}
    else:
        listed = {a: {'state': l.state, 'hardware': l.hardware}
                  for a, l in server.leases().items()}
    for m, a in acks.items():
        assert a in listed, 'lease %s of %s not listed: %r' % (a, m, sorted(listed))
        assert listed[a].get('state') == 'active', listed[a]
        assert (listed[a].get('hardware') or '').lower().endswith(m), listed[a]
    with Probe(cli) as probe:
        # Each client keeps its address (INIT-REBOOT), and a newcomer gets none of them.
        for m, a in acks.items():
            ack = probe.request(m, a, timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK and ack['yiaddr'] == a, (m, a, ack)
        newcomer = probe.dora(client_mac(99, base=0x0d), timeout=3, tries=2)
        assert newcomer is not None and newcomer['type'] == ACK, newcomer
        assert newcomer['yiaddr'] not in acks.values(), newcomer
