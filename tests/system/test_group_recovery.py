# SPDX-License-Identifier: MPL-2.0
"""Restart after every node crashed (Galera's pc.recovery): each grp_testnode keeps the group's
state file (--state-file) and its service position (--state). All three are SIGKILLed under
load and started again without --bootstrap: they keep their uuids, and once all three are
back the group is primary again by itself, each node's deliveries going on from where its
service was (or from the donor's position after a state transfer), in one order. Two of three
back is no primary component. A graceful stop removes the state file; an operator can force
one node to bootstrap."""

import os
import time

import pytest

import group_util
from group_util import TestNode, check_order, kill_all, wait_for

lo = group_util.lo  # the fixture

RATE = 300  # per node: enough that the three are at different seqs when killed
RATE_QUIET = 100  # for the test whose point is not the load
COUNT = 100000  # more than the test lasts: the load runs until the kill
ADDRS = ['127.0.0.1:%d' % p for p in (24301, 24302, 24303)]
NAMES = ['n1', 'n2', 'n3']


def start(lo, artifacts, i, tag='', bootstrap=False, count=COUNT, counter_from=0, peers=None,
          state_file=True, rate=RATE):
    name = NAMES[i]
    return TestNode(lo, artifacts, name, ADDRS[i], peers=ADDRS if peers is None else peers,
                    bootstrap=bootstrap, rate=rate, count=count, tag=tag,
                    state=os.path.join(artifacts, name + '.state'),
                    state_file=os.path.join(artifacts, name + '.gvw') if state_file else None,
                    xfer_dir=artifacts, counter_from=counter_from)


def start_three(lo, artifacts, deliveries, rate=RATE):
    """Three nodes under load; returns them and their uuids once each delivered this many."""
    nodes = [start(lo, artifacts, 0, bootstrap=True, peers=[], rate=rate)]
    nodes += [start(lo, artifacts, i, peers=ADDRS[:1], rate=rate) for i in (1, 2)]
    wait_for(lambda: all(nd.in_primary_view(NAMES) for nd in nodes), 30, 'a view of three')
    wait_for(lambda: min(len(nd.deliveries()) for nd in nodes) >= deliveries, 30,
             'every node to deliver under load')
    return nodes, [nd.uuid() for nd in nodes]


def last_seq(node):
    d = node.deliveries()
    return d[-1][1] if d else 0


def primary_views(node):
    return [v for v in node.views() if v[2]]


def start_seq(node):
    """The service position a process started from (its E started line)."""
    for _, text in node.events('E'):
        if text.startswith('started '):
            return int(text.split(' seq ')[1].split(' ')[0])
    return None


def check_continues(before, after):
    """after's deliveries go on from its service's position (the seq it started from: the last
    one before recorded, or one past it when the kill fell between the state file's write and
    the D line), or from the donor's seq after a state transfer (which never goes back);
    returns the seq it went on from."""
    start = start_seq(after)
    assert start in (last_seq(before), last_seq(before) + 1), \
        '%s started at seq %s, its last delivery was %d' % (after.name, start, last_seq(before))
    xfers = after.transfers()
    if xfers:
        assert xfers[0][1] >= start, \
            '%s was transferred back to seq %d from %d' % (after.name, xfers[0][1], start)
        start = xfers[-1][1]
    d = after.deliveries()
    assert d, '%s delivered nothing after the restart' % after.name
    assert d[0][1] == start + 1, '%s went on at seq %d after %d' % (after.name, d[0][1], start)
    return start


@pytest.mark.deadline(120)
def test_all_killed_come_back_primary_without_bootstrap(lo, artifacts):
    nodes, uuids = start_three(lo, artifacts, 300)
    kill_all(nodes)
    for name in NAMES:
        assert os.path.exists(os.path.join(artifacts, name + '.gvw')), \
            'no state file for %s' % name
    print('\nkilled at seqs %s' % [last_seq(nd) for nd in nodes])

    # Two of three: no primary component, nothing delivered.
    t0 = time.monotonic()
    two = [start(lo, artifacts, i, tag='-2', counter_from=COUNT + 1) for i in (0, 1)]
    wait_for(lambda: all(nd.uuid() for nd in two), 10, 'the two to start')
    while time.monotonic() - t0 < 4:  # what must not happen has to be watched for a while
        for nd in two:
            assert not primary_views(nd), '%s is primary with a member missing' % nd.name
            assert not nd.deliveries(), '%s delivered with a member missing' % nd.name
        time.sleep(0.1)
    assert [nd.uuid() for nd in two] == uuids[:2], 'a restarted node changed its uuid'

    # The third is back: primary again, by itself.
    t_third = time.monotonic() * 1000
    after = two + [start(lo, artifacts, 2, tag='-2', counter_from=COUNT + 1)]
    wait_for(lambda: all(nd.in_primary_view(NAMES) for nd in after), 30,
             'the three restarted nodes in a primary view of three')
    print('primary view of three %d ms after the third started' %
          (min(primary_views(nd)[0][0] for nd in after) - t_third))
    assert [nd.uuid() for nd in after] == uuids
    wait_for(lambda: all(len(nd.deliveries()) >= 100 for nd in after), 30,
             'deliveries after the restart')
    for old, new in zip(nodes, after):
        went_on = check_continues(old, new)
        print('%s: delivered up to seq %d, went on from %d%s' %
              (new.name, last_seq(old), went_on,
               ' (state transfer from %s)' % new.transfers()[-1][2] if new.transfers() else ''))
    # One order over everything delivered before and after, by every process.
    check_order([nd.deliveries() for nd in nodes], first_seq=1)
    check_order([nd.deliveries() for nd in nodes] + [nd.deliveries() for nd in after])
    for nd in after:
        assert nd.stop() == 0


@pytest.mark.deadline(120)
def test_graceful_stop_forgets_and_operator_bootstraps(lo, artifacts):
    nodes, uuids = start_three(lo, artifacts, 100, rate=RATE_QUIET)
    n3_file = os.path.join(artifacts, 'n3.gvw')
    assert os.path.exists(n3_file)
    assert nodes[2].stop() == 0  # graceful: leave, then stop
    assert not os.path.exists(n3_file), 'a graceful stop left the state file'
    wait_for(lambda: all(nd.in_primary_view(NAMES[:2]) for nd in nodes[:2]), 15,
             'a view of two after n3 left')
    kill_all(nodes[:2])

    # The operator picks the node whose service is furthest ahead (as with Galera's
    # safe_to_bootstrap); alone, it waits for the other ...
    a = 0 if last_seq(nodes[0]) >= last_seq(nodes[1]) else 1
    b = 1 - a
    first = start(lo, artifacts, a, tag='-2', counter_from=COUNT + 1, rate=RATE_QUIET)
    wait_for(lambda: first.uuid(), 10, 'the first node to start')
    assert first.uuid() == uuids[a]
    time.sleep(2)  # watch for what must not happen
    assert not primary_views(first) and not first.deliveries(), 'a group of one formed alone'
    # ... until the operator forces it.
    first.force_bootstrap()
    wait_for(lambda: first.in_primary_view([NAMES[a]]), 10, 'the operator\'s bootstrap')
    wait_for(lambda: len(first.deliveries()) >= 20, 10, 'deliveries after the bootstrap')
    check_continues(nodes[a], first)
    # The other comes back from its file and joins; n3 (no file any more) is a new node.
    second = start(lo, artifacts, b, tag='-2', counter_from=COUNT + 1, rate=RATE_QUIET)
    n3 = start(lo, artifacts, 2, tag='-2', counter_from=COUNT + 1, rate=RATE_QUIET)
    after = (first, second, n3)
    wait_for(lambda: all(nd.in_primary_view(NAMES) for nd in after), 30,
             'a view of three again')
    assert second.uuid() == uuids[b]
    assert n3.uuid() != uuids[2], 'n3 restored a state its graceful stop should have removed'
    wait_for(lambda: all(len(nd.deliveries()) >= 40 for nd in (second, n3)), 30,
             'deliveries on the rejoined nodes')
    check_continues(nodes[b], second)
    check_order([nd.deliveries() for nd in nodes] + [nd.deliveries() for nd in after])
    for nd in after:
        assert nd.stop() == 0
