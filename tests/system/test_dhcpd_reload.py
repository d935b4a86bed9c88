# SPDX-License-Identifier: MPL-2.0
"""Reloading dhcpd.conf (SIGHUP): a changed range takes effect, leases are kept, and an invalid
config is refused with the running one kept."""

import json
import os

import pytest

from dhcp_util import ACK, Probe, client_mac, in_range, paceless_only, subnet_conf
from lab import wait_for

OLD = subnet_conf(first='192.0.2.100', last='192.0.2.109', lease_time=3600)
# The range shrinks to the three addresses in use and a new range opens: the existing leases
# stay valid, the removed addresses 103-109 must not be handed out any more.
NEW = subnet_conf(first='192.0.2.100', last='192.0.2.102', lease_time=3600,
                  subnet_extra='  range 192.0.2.150 192.0.2.159;\n')


def reload_and_wait(server, conf):
    """paceless: SIGHUP, then wait until the log or pool-stats shows that it acted.
    ISC has no reload: Server.reload restarts it, as its operators do."""
    if server.kind != 'paceless':
        server.reload(conf)
        return
    log_before = len(server.log())
    stats_before = json.dumps(server.ctl('pool-stats'), sort_keys=True)

    def acted():
        tail = server.log()[log_before:]
        if 'reload' in tail.lower() or os.path.basename(server.conf_path) in tail:
            return True
        return json.dumps(server.ctl('pool-stats'), sort_keys=True) != stats_before
    server.reload(conf)
    wait_for(acted, 10, 'paceless to act on SIGHUP')
    assert server.running(), 'paceless exited on SIGHUP'


@pytest.mark.deadline(60)
def test_changed_range_takes_effect(lab, server):
    server.start(OLD)
    cli = lab.host('cli', addrs=())
    with Probe(cli) as probe:
        old = {}
        for i in range(3):
            ack = probe.dora(client_mac(i), timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK, ack
            old[client_mac(i)] = ack['yiaddr']
        assert sorted(old.values()) == ['192.0.2.100', '192.0.2.101', '192.0.2.102']

        reload_and_wait(server, NEW)

        for i in range(10, 15):
            ack = probe.dora(client_mac(i), timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK, ack
            assert in_range(ack['yiaddr'], '192.0.2.150', '192.0.2.159'), ack['yiaddr']
        for mac, addr in old.items():
            ack = probe.request(mac, addr, timeout=3, tries=2)  # INIT-REBOOT: still mine?
            assert ack is not None and ack['type'] == ACK and ack['yiaddr'] == addr, (mac, ack)
    leases = server.leases()
    for mac, addr in old.items():
        assert leases[addr].state == 'active' and leases[addr].hardware == mac, leases[addr]


@pytest.mark.deadline(60)
def test_invalid_config_on_sighup_keeps_old(lab, server):
    paceless_only(server)
    server.start(NEW)
    cli = lab.host('cli', addrs=())
    log_before = len(server.log())
    server.write_conf(NEW + 'subnet 192.0.2.0 netmask {\n  rnage 1 2;\n')  # broken
    server.reload()
    name = os.path.basename(server.conf_path)
    wait_for(lambda: name + ':' in server.log()[log_before:], 10,
             'the reload error naming %s:LINE in the log' % name)
    assert server.running(), 'paceless exited on an invalid config'
    with Probe(cli) as probe:
        ack = probe.dora(client_mac(20), timeout=3, tries=2)
        assert ack is not None and ack['type'] == ACK, ack
        assert in_range(ack['yiaddr'], '192.0.2.100', '192.0.2.102') or \
            in_range(ack['yiaddr'], '192.0.2.150', '192.0.2.159'), ack
