# SPDX-License-Identifier: MPL-2.0
"""paceless-arbitrator, the garbd drop-in: two data nodes and an arbitrator survive the loss
of either data node; two data nodes alone do not (the survivor goes non-primary), which is
why the arbitrator matters. And its command line: garbd's options and config file accepted,
anything it does not implement refused by name."""

import os
import subprocess
import time

import pytest

from lab import IP
import group_util
from group_util import Arbitrator, TestNode, arbitrator_bin, now_ms, stall_ms, wait_for

lo = group_util.lo  # the fixture

RATE = 200
COUNT = 2000
A, B, G = '127.0.0.1:24301', '127.0.0.1:24302', '127.0.0.1:24303'


def garbd_args(listen=G, group='paceless-test'):
    return ['-a', 'gcomm://%s,%s' % (A, B), '-g', group, '-n', 'garb', '-o',
            'gmcast.listen_addr=tcp://%s; pc.weight=1; evs.keepalive_period=PT0.1S; '
            'evs.suspect_timeout=PT1S; evs.inactive_timeout=PT3S' % listen]


@pytest.fixture
def arb_built():
    if not os.access(arbitrator_bin(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % arbitrator_bin())


def two_nodes(lo, artifacts):
    a = TestNode(lo, artifacts, 'a', A, bootstrap=True, rate=RATE, count=COUNT)
    b = TestNode(lo, artifacts, 'b', B, peers=[A], rate=RATE, count=COUNT)
    wait_for(lambda: a.in_primary_view(['a', 'b']) and b.in_primary_view(['a', 'b']), 30,
             'a view of a and b')
    return a, b


@pytest.mark.deadline(90)
@pytest.mark.parametrize('victim', ['a', 'b'])
def test_two_nodes_and_arbitrator_survive_either(lo, artifacts, arb_built, victim):
    a, b = two_nodes(lo, artifacts)
    arb = Arbitrator(lo, artifacts, garbd_args())
    wait_for(lambda: arb.voting(3), 30, 'the arbitrator voting in a view of three')
    wait_for(lambda: all(n.in_primary_view(['a', 'b', 'garb']) for n in (a, b)), 10,
             'a and b seeing the arbitrator')
    dead, alive = (a, b) if victim == 'a' else (b, a)
    wait_for(lambda: len(alive.deliveries()) >= 300, 20, 'load flowing')
    was_leader = next((n.name for n in (a, b) if n.leader()), 'garb')
    t_kill = now_ms()
    dead.kill()
    wait_for(lambda: alive.in_primary_view([alive.name, 'garb']), 15,
             'a primary view of %s and the arbitrator' % alive.name)
    wait_for(lambda: arb.voting(2), 10, 'the arbitrator voting in a view of two')
    n = len(alive.deliveries())
    wait_for(lambda: len(alive.deliveries()) >= n + RATE // 2, 5,
             '%s delivering again' % alive.name)
    assert alive.view_now()[2], '%s is not primary' % alive.name
    print('\n%s killed (leader before: %s); %s stays primary with the arbitrator; longest '
          'pause in its deliveries: %.0f ms' % (dead.name, was_leader, alive.name,
                                                stall_ms(alive, t_kill, now_ms())))
    assert arb.stop() == 0, 'the arbitrator did not exit 0 on SIGTERM'
    log = arb.log()
    assert 'SIGTERM received' in log and 'left the group' in log, log[-2000:]
    # The arbitrator left gracefully: the survivor alone is still primary.
    wait_for(lambda: alive.in_primary_view([alive.name]), 10, 'a view of the survivor alone')
    assert alive.stop() == 0


@pytest.mark.deadline(60)
def test_two_nodes_without_arbitrator_lose_quorum(lo, artifacts):
    a, b = two_nodes(lo, artifacts)
    wait_for(lambda: len(a.deliveries()) >= 300, 20, 'load flowing')
    t_kill = now_ms()
    b.kill()
    wait_for(lambda: any(not v[2] for v in a.views() if v[0] > t_kill), 15,
             'a to go non-primary')
    n = len(a.deliveries())
    time.sleep(2)
    assert len(a.deliveries()) == n, 'a non-primary node delivered'
    assert not a.view_now()[2]
    print('\nwithout an arbitrator the survivor went non-primary after %.0f ms' %
          (next(v[0] for v in a.views() if v[0] > t_kill and not v[2]) - t_kill))
    assert a.stop() == 0


@pytest.mark.deadline(60)
@pytest.mark.parametrize('style', ['command-line', 'config-file', 'positional-address'])
def test_garbd_invocation_joins_and_leaves(lo, artifacts, arb_built, style):
    a = TestNode(lo, artifacts, 'a', A, bootstrap=True)
    wait_for(lambda: a.in_primary_view(['a']), 10, 'a group of one')
    args = garbd_args()
    if style == 'config-file':
        cfg = os.path.join(artifacts, 'garbd.conf')
        with open(cfg, 'w') as f:
            f.write('# garbd config file\n'
                    'address = "gcomm://%s,%s"\n'
                    'group = paceless-test\n'
                    'options = "%s"   # as on the other nodes\n'
                    "name = 'garb'\n" % (A, B, args[-1]))
        args = ['-c', cfg]
    elif style == 'positional-address':
        args = args[2:] + [args[1]]
    arb = Arbitrator(lo, artifacts, args)
    wait_for(lambda: a.in_primary_view(['a', 'garb']), 20, 'the arbitrator in the view')
    wait_for(lambda: arb.voting(2), 10, 'the arbitrator voting')
    assert arb.stop() == 0
    wait_for(lambda: a.in_primary_view(['a']), 10, 'a view without the arbitrator')
    assert 'left the group' in arb.log()
    assert a.stop() == 0


@pytest.mark.parametrize('args, names', [
    (['--frobnicate'], '--frobnicate'),
    (['-x'], '-x'),
    (garbd_args()[:-1] + ['gmcast.segment=1'], 'gmcast.segment'),
    (garbd_args()[:-1] + ['pc.ignore_sb=true; pc.weight=1'], 'pc.ignore_sb'),
    (garbd_args()[:-1] + ['evs.suspect_timeout=5'], 'evs.suspect_timeout'),
    (garbd_args()[:-1] + ['gmcast.listen_addr=ssl://127.0.0.1:4567'], 'needs socket.ssl_cert'),
    (garbd_args() + ['--sst', 'xtrabackup:127.0.0.1:4444'], '--sst'),
    (garbd_args() + ['--donor', 'a'], '--donor'),
    (['-a', 'gcomm://', '-g', 'x'], 'bootstrap'),
    (['-a', 'gcomm://127.0.0.1?gmcast.listen_addr=tcp://127.0.0.1:1', '-g', 'x'], '?'),
    (['-a', 'gcomm://127.0.0.1'], '-g'),
])
def test_command_line_refuses_what_it_does_not_implement(arb_built, args, names):
    r = subprocess.run([arbitrator_bin()] + args, capture_output=True, text=True, timeout=10)
    assert r.returncode == 1, r
    assert names in r.stderr, r.stderr


def test_config_file_unknown_key_names_file_and_line(arb_built, artifacts):
    cfg = os.path.join(artifacts, 'garbd.conf')
    with open(cfg, 'w') as f:
        f.write('address = gcomm://127.0.0.1:4567\ngroup = g\n\nsegment = 2\n')
    r = subprocess.run([arbitrator_bin(), '-c', cfg], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1
    assert '%s:4: unknown key \'segment\'' % cfg in r.stderr, r.stderr


def test_help_and_version(arb_built):
    for flag in ('-h', '--help'):
        r = subprocess.run([arbitrator_bin(), flag], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 0 and '--address' in r.stdout and '--sst' in r.stdout
    for flag in ('-v', '--version'):
        r = subprocess.run([arbitrator_bin(), flag], capture_output=True, text=True,
                           timeout=10)
        assert r.returncode == 0 and r.stdout.startswith('paceless-arbitrator ')


@pytest.mark.deadline(60)
def test_daemon_mode_logs_to_file_and_stops_on_sigterm(lo, artifacts, arb_built):
    """-d: the command returns at once, the daemon joins, logs to -l FILE, and leaves on
    SIGTERM. Its PID is found in the test's own namespace (the lab also kills what is left
    there by PID)."""
    a = TestNode(lo, artifacts, 'a', A, bootstrap=True)
    wait_for(lambda: a.in_primary_view(['a']), 10, 'a group of one')
    log = os.path.join(artifacts, 'garb-daemon.log')
    r = lo.run([arbitrator_bin(), '-d', '-l', log] + garbd_args(), timeout=10)
    assert r.returncode == 0, r
    wait_for(lambda: a.in_primary_view(['a', 'garb']), 20, 'the daemon in the view')
    pids = subprocess.run([IP, 'netns', 'pids', lo.ns], capture_output=True, text=True,
                          timeout=10).stdout.split()
    daemon = [int(p) for p in pids if int(p) != a.proc.pid and
              open('/proc/%s/cmdline' % p, 'rb').read().split(b'\0')[0].endswith(
                  b'paceless-arbitrator')]
    assert len(daemon) == 1, 'daemon pids %s' % daemon
    os.kill(daemon[0], 15)
    wait_for(lambda: not os.path.exists('/proc/%d' % daemon[0]), 10, 'the daemon to exit')
    with open(log) as f:
        text = f.read()
    assert 'SIGTERM received' in text and 'left the group' in text and 'stopped' in text, text
    wait_for(lambda: a.in_primary_view(['a']), 10, 'a view without the daemon')
    assert a.stop() == 0
