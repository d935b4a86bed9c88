# SPDX-License-Identifier: MPL-2.0
"""A partition in the netns lab: three nodes on the 'lan' bridge (192.0.2.11-13), one cut off
from the switch. The cut node becomes non-primary and delivers nothing new; the majority goes
on; once the cable is back the node rejoins and catches up, and all three agree."""

import os
import time

import pytest

from group_util import (TestNode, check_order, cut, delivered_payloads, heal, kill_all,
                        node_bin, own_payloads, wait_for)

RATE = 100
COUNT = 1500  # 15 s of load from each node: it runs through the cut and the healing


@pytest.mark.deadline(120)
def test_cut_node_goes_non_primary_and_catches_up(lab, artifacts):
    if not os.access(node_bin(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % node_bin())
    hosts = [lab.host('h%d' % i, addrs=('192.0.2.1%d/24' % i,)) for i in (1, 2, 3)]
    addrs = ['192.0.2.1%d:4567' % i for i in (1, 2, 3)]
    names = ['n1', 'n2', 'n3']
    nodes = [TestNode(hosts[0], artifacts, 'n1', addrs[0], bootstrap=True, rate=RATE,
                      count=COUNT)]
    nodes += [TestNode(hosts[i], artifacts, names[i], addrs[i], peers=addrs[:1], rate=RATE,
                       count=COUNT) for i in (1, 2)]
    wait_for(lambda: all(nd.in_primary_view(names) for nd in nodes), 30, 'a view of three')
    wait_for(lambda: all(len(nd.deliveries()) >= 200 for nd in nodes), 20, 'load flowing')
    lone, majority = nodes[2], nodes[:2]

    t_cut = time.monotonic() * 1000
    cut(lab, hosts[2])
    wait_for(lambda: any(not v[2] for v in lone.views() if v[0] > t_cut), 15,
             'n3 to go non-primary')
    wait_for(lambda: all(nd.in_primary_view(['n1', 'n2']) for nd in majority), 15,
             'n1 and n2 to form a view without n3')
    frozen = len(lone.deliveries())
    before = [len(nd.deliveries()) for nd in majority]
    time.sleep(2)
    grown = [len(nd.deliveries()) - b for nd, b in zip(majority, before)]
    assert min(grown) >= RATE, 'the majority stalled: %s more deliveries in 2 s' % grown
    assert len(lone.deliveries()) == frozen, 'a non-primary node delivered'
    assert not lone.view_now()[2]

    t_heal = time.monotonic() * 1000
    heal(lab, hosts[2])
    wait_for(lambda: all(nd.in_primary_view(names) for nd in nodes), 30,
             'n3 back in a primary view of three')
    back = next(v[0] for v in lone.views() if v[0] > t_heal and v[2] and len(v[4]) == 3)
    print('\ncut: n3 froze at %d deliveries while the majority went on; back in the view %d ms '
          'after healing' % (frozen, back - t_heal))
    for nd in nodes:
        wait_for(lambda: own_payloads(nd, COUNT) <= delivered_payloads(nd), 40,
                 'all of %s own messages delivered everywhere' % nd.name)
    for nd in nodes:
        wait_for(lambda: all(own_payloads(x, COUNT) <= delivered_payloads(nd) for x in nodes),
                 20, '%s to catch up' % nd.name)
    lists = [nd.deliveries() for nd in nodes]
    by_seq = check_order(lists, first_seq=1)
    assert len(by_seq) == 3 * COUNT
    assert not lone.events('X'), 'n3 needed a state transfer: it should catch up from the cache'
    for nd in nodes:
        assert nd.stop() == 0


@pytest.mark.deadline(150)
def test_survivor_takes_part_in_the_restart(lab, artifacts):
    """n3 is cut off and, at once, n1 and n2 are SIGKILLed (a power cut on their side): their
    state files still name n3, so restarted from them they wait for it. n3 stayed up,
    non-primary. Once the cable is back it restarts inside its process to take part (as
    Galera counts the survivors), and the three are primary again without an operator, in one
    order over everything delivered before and after."""
    if not os.access(node_bin(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % node_bin())
    hosts = [lab.host('h%d' % i, addrs=('192.0.2.1%d/24' % i,)) for i in (1, 2, 3)]
    addrs = ['192.0.2.1%d:4567' % i for i in (1, 2, 3)]
    names = ['n1', 'n2', 'n3']

    def node(i, tag='', bootstrap=False, peers=None, counter_from=0):
        return TestNode(hosts[i], artifacts, names[i], addrs[i], tag=tag, bootstrap=bootstrap,
                        peers=addrs if peers is None else peers, rate=RATE, count=100000,
                        state=os.path.join(artifacts, names[i] + '.state'),
                        state_file=os.path.join(artifacts, names[i] + '.gvw'),
                        xfer_dir=artifacts, counter_from=counter_from)

    nodes = [node(0, bootstrap=True, peers=[])] + [node(i, peers=addrs[:1]) for i in (1, 2)]
    wait_for(lambda: all(nd.in_primary_view(names) for nd in nodes), 30, 'a view of three')
    wait_for(lambda: all(len(nd.deliveries()) >= 200 for nd in nodes), 20, 'load flowing')
    uuid3 = nodes[2].uuid()

    cut(lab, hosts[2])
    kill_all(nodes[:2])  # before they could remove n3 from their configuration
    after = [node(i, tag='-2', counter_from=100001) for i in (0, 1)]
    time.sleep(5)  # what must not happen while n3 is cut off: an absence is watched, not polled
    for nd in after:
        assert not [v for v in nd.views() if v[2]], '%s is primary without n3' % nd.name
    assert not nodes[2].view_now()[2], 'n3 is primary alone'
    assert not nodes[2].counters().get('survivor_restarts'), 'n3 restarted while cut off'

    t_heal = time.monotonic() * 1000
    heal(lab, hosts[2])
    group = after + [nodes[2]]
    wait_for(lambda: all(nd.in_primary_view(names) for nd in group), 40,
             'the three in a primary view again')
    back = min(v[0] for v in nodes[2].views() if v[0] > t_heal and v[2])
    assert nodes[2].counters().get('survivor_restarts') == 1
    assert nodes[2].uuid() == uuid3
    print('\nn3 restarted to take part; primary again %d ms after healing' % (back - t_heal))
    n = [len(nd.deliveries()) for nd in group]
    wait_for(lambda: all(len(nd.deliveries()) >= k + 100 for nd, k in zip(group, n)), 30,
             'deliveries after the restart')
    # n3's service went on from where it was, or jumped by a state transfer from the
    # furthest (the T line): one order over the parts on either side of the jump.
    lists = [nd.deliveries() for nd in nodes[:2]] + [nd.deliveries() for nd in after]
    d3, xfers = nodes[2].deliveries(), nodes[2].transfers()
    if xfers:
        t_x, seq_x, donor = xfers[-1]
        tail = [x for x in d3 if x[0] >= t_x]
        assert tail and tail[0][1] == seq_x + 1, 'n3 went on at %s after its transfer to %d' % (
            tail[:1], seq_x)
        lists += [[x for x in d3 if x[0] < t_x], tail]
        print('n3 caught up by a state transfer from %s to seq %d' % (donor, seq_x))
    else:
        lists.append(d3)
    check_order(lists)
    for nd in group:
        assert nd.stop() == 0
