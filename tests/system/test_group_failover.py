# SPDX-License-Identifier: MPL-2.0
"""SIGKILL of the leader under load: the survivors form a primary view without it, delivery
resumes (measured: the design goal is well under a second), and every survivor delivered the
same sequence, with no gap and no duplicate."""

import time

import pytest

import group_util
from group_util import (check_order, delivered_payloads, now_ms, own_payloads, resume_ms,
                        start_group, wait_for)

lo = group_util.lo  # the fixture

RATE = 200
COUNT = 1200  # six seconds of load from each node
RESUME_BOUND_MS = 5000  # generous: a failure here is a stall, not a slow machine


@pytest.mark.deadline(90)
def test_leader_sigkill_under_load(lo, artifacts):
    nodes = start_group(lo, artifacts, 3, rate=RATE, count=COUNT)
    wait_for(lambda: all(len(nd.deliveries()) >= 300 for nd in nodes), 20, 'load flowing')
    leader = wait_for(lambda: next((nd for nd in nodes if nd.leader()), None), 10, 'a leader')
    survivors = [nd for nd in nodes if nd is not leader]
    t_kill = now_ms()
    leader.kill()
    victim_last = leader.deliveries()[-1][1]
    wait_for(lambda: all(nd.in_primary_view([s.name for s in survivors]) for nd in survivors),
             15, 'a primary view of the survivors without %s' % leader.name)
    resumed = wait_for(lambda: [resume_ms(nd, victim_last, t_kill) for nd in survivors]
                       if all(resume_ms(nd, victim_last, t_kill) is not None
                              for nd in survivors) else None, 15, 'delivery to resume')
    view_ms = [next(v[0] for v in nd.views() if v[0] > t_kill and v[2] and
                    leader.name not in v[4]) - t_kill for nd in survivors]
    print('\nleader %s killed at seq %d: delivery resumed after %s ms, view without it after '
          '%s ms' % (leader.name, victim_last, ', '.join('%.0f' % r for r in resumed),
                     ', '.join('%.0f' % v for v in view_ms)))
    assert max(resumed) < RESUME_BOUND_MS
    # Every message of the survivors is delivered once, in the same order on both.
    for nd in survivors:
        wait_for(lambda: own_payloads(nd, COUNT) <= delivered_payloads(nd), 30,
                 'all of %s own messages delivered' % nd.name)
    wait_for(lambda: len(survivors[0].deliveries()) == len(survivors[1].deliveries()), 10,
             'both survivors at the same position')
    time.sleep(0.2)  # nothing more is coming: the load is over
    lists = [nd.deliveries() for nd in survivors]
    assert [x[1:] for x in lists[0]] == [x[1:] for x in lists[1]]
    check_order(lists + [leader.deliveries()], first_seq=1)
    for nd in survivors:
        assert nd.stop() == 0
