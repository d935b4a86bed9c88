# SPDX-License-Identifier: MPL-2.0
"""Background lease-file rewrite: leases granted while it runs survive a crash right after."""

import time

import pytest

from dhcp_util import ACK, Probe, client_mac, paceless_only

# 198.18.0.0/15 is the benchmarking range: these leases only sit in the file, no packet
# is ever sent to or from them. They make the rewrite take long enough to overlap traffic.
FILE_LEASES = 150000

CONF = '''authoritative;
ping-check false;
default-lease-time 600;
max-lease-time 600;
shared-network lab {
  subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.250; }
  subnet 198.18.0.0 netmask 255.254.0.0 { range 198.18.0.10 198.19.255.250; }
}
'''


def lease_file(n):
    ends = time.strftime('%w %Y/%m/%d %H:%M:%S', time.gmtime(time.time() + 86400))
    starts = time.strftime('%w %Y/%m/%d %H:%M:%S', time.gmtime(time.time() - 60))
    out = []
    for i in range(n):
        a = 0xc6120000 + 10 + i
        out.append('lease %d.%d.%d.%d {\n  starts %s;\n  ends %s;\n  binding state active;\n'
                   '  next binding state free;\n  hardware ethernet 02:77:%02x:%02x:%02x:%02x;\n}\n'
                   % (a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, starts, ends,
                      (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255))
    return ''.join(out)


@pytest.mark.deadline(120)
def test_leases_granted_during_rewrite_survive_sigkill(lab, server):
    paceless_only(server)
    server.start(CONF, leases=lease_file(FILE_LEASES), timeout=60)
    cli = lab.host('cli', addrs=())
    acked = {}
    rewrites = server.counters()['lease-file-rewrites']
    during = 0
    with Probe(cli) as probe:
        def dora(i):
            ack = probe.dora(client_mac(i), timeout=3, tries=2)
            assert ack is not None and ack['type'] == ACK, ack
            acked[client_mac(i)] = ack['yiaddr']
        for i in range(20):
            dora(i)
        server.ctl('lease-file-rewrite')
        deadline = time.monotonic() + 60
        while server.counters()['lease-file-rewrites'] == rewrites:
            # New clients while addresses last, then the same ones again (same address).
            dora(20 + during % 200)
            during += 1
            assert time.monotonic() < deadline, 'rewrite did not finish'
        for j in range(220, 230):
            dora(j)
    # The rewrite really overlapped traffic: leases were granted while the child wrote.
    assert during > 0
    server.kill()
    server.start(timeout=60)
    for mac, addr in acked.items():
        lease = server.ctl('lease-get', address=addr)
        assert lease['hardware'] == mac and lease['state'] == 'active', (mac, addr, lease)
    assert server.counters()['leases'] >= FILE_LEASES + len(acked)
