# SPDX-License-Identifier: MPL-2.0
"""Pool exhaustion: with two addresses, the third client gets no offer and it is visible."""

import re

import pytest

from dhcp_util import ACK, Probe, client_mac, subnet_conf

# Names a counter of DISCOVERs dropped for want of an address may reasonably have.
EXHAUSTED_COUNTER = re.compile(r'exhaust|no[-_ ]?free|no[-_ ]?lease|no[-_ ]?addr|pool[-_ ]?full',
                               re.I)


@pytest.mark.deadline(60)
def test_third_client_gets_no_offer(lab, server):
    server.start(subnet_conf(first='192.0.2.100', last='192.0.2.101', lease_time=600))
    cli = lab.host('cli', addrs=())
    with Probe(cli) as probe:
        got = []
        for i in range(2):
            ack = probe.dora(client_mac(i), timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK, ack
            got.append(ack['yiaddr'])
        assert sorted(got) == ['192.0.2.100', '192.0.2.101']
        third = probe.discover(client_mac(2), timeout=2, tries=2)
        assert third is None, 'an offer from an exhausted pool: %r' % third
    server.wait_log(r'no free lease|exhausted', 5, 'server logs the exhausted pool')
    if server.kind == 'paceless':
        counters = server.counters()
        hits = {k: v for k, v in counters.items() if EXHAUSTED_COUNTER.search(k) and v}
        assert hits, 'no counter shows the exhaustion: %r' % counters
