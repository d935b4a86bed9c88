# SPDX-License-Identifier: MPL-2.0
"""Host names in dhcpd.conf where ISC takes them (options, fixed-address): looked up to serve.

The lookups stay inside the lab: `ip netns exec` puts /etc/netns/NS/hosts and resolv.conf over
/etc's in the server's namespace, so the server resolves from our hosts file, and a name that
is not there goes to a resolver on the namespace's own loopback, where nothing listens.
"""

import os
import shutil

import pytest

import dhcp_util
from dhcp_util import Udhcpc, subnet_conf

HOSTS = '192.0.2.53 ns1.example.org\n198.51.100.53 ns2.example.org\n' \
        '192.0.2.1 gw.example.org\n192.0.2.77 pc.example.org\n'


@pytest.fixture
def names(server):
    """The server namespace's own /etc/hosts and resolv.conf; removed afterwards."""
    d = os.path.join('/etc/netns', server.host.ns)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'hosts'), 'w') as f:
        f.write('127.0.0.1 localhost\n' + HOSTS)
    with open(os.path.join(d, 'resolv.conf'), 'w') as f:
        f.write('nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
    yield
    shutil.rmtree(d, ignore_errors=True)


def _bind(lab, artifacts, mac=None):
    host = lab.host('cli', addrs=())
    if mac:
        host.run(['ip', 'link', 'set', 'eth0', 'address', mac])
    client = Udhcpc(host, artifacts)
    client.start()
    client.wait_event(client.BOUND, 20)
    return client.bound_options()


@pytest.mark.deadline(60)
def test_names_resolved(lab, server, names, artifacts):
    """Debian's example style: DNS servers, router and a reservation written as names."""
    server.start(subnet_conf(
        extra='option domain-name-servers ns1.example.org, ns2.example.org;\n',
        subnet_extra='  option routers gw.example.org;\n') +
        'host pc {\n  hardware ethernet 02:00:00:00:00:77;\n  fixed-address pc.example.org;\n}\n')
    ip, opts = _bind(lab, artifacts, mac='02:00:00:00:00:77')
    assert ip == '192.0.2.77'
    assert opts['dns'].split() == ['192.0.2.53', '198.51.100.53'], opts
    assert opts['router'] == '192.0.2.1', opts


@pytest.mark.deadline(60)
def test_unresolvable_name_left_out(lab, server, names, artifacts):
    """A name that does not resolve leaves its option out, says where, and the rest serves."""
    dhcp_util.paceless_only(server)
    server.start(subnet_conf(
        extra='option domain-name-servers ns1.example.org;\n',
        subnet_extra='  option routers nowhere.example.org;\n'))
    ip, opts = _bind(lab, artifacts)
    assert ip.startswith('192.0.2.'), ip
    assert opts['dns'] == '192.0.2.53', opts
    assert opts['router'] == '', opts
    assert "cannot resolve 'nowhere.example.org'" in server.log()
    assert 'option routers left out' in server.log()
