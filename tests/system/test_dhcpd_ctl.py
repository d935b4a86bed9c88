# SPDX-License-Identifier: MPL-2.0
"""The operator's view through pacelessctl: leases and counters after real traffic."""

import os
import subprocess

import pytest

from dhcp_util import ACK, Probe, client_mac, paceless_only, pacelessctl, subnet_conf


def ctl_cli(server, *args):
    r = subprocess.run([pacelessctl(), '-s', server.ctl_path] + list(args), capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, 'pacelessctl %s: %s%s' % (' '.join(args), r.stdout, r.stderr)
    return r.stdout


@pytest.mark.deadline(60)
def test_pacelessctl_shows_leases_and_counters(lab, server):
    paceless_only(server)
    if not os.access(pacelessctl(), os.X_OK):
        pytest.skip('%s not built' % pacelessctl())
    server.start(subnet_conf(lease_time=600))
    cli = lab.host('cli', addrs=())
    mac = client_mac(1)
    with Probe(cli) as probe:
        ack = probe.dora(mac, timeout=3, tries=2)
    assert ack is not None and ack['type'] == ACK, ack
    addr = ack['yiaddr']

    out = ctl_cli(server, 'lease-list')
    assert addr in out and mac in out.lower(), out
    out = ctl_cli(server, 'lease-get', 'address=' + addr)
    assert mac in out.lower() and 'active' in out, out

    counters = server.counters()
    assert all(isinstance(v, (int, float)) for v in counters.values()), counters
    discover = {k: v for k, v in counters.items() if 'discover' in k.lower()}
    assert discover and max(discover.values()) >= 1, counters
    acks = {k: v for k, v in counters.items() if 'ack' in k.lower() and 'nak' not in k.lower()}
    assert acks and max(acks.values()) >= 1, counters
    assert 'discover' in ctl_cli(server, 'counters').lower()
