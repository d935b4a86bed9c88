# SPDX-License-Identifier: MPL-2.0
"""A partition in the netns lab: three nodes on the 'lan' bridge (192.0.2.11-13), one cut off
from the switch. The cut node becomes non-primary and delivers nothing new; the majority goes
on; once the cable is back the node rejoins and catches up, and all three agree."""

import os
import time

import pytest

from group_util import (TestNode, check_order, cut, delivered_payloads, heal, node_bin,
                        own_payloads, wait_for)

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
