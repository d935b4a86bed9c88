# SPDX-License-Identifier: MPL-2.0
"""Relayed clients: a real dhcrelay between two segments, and option 82 echoed to the relay."""

import pytest

from dhcp_util import ACK, OFFER, OPT_AGENT_INFO, Probe, Udhcpc, assert_lease, in_range, \
    subnet_conf

RELAYED_CONF = subnet_conf(subnet_extra='', first='192.0.2.100', last='192.0.2.199') + '''
subnet 198.51.100.0 netmask 255.255.255.0 {
  range 198.51.100.100 198.51.100.199;
  option routers 198.51.100.1;
}
'''


def relay_topology(lab, server, relay_lan='192.0.2.2', relay_far='198.51.100.1'):
    """A second segment 'far' behind a router/relay host; the server routes to it."""
    lab.bridge('far')
    relay = lab.host('relay', addrs=(relay_lan + '/24',))
    relay.add_iface('far', addrs=(relay_far + '/24',), ifname='eth1')
    relay.run(['sysctl', '-qw', 'net.ipv4.ip_forward=1'])
    server.host.run(['ip', 'route', 'add', '198.51.100.0/24', 'via', relay_lan])
    return relay


@pytest.mark.deadline(60)
def test_dhcrelay_client_gets_relayed_subnet(lab, server, artifacts):
    relay = relay_topology(lab, server)
    server.start(RELAYED_CONF)
    with open(artifacts + '/dhcrelay.log', 'w') as log:
        # -a adds option 82; dhcrelay checks and strips it from the server's replies.
        relay.spawn(['dhcrelay', '-d', '-4', '-a', '-i', 'eth1', '-i', 'eth0', '192.0.2.1'],
                    stdout=log, stderr=log)
    cli = lab.host('cli', bridge='far', addrs=())
    client = Udhcpc(cli, artifacts)
    client.start()
    _, ip = client.wait_event(client.BOUND, 30)
    assert in_range(ip, '198.51.100.100', '198.51.100.199'), ip
    cli.wait_for(lambda: client.address() == ip, 5, 'address on eth0')
    assert_lease(server, ip, client.mac)
    # Renewal is unicast from the client straight to the server, not through the relay:
    # the server must place it by the client's address (ISC's locate_network).
    cli.run(['ip', 'route', 'add', 'default', 'via', '198.51.100.1'])
    n = len(client.events())
    client.renew()
    _, renewed = client.wait_event(client.RENEWED, 20, after=n)
    assert renewed == ip
    server.wait_log(r'DHCPACK on %s to %s via eth0' % (ip.replace('.', r'\.'), client.mac), 10,
                    'the unicast renewal answered directly')


@pytest.mark.deadline(60)
def test_option82_echoed_to_relay(lab, server):
    # A crafted relay agent (giaddr 198.51.100.1, option 82 with circuit and remote id)
    # on the 'far' side of the router host: the server must answer the relay with option 82
    # byte for byte, for both OFFER and ACK.
    relay = relay_topology(lab, server)
    server.start(RELAYED_CONF)
    agent = bytes([1, 4]) + b'port' + bytes([2, 6]) + b'\x02\xaa\xbb\xcc\xdd\xee'
    mac = '02:0b:00:00:00:01'
    with Probe(relay, relay='198.51.100.1', server='192.0.2.1', agent_info=agent) as probe:
        offer = probe.discover(mac, timeout=3, tries=2)
        assert offer is not None and offer['type'] == OFFER, offer
        assert in_range(offer['yiaddr'], '198.51.100.100', '198.51.100.199'), offer
        assert offer['giaddr'] == '198.51.100.1', offer
        assert offer['options'].get(OPT_AGENT_INFO) == agent, offer['options']
        ack = probe.request(mac, offer['yiaddr'], offer['server_id'], timeout=3, tries=2)
        assert ack is not None and ack['type'] == ACK, ack
        assert ack['yiaddr'] == offer['yiaddr']
        assert ack['options'].get(OPT_AGENT_INFO) == agent, ack['options']
    assert_lease(server, ack['yiaddr'], mac)
