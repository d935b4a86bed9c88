# SPDX-License-Identifier: MPL-2.0
"""ping-check (ISC's default): an address that answers a ping is abandoned, never offered."""

import pytest

from dhcp_util import ACK, Probe, client_mac, subnet_conf


@pytest.mark.deadline(60)
def test_address_in_use_is_skipped_and_abandoned(lab, server):
    # A host squats on the first address of the range without asking DHCP.
    lab.host('squatter', addrs=('192.0.2.100/24',))
    server.start(subnet_conf(first='192.0.2.100', last='192.0.2.101', lease_time=600))
    cli = lab.host('cli', addrs=())
    with Probe(cli) as probe:
        # The first DISCOVER may be the one whose ping finds the squatter (no offer then);
        # the client retries, as real clients do, and must end with the free address.
        ack = probe.dora(client_mac(1), timeout=4, tries=3)
    assert ack is not None and ack['type'] == ACK, ack
    assert ack['yiaddr'] == '192.0.2.101'
    server.host.wait_for(lambda: (server.leases().get('192.0.2.100') or None) and
                         server.leases()['192.0.2.100'].state == 'abandoned', 5,
                         'lease of the squatted address abandoned in the lease file')
    if server.kind == 'paceless':
        c = server.counters()
        assert c['ping-checks-answered'] >= 1, c
        assert c['leases-abandoned'] >= 1, c


@pytest.mark.deadline(60)
def test_ping_check_false_offers_at_once(lab, server):
    server.start(subnet_conf(first='192.0.2.100', last='192.0.2.101', lease_time=600,
                             extra='ping-check false;'))
    cli = lab.host('cli', addrs=())
    with Probe(cli) as probe:
        # One second is ISC's ping-timeout: an offer well inside it was not delayed by a ping.
        offer = probe.discover(client_mac(2), timeout=0.5, tries=1)
    assert offer is not None, 'no offer within 0.5 s with ping-check false'
