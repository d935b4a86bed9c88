# SPDX-License-Identifier: MPL-2.0
"""Bad datagrams are dropped and counted, and the server goes on serving."""

import struct

import pytest

from dhcp_util import ACK, COOKIE, DISCOVER, Probe, build_packet, client_mac, paceless_only, \
    subnet_conf


def bad_datagrams():
    good = build_packet(DISCOVER, 7, client_mac(1))
    yield 'truncated', good[:100]
    yield 'no_cookie', good[:236] + b'\0\0\0\0' + good[240:]
    yield 'bad_hlen', good[:2] + bytes([17]) + good[3:]
    yield 'bad_htype', good[:1] + bytes([0]) + good[2:]
    yield 'bad_op', bytes([3]) + good[1:]
    # An option whose length runs past the end of the packet.
    yield 'bad_option', good[:240] + bytes([53, 1, 1, 12, 200]) + b'x' * 10
    # Option overload pointing at file and sname that claim to overload again.
    overload_loop = bytearray(good[:240] + bytes([53, 1, 1, 52, 1, 3, 255]))
    overload_loop[108:111] = bytes([52, 1, 3])
    overload_loop[44:47] = bytes([52, 1, 3])
    yield 'overload_loop', bytes(overload_loop)
    yield 'oversize', good + b'\0' * 5000
    yield 'bad_msgtype', good[:240] + bytes([53, 2, 1, 1, 255])


@pytest.mark.deadline(60)
def test_bad_datagrams_are_dropped_and_counted(lab, server):
    paceless_only(server)
    server.start(subnet_conf(extra='ping-check false;'))
    cli = lab.host('cli', addrs=())
    with Probe(cli) as probe:
        for _ in range(20):
            for name, data in bad_datagrams():
                probe.sock.sendto(data, ('255.255.255.255', 67))
        # Still serving.
        ack = probe.dora(client_mac(2), timeout=3, tries=2)
    assert ack is not None and ack['type'] == ACK, ack
    assert server.running()
    c = server.counters()
    for reason in ('truncated', 'no_cookie', 'bad_hlen', 'bad_htype', 'bad_option',
                   'oversize', 'bad_msgtype'):
        assert c['dropped.' + reason] >= 20, (reason, c)
    # BOOTREPLY op (bad_op) is either dropped at decode or ignored as a reply; counted.
    assert c['dropped.bad_op'] + c['ignored.bootreply'] >= 20, c
    # Rate-limited: 180 bad datagrams, far fewer log lines.
    assert 0 < server.log().count('dropped ') <= 40
