# SPDX-License-Identifier: MPL-2.0
"""dhcpd.leases interop of our parser and writer with ISC dhcpd 4.4, through
tests/tools/leasefile-roundtrip: ISC accepts what we write, and we read what ISC writes."""

import os
import re
import shutil
import subprocess
import time

import pytest

from dhcp_util import REPO, Server, build_dir, isc_lease_check, subnet_conf

SAMPLES = os.path.join(REPO, 'tests', 'data', 'leases')
CONF = subnet_conf(first='192.0.2.10', last='192.0.2.200', lease_time=3600)
# Every field our record keeps, as our writer spells it (canonical: one statement per line).
FIELDS = ('starts', 'ends', 'tstp', 'tsfp', 'atsfp', 'cltt', 'binding state',
          'next binding state', 'rewind binding state', 'reserved', 'dynamic-bootp', 'hardware',
          'uid', 'client-hostname')


def tool():
    path = os.path.join(build_dir(), 'tests', 'tools', 'leasefile-roundtrip')
    if not os.access(path, os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % path)
    return path


def roundtrip(src, dst):
    """Parses src with our parser, writes dst with our writer; returns the lease count."""
    r = subprocess.run([tool(), src, dst], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, 'leasefile-roundtrip %s: %s' % (src, r.stderr)
    assert 'torn tail' not in r.stderr, r.stderr
    return int(r.stdout.strip())


def records(path):
    """Our writer's output as a list of (address, {field: value}), in file order."""
    out = []
    with open(path) as f:
        text = f.read()
    for m in re.finditer(r'^lease (\S+) \{\n(.*?)^\}\n', text, re.M | re.S):
        fields = {}
        for line in m.group(2).splitlines():
            stmt = line.strip().rstrip(';')
            for name in FIELDS:
                if stmt == name or stmt.startswith(name + ' '):
                    fields[name] = stmt[len(name):].strip()
                    break
            else:
                raise AssertionError('unexpected line %r in %s' % (line, path))
        out.append((m.group(1), fields))
    return out


def isc_ok(conf_path, lease_path):
    ok, kept, out = isc_lease_check(conf_path, lease_path)
    assert ok, 'ISC dhcpd -T rejects %s:\n%s' % (lease_path, out)
    return kept


@pytest.mark.deadline(60)
@pytest.mark.parametrize('name', ['isc-rich.leases', 'isc-written.leases',
                                  'isc-written-epoch-hex.leases'])
def test_isc_sample_roundtrip(artifacts, name):
    """An ISC-format file (hand-made with every statement, or written by ISC dhcpd): ISC accepts
    it, we read it, ISC accepts our rewrite of it, and our rewrite reads back to the very same
    records (our output is canonical: byte-identical)."""
    conf = os.path.join(artifacts, 'dhcpd.conf')
    with open(conf, 'w') as f:
        f.write(CONF)
    sample = os.path.join(artifacts, name)
    shutil.copy(os.path.join(SAMPLES, name), sample)  # dhcpd -T writes its temp file beside it
    kept_isc = isc_ok(conf, sample)

    ours = os.path.join(artifacts, 'ours.leases')
    n = roundtrip(sample, ours)
    with open(sample) as f:
        assert n == len(re.findall(r'^lease ', f.read(), re.M))
    kept_ours = isc_ok(conf, ours)
    assert kept_ours == kept_isc

    again = os.path.join(artifacts, 'again.leases')
    assert roundtrip(ours, again) == n
    assert records(again) == records(ours)
    with open(ours, 'rb') as a, open(again, 'rb') as b:
        assert a.read() == b.read()


def isc_time(t):
    return time.strftime('%w %Y/%m/%d %H:%M:%S', time.gmtime(t))


def input_leases(now):
    """Leases for ISC to take over at start-up: active ones (ends in the future, so that ISC
    does not expire them on the way), with every uid and host name spelling."""
    leases = []
    uids = ['"\\001RT\\000\\000\\000\\001"', '01:52:54:00:00:00:02', '"plain-uid"',
            '"\\000\\377\\"\\\\ x"', None]
    for i, uid in enumerate(uids, start=1):
        lines = ['lease 192.0.2.%d {' % (20 + i),
                 '  starts %s;' % isc_time(now - 600 - i),
                 '  ends %s;' % isc_time(now + 3600 + i),
                 '  cltt %s;' % isc_time(now - 600 - i),
                 '  binding state active;',
                 '  next binding state free;',
                 '  rewind binding state free;',
                 '  hardware ethernet 52:54:00:00:00:%02x;' % i]
        if uid:
            lines.append('  uid %s;' % uid)
        if i != 3:
            lines.append('  client-hostname "client-%d";' % i)
        lines.append('}')
        leases.append('\n'.join(lines) + '\n')
    # Flags, never, and statements ISC keeps but we skip (ISC writes them back).
    leases.append('lease 192.0.2.41 {\n  starts %s;\n  ends never;\n  binding state active;\n'
                  '  reserved;\n  dynamic-bootp;\n  hardware ethernet 52:54:00:00:00:41;\n'
                  '  uid "x";\n  set foo = "bar";\n  option agent.circuit-id "abc";\n'
                  '  on expiry { set x = "y"; }\n}\n' % isc_time(now - 60))
    return ''.join(leases)


@pytest.mark.deadline(90)
@pytest.mark.parametrize('extra', ['', 'db-time-format local;\nlease-id-format hex;\n'],
                         ids=['default', 'epoch-hex'])
def test_we_read_what_isc_writes(lab, artifacts, extra):
    """ISC dhcpd rewrites its lease file at start-up; we parse what it wrote and find the same
    leases (times, states, hardware, uid, host name) as the file it was given. With
    db-time-format local and lease-id-format hex ISC writes "epoch N; # ..." times and colon-hex
    uids instead."""
    tool()
    now = int(time.time())
    given = input_leases(now)
    given_path = os.path.join(artifacts, 'given.leases')
    with open(given_path, 'w') as f:
        f.write(given)
    srv = lab.host('srv', addrs=('192.0.2.1/24',))
    isc = Server('isc', srv, artifacts)
    isc.start(extra + CONF, leases=given)
    isc.stop()
    with open(isc.lease_path) as f:
        written = f.read()
    assert 'written by isc-dhcp-4.4' in written, 'ISC did not rewrite %s' % isc.lease_path
    if extra:
        assert re.search(r'^  starts epoch \d+; # ', written, re.M), written
        assert re.search(r'^  uid 01:52:54:00:00:00:01;', written, re.M), written

    ours_given = os.path.join(artifacts, 'given.ours')
    ours_isc = os.path.join(artifacts, 'isc.ours')
    assert roundtrip(given_path, ours_given) == 6
    assert roundtrip(isc.lease_path, ours_isc) >= 6
    want = dict(records(ours_given))
    got = dict(records(ours_isc))  # the last record of an address wins, as in the daemon
    compared = ('starts', 'ends', 'cltt', 'binding state', 'next binding state',
                'rewind binding state', 'reserved', 'dynamic-bootp', 'hardware', 'uid',
                'client-hostname')
    for addr, fields in want.items():
        assert addr in got, '%s missing from what ISC wrote:\n%s' % (addr, written)
        for name in compared:
            assert got[addr].get(name) == fields.get(name), (
                '%s %s: ISC wrote %r, was %r\n%s' % (addr, name, got[addr].get(name),
                                                     fields.get(name), written))


@pytest.mark.deadline(90)
def test_we_write_epoch_hex(lab, server, artifacts):
    """With db-time-format local and lease-id-format hex paceless writes ISC's epoch times and
    hex client ids, ISC dhcpd -T accepts the file, and a reload back to the defaults switches
    the records written from then on."""
    from dhcp_util import Udhcpc, paceless_only
    paceless_only(server)
    extra = 'db-time-format local;\nlease-id-format hex;\n'
    server.start(extra + CONF)
    client = Udhcpc(lab.host('cli', addrs=()), artifacts)
    client.start()
    _, ip = client.wait_event(client.BOUND, 20)
    uid = '01:' + client.mac.lower()
    text = server.lease_text()
    assert re.search(r'^  starts epoch \d+; # \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$', text,
                     re.M), text
    assert re.search(r'^  uid %s;$' % re.escape(uid), text, re.M), text
    kept = isc_ok(server.conf_path, server.lease_path)
    assert kept >= 1
    # Back to ISC's defaults: the next record is dated and its uid quoted.
    server.reload(CONF)
    n = len(client.events())
    client.renew()
    client.wait_event(client.RENEWED, 15, after=n)
    last = server.lease_text().rsplit('lease %s {' % ip, 1)[1]
    assert re.search(r'^  starts \d \d{4}/\d\d/\d\d \d\d:\d\d:\d\d;$', last, re.M), last
    assert re.search(r'^  uid "', last, re.M), last
    assert isc_ok(server.conf_path, server.lease_path) >= 1
