# SPDX-License-Identifier: MPL-2.0
"""Rejoin by incremental transfer: a node keeps the seq it reached in a file, is SIGKILLed
under load, and is started again with that seq. It comes back as a new member, gets the
messages it missed from the group's cache (no state transfer), and goes on in the same
order as the others."""

import os
import time

import pytest

import group_util
from group_util import TestNode, check_order, delivered_payloads, own_payloads, wait_for

lo = group_util.lo  # the fixture

RATE = 200
COUNT = 1400


@pytest.mark.deadline(90)
def test_restart_rejoins_from_cache(lo, artifacts):
    state = os.path.join(artifacts, 'n3.seq')
    addrs = ['127.0.0.1:%d' % p for p in (24201, 24202, 24203)]
    names = ['n1', 'n2', 'n3']
    n1 = TestNode(lo, artifacts, 'n1', addrs[0], bootstrap=True, rate=RATE, count=COUNT)
    n2 = TestNode(lo, artifacts, 'n2', addrs[1], peers=addrs[:1], rate=RATE, count=COUNT)
    n3 = TestNode(lo, artifacts, 'n3', addrs[2], peers=addrs[:1], state=state)
    wait_for(lambda: all(nd.in_primary_view(names) for nd in (n1, n2, n3)), 30,
             'a view of three')
    wait_for(lambda: len(n3.deliveries()) >= 400, 20, 'n3 to deliver under load')
    n3.kill()
    with open(state) as f:
        seq = int(f.read().split()[0])
    before = n3.deliveries()
    assert before[-1][1] in (seq - 1, seq)  # the file is written just before each D line
    wait_for(lambda: all(nd.in_primary_view(['n1', 'n2']) for nd in (n1, n2)), 15,
             'a view without the killed n3')
    wait_for(lambda: len(n1.deliveries()) >= seq + 400, 20, 'the group to move on')
    t_start = time.monotonic() * 1000
    target = len(n1.deliveries())  # where the group is when n3 starts again
    n3b = TestNode(lo, artifacts, 'n3', addrs[2], peers=addrs[:2], state=state, tag='-2')
    wait_for(lambda: all(nd.in_primary_view(names) for nd in (n1, n2, n3b)), 20,
             'the restarted n3 in a primary view of three')
    after = n3b.deliveries()
    assert not n3b.events('X'), 'the restarted node was sent to a state transfer'
    assert after and after[0][1] == seq + 1, \
        'the restarted node started at seq %s, want %d' % (after and after[0][1], seq + 1)
    caught = wait_for(lambda: next((t for t, s, _, _ in n3b.deliveries() if s >= target),
                                   None), 20, 'the restarted n3 to catch up')
    print('\nn3 restarted at seq %d, %d behind: caught up %d ms after its start' %
          (seq, target - seq, caught - t_start))
    for nd in (n1, n2):
        wait_for(lambda: own_payloads(nd, COUNT) <= delivered_payloads(nd), 30,
                 'all of %s messages delivered' % nd.name)
    wait_for(lambda: len(n3b.deliveries()) + seq == len(n1.deliveries()), 20,
             'the restarted n3 at the group position')
    check_order([n1.deliveries(), n2.deliveries(), before], first_seq=1)
    check_order([n1.deliveries(), n3b.deliveries()])
    for nd in (n1, n2, n3b):
        assert nd.stop() == 0
