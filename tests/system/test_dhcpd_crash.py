# SPDX-License-Identifier: MPL-2.0
"""SIGKILL under load: every ACK a client received survives the crash, and stays its own."""

import collections
import time

import pytest

from dhcp_util import Probe, client_mac, subnet_conf

CLIENTS_N = 200


@pytest.mark.deadline(150)
@pytest.mark.parametrize('kill_after_acks', [20, 120])
def test_sigkill_during_load_keeps_acked_leases(lab, server, kill_after_acks):
    conf = subnet_conf(first='192.0.2.10', last='192.0.2.250', lease_time=3600)
    server.start(conf)
    cli = lab.host('cli', addrs=())
    macs = [client_mac(i) for i in range(CLIENTS_N)]
    acked = {}  # mac -> address, every ACK any client received, before and after the crash
    owners = collections.defaultdict(set)  # address -> macs it was ACKed to
    killed = []

    def on_ack(mac, p):
        acked[mac] = p['yiaddr']
        owners[p['yiaddr']].add(mac)
        if len(acked) >= kill_after_acks and not killed:
            server.kill()  # mid-burst: other clients' requests are in flight
            killed.append(time.monotonic())

    with Probe(cli) as probe:
        probe.run_many(macs, 60, rate=400, on_ack=on_ack,
                       stop=lambda: killed and time.monotonic() - killed[0] > 0.5)
        assert killed, 'the server was not killed: only %d ACKs' % len(acked)
        before = dict(acked)
        server.start()  # same config and lease file
        rest = [m for m in macs if m not in before]
        probe.run_many(rest, 60, rate=400, on_ack=on_ack)

    assert len(acked) == CLIENTS_N, 'only %d of %d clients were served' % (len(acked),
                                                                        CLIENTS_N)
    shared = {a: m for a, m in owners.items() if len(m) > 1}
    assert not shared, 'addresses ACKed to more than one client: %r' % shared
    leases = server.leases()
    lost = {m: a for m, a in before.items()
            if a not in leases or leases[a].hardware != m or leases[a].state != 'active'}
    assert not lost, '%d leases ACKed before the crash are missing: %r' % (len(lost), lost)
    lost = {m: a for m, a in acked.items()
            if a not in leases or leases[a].hardware != m or leases[a].state != 'active'}
    assert not lost, '%d ACKed leases missing from the lease file: %r' % (len(lost), lost)
    if server.kind == 'paceless':
        listed = {l['address']: l for l in server.ctl('lease-list')}
        for m, a in acked.items():
            assert a in listed and listed[a].get('state') == 'active', (m, a, listed.get(a))
            assert (listed[a].get('hardware') or '').lower().endswith(m), (m, listed[a])
