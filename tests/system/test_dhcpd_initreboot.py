# SPDX-License-Identifier: MPL-2.0
"""INIT-REBOOT from the wrong subnet: NAK when authoritative, silence when not."""

import pytest

from dhcp_util import NAK, OFFER, Dhclient, Probe, in_range, subnet_conf

WRONG = '203.0.113.50'


@pytest.mark.deadline(60)
@pytest.mark.parametrize('authoritative', [True, False], ids=['authoritative', 'not-authoritative'])
def test_crafted_init_reboot_wrong_subnet(lab, server, authoritative):
    server.start(subnet_conf(authoritative=authoritative))
    cli = lab.host('cli', addrs=())
    mac = cli.mac()
    with Probe(cli) as probe:
        reply = probe.request(mac, WRONG, server_id=None, timeout=2, tries=2)
        if authoritative:
            assert reply is not None, 'no DHCPNAK for %s from an authoritative server' % WRONG
            assert reply['type'] == NAK, reply
            assert reply['server_id'] == '192.0.2.1', reply
            assert reply['yiaddr'] == '0.0.0.0', reply
        else:
            assert reply is None, 'a non-authoritative server must stay silent: %r' % reply
        # The same client on the same path is served normally: the silence above was policy.
        offer = probe.discover(mac, timeout=3, tries=2)
        assert offer is not None and offer['type'] == OFFER, offer
        assert in_range(offer['yiaddr'], '192.0.2.100', '192.0.2.199'), offer
    assert server.running()
    if server.kind == 'paceless':
        # The operator can tell why: NAKs sent, or requests ignored as not authoritative.
        c = server.counters()
        key = 'nak' if authoritative else 'authoritative'
        hits = {k: v for k, v in c.items() if key in k.lower() and not k.startswith('received')}
        assert hits and max(hits.values()) >= 1, c


@pytest.mark.deadline(60)
def test_dhclient_init_reboot_nak_then_bound(lab, server, artifacts):
    # dhclient remembers 203.0.113.50 (another network): the NAK sends it back to DISCOVER.
    server.start(subnet_conf(authoritative=True))
    cli = lab.host('cli', addrs=())
    client = Dhclient(cli, artifacts)
    client.seed_lease(WRONG)
    client.start()
    _, ip = client.wait_event(('BOUND',), 30)
    assert in_range(ip, '192.0.2.100', '192.0.2.199'), ip
    assert 'DHCPNAK' in client.log(), client.log()
    cli.wait_for(lambda: client.address() == ip, 5, 'address on eth0')
