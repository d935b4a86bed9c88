# SPDX-License-Identifier: MPL-2.0
"""TLS on the group's mesh: nodes with certificates from one CA form a group and agree on one
order; a node with another CA's certificate, or without TLS, never gets into the view and is
counted as refused; an eavesdropper on a link sees no cleartext; bad certificate files stop a
node at start with the reason; paceless-arbitrator joins a TLS group with garbd's socket.ssl_*
options. Certificates are made for each test with the openssl command (group_util.Pki)."""

import os
import subprocess
import sys

import pytest

import group_util
from group_util import (Arbitrator, Pki, TestNode, arbitrator_bin, check_order, node_bin,
                        start_group, wait_for)

lo = group_util.lo  # the fixture

CLUSTER = 'paceless-test'
RATE = 200
COUNT = 400
A, B, C = '127.0.0.1:24401', '127.0.0.1:24402', '127.0.0.1:24403'
TAP = '127.0.0.1:24409'


@pytest.fixture
def pki(artifacts):
    return Pki(artifacts, 'ca')


def two_tls_nodes(lo, artifacts, pki, rate=0, count=0):
    a = TestNode(lo, artifacts, 'a', A, bootstrap=True, tls=pki.files('a'), rate=rate,
                 count=count)
    b = TestNode(lo, artifacts, 'b', B, peers=[A], tls=pki.files('b'), rate=rate, count=count)
    wait_for(lambda: a.in_primary_view(['a', 'b']) and b.in_primary_view(['a', 'b']), 30,
             'a TLS view of a and b')
    return a, b


def never_member(nodes, name):
    for nd in nodes:
        for v in nd.views():
            assert name not in v[4], '%s is in view %d of %s: %s' % (name, v[1], nd.name, v)


@pytest.mark.deadline(90)
def test_three_tls_nodes_deliver_one_order(lo, artifacts, pki):
    nodes = start_group(lo, artifacts, 3, rate=RATE, count=COUNT, base_port=24410, pki=pki)
    total = 3 * COUNT
    wait_for(lambda: all(len(nd.deliveries()) >= total for nd in nodes), 60,
             '%d deliveries on each TLS node' % total)
    lists = [nd.deliveries() for nd in nodes]
    by_seq = check_order(lists, first_seq=1)
    assert sorted(by_seq) == list(range(1, total + 1))
    assert set(by_seq.values()) == {'n%d:%d' % (i + 1, k + 1) for i in range(3)
                                    for k in range(COUNT)}
    for nd in nodes:
        c = nd.counters()
        assert c.get('links_up', 0) >= 2 and c.get('tls_refused', 0) == 0, (nd.name, c)
        assert nd.stop() == 0, '%s did not stop cleanly' % nd.name


@pytest.mark.deadline(60)
def test_certificate_from_another_ca_is_refused(lo, artifacts, pki):
    """The stranger has a valid certificate from its own CA, and even trusts the group's CA
    (so it would accept the group): the group refuses it, before any HELLO."""
    a, b = two_tls_nodes(lo, artifacts, pki)
    other = Pki(artifacts, 'other-ca')
    cert, key, other_ca = other.files('stranger')
    both = os.path.join(artifacts, 'both-cas.pem')
    with open(both, 'w') as f:
        f.write(open(other_ca).read() + open(pki.ca).read())
    s = TestNode(lo, artifacts, 'stranger', C, peers=[A, B], tls=(cert, key, both))
    wait_for(lambda: a.counters().get('tls_refused', 0) >= 2 and
             b.counters().get('tls_refused', 0) >= 2, 20,
             'a and b refusing the stranger (reconnects, so at least twice)')
    never_member([a, b, s], 'stranger')
    assert s.counters().get('links_up', 0) == 0, s.counters()
    assert not any(v[2] and len(v[4]) > 1 for v in s.views()), s.views()
    assert a.in_primary_view(['a', 'b']) and b.in_primary_view(['a', 'b'])
    with open(a.err) as f:
        log = f.read()
    assert 'TLS: peer certificate refused' in log, log[-2000:]
    for nd in (s, a, b):
        assert nd.stop() == 0


@pytest.mark.deadline(60)
@pytest.mark.parametrize('joiner', ['plain-joins-tls', 'tls-joins-plain'])
def test_tls_and_plain_nodes_never_talk(lo, artifacts, pki, joiner):
    """Counted where the refusal happens: a TLS node refuses a plain HELLO (tls_refused);
    a plain node refuses a TLS handshake (hello_refused, logged as such) and the TLS node the
    plain HELLO it gets back (tls_refused). A plain client turned away by a TLS node only sees
    the connection close."""
    if joiner == 'plain-joins-tls':
        a, b = two_tls_nodes(lo, artifacts, pki)
        x = TestNode(lo, artifacts, 'x', C, peers=[A])
        counted = [(a, 'tls_refused')]
        why = 'TLS: '
    else:
        a = TestNode(lo, artifacts, 'a', A, bootstrap=True)
        b = TestNode(lo, artifacts, 'b', B, peers=[A])
        wait_for(lambda: a.in_primary_view(['a', 'b']) and b.in_primary_view(['a', 'b']), 30,
                 'a plain view of a and b')
        x = TestNode(lo, artifacts, 'x', C, peers=[A], tls=pki.files('x'))
        counted = [(a, 'hello_refused'), (x, 'tls_refused')]
        why = 'the peer speaks TLS and this node has no TLS'
    wait_for(lambda: all(nd.counters().get(k, 0) >= 2 for nd, k in counted), 20,
             'refusals counted: %s' % ', '.join('%s %s' % (nd.name, k) for nd, k in counted))
    never_member([a, b, x], 'x')
    assert x.counters().get('links_up', 0) == 0, x.counters()
    assert a.in_primary_view(['a', 'b'])
    with open(a.err) as f:
        log = f.read()
    assert why in log, log[-2000:]
    for nd in (x, a, b):
        assert nd.stop() == 0


@pytest.mark.deadline(60)
@pytest.mark.parametrize('tls', [True, False], ids=['tls', 'plain-control'])
def test_eavesdropper_sees_no_cleartext(lo, artifacts, pki, tls):
    """b joins through a relay that records every byte (what a tap on the wire would see).
    With TLS the capture holds no HELLO magic, cluster name, node name or payload; the plain
    run shows that the same capture does see them when TLS is off."""
    cap = os.path.join(artifacts, 'capture.bin')
    tap = lo.spawn(['/usr/bin/python3', os.path.join(os.path.dirname(__file__), 'tcp_tap.py'),
                    TAP, A, cap])
    cluster = 'secret-cluster-name'
    a = TestNode(lo, artifacts, 'alpha', A, bootstrap=True, cluster=cluster, rate=RATE,
                 count=100, tls=pki.files('alpha') if tls else None)
    wait_for(lambda: os.path.exists(cap) or tap.poll() is not None, 10, 'the tap listening')
    b = TestNode(lo, artifacts, 'bravo', B, peers=[TAP], cluster=cluster, rate=RATE,
                 count=100, tls=pki.files('bravo') if tls else None)
    wait_for(lambda: a.in_primary_view(['alpha', 'bravo']) and
             b.in_primary_view(['alpha', 'bravo']), 30, 'a view of alpha and bravo')
    wait_for(lambda: len(b.deliveries()) >= 200, 30, 'every message delivered on bravo')
    with open(cap, 'rb') as f:
        data = f.read()
    assert len(data) > 200, 'the tap saw only %d bytes' % len(data)
    secrets = [b'PCLG', cluster.encode(), b'alpha', b'bravo']
    if tls:
        assert data[0] == 0x16, 'the first byte is %#x, not a TLS handshake record' % data[0]
        for s in secrets + [b'alpha:1', b'bravo:1']:
            assert s not in data, '%r in cleartext on a TLS link' % s
    else:
        for s in secrets:
            assert s in data, 'the control capture misses %r: the tap test proves nothing' % s
    for nd in (a, b):
        assert nd.stop() == 0
    lo.stop(tap)


def tls_opts(files, listen=C, scheme='ssl'):
    cert, key, ca = files
    return ('gmcast.listen_addr=%s://%s; evs.keepalive_period=PT0.1S; '
            'evs.suspect_timeout=PT1S; evs.inactive_timeout=PT3S; socket.ssl_cert=%s; '
            'socket.ssl_key=%s; socket.ssl_ca=%s' % (scheme, listen, cert, key, ca))


@pytest.fixture
def arb_built():
    if not os.access(arbitrator_bin(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % arbitrator_bin())


@pytest.mark.deadline(90)
@pytest.mark.parametrize('scheme', ['ssl', 'tcp'])
def test_arbitrator_with_tls_joins_tls_group(lo, artifacts, pki, arb_built, scheme):
    """garbd's options: socket.ssl_cert/_key/_ca, with ssl:// in gmcast.listen_addr or
    (as Galera allows) tcp:// while the certificate options turn TLS on."""
    a, b = two_tls_nodes(lo, artifacts, pki, rate=RATE, count=COUNT)
    arb = Arbitrator(lo, artifacts, ['-a', 'gcomm://%s,%s' % (A, B), '-g', CLUSTER, '-n',
                                     'garb', '-o', tls_opts(pki.files('garb'), scheme=scheme)])
    wait_for(lambda: arb.voting(3), 30, 'the TLS arbitrator voting in a view of three')
    wait_for(lambda: all(n.in_primary_view(['a', 'b', 'garb']) for n in (a, b)), 10,
             'a and b seeing the arbitrator')
    assert 'TLS' in arb.log() and 'no TLS' not in arb.log()
    # It counts: a and the arbitrator keep quorum when b dies.
    b.kill()
    wait_for(lambda: a.in_primary_view(['a', 'garb']), 15, 'a primary view of a and garb')
    assert arb.stop() == 0
    assert a.stop() == 0


@pytest.mark.deadline(60)
def test_arbitrator_without_tls_cannot_join_tls_group(lo, artifacts, pki, arb_built):
    a, b = two_tls_nodes(lo, artifacts, pki)
    arb = Arbitrator(lo, artifacts, ['-a', 'gcomm://%s' % A, '-g', CLUSTER, '-n', 'garb',
                                     '-o', 'gmcast.listen_addr=tcp://%s' % C])
    wait_for(lambda: a.counters().get('tls_refused', 0) >= 2, 20, 'a refusing the arbitrator')
    never_member([a, b], 'garb')
    assert not arb.voting(3)
    assert arb.stop() == 0
    for nd in (a, b):
        assert nd.stop() == 0


def bad_files(pki, artifacts, kind):
    cert, key, ca = pki.files('n')
    if kind == 'missing-cert':
        return os.path.join(artifacts, 'nonexistent.pem'), key, ca, 'No such file'
    if kind == 'not-pem':
        junk = os.path.join(artifacts, 'junk.pem')
        with open(junk, 'w') as f:
            f.write('this is not a certificate\n')
        return junk, key, ca, 'PEM'
    if kind == 'key-mismatch':
        return cert, pki.files('other')[1], ca, 'does not match'
    if kind == 'expired':
        c, k, _ = pki.files('old', days=-1)
        return c, k, ca, 'expired'
    if kind == 'foreign':
        return cert, key, Pki(artifacts, 'other-ca').ca, 'does not verify against the CA'
    raise AssertionError(kind)


@pytest.mark.deadline(30)
@pytest.mark.parametrize('kind', ['missing-cert', 'not-pem', 'key-mismatch', 'expired',
                                  'foreign'])
def test_bad_certificate_files_stop_the_start(lo, artifacts, pki, kind):
    cert, key, ca, reason = bad_files(pki, artifacts, kind)
    out = os.path.join(artifacts, 'n.out')
    r = lo.run([node_bin(), '--cluster', CLUSTER, '--name', 'n', '--listen', A, '--out', out,
                '--bootstrap', '--tls-cert', cert, '--tls-key', key, '--tls-ca', ca],
               check=False, timeout=10)
    assert r.returncode == 1, r
    assert reason in r.stderr, r.stderr
    with open(out) as f:
        assert 'E start failed' in f.read()


@pytest.mark.parametrize('opts, names', [
    ('socket.ssl=yes', 'needs socket.ssl_cert'),
    ('gmcast.listen_addr=ssl://127.0.0.1:4567', 'needs socket.ssl_cert'),
    ('socket.ssl_cert=/x.pem', 'needs socket.ssl_key'),
    ('socket.ssl_password_file=/p', 'socket.ssl_password_file'),
    ('socket.ssl_compression=yes', 'socket.ssl_compression'),
    ('socket.dynamic=true', 'socket.dynamic'),
    ('socket.ssl=maybe', 'socket.ssl'),
])
def test_arbitrator_refuses_incomplete_tls_options(arb_built, opts, names):
    r = subprocess.run([arbitrator_bin(), '-a', 'gcomm://127.0.0.1:4567', '-g', CLUSTER, '-o',
                        opts], capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert names in r.stderr, r.stderr


@pytest.mark.deadline(30)
def test_arbitrator_bad_certificate_file_names_it(lo, artifacts, pki, arb_built):
    missing = os.path.join(artifacts, 'missing.pem')
    r = lo.run([arbitrator_bin(), '-a', 'gcomm://%s' % A, '-g', CLUSTER, '-o',
                'gmcast.listen_addr=ssl://%s; socket.ssl_cert=%s; socket.ssl_key=%s' %
                (C, missing, pki.files('garb')[1])], check=False, timeout=10)
    assert r.returncode == 1, r
    assert missing in r.stderr and 'No such file' in r.stderr, r.stderr


if __name__ == '__main__':
    sys.exit(pytest.main([__file__]))
