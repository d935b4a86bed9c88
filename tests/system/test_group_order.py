# SPDX-License-Identifier: MPL-2.0
"""Real processes agree on one order: 3 and 5 grp_testnode processes on loopback, all
submitting at once; every process delivers the same sequence, with every message once."""

import pytest

import group_util
from group_util import check_order, start_group, wait_for

lo = group_util.lo  # the fixture

RATE = 200   # messages per second from each node
COUNT = 400  # from each node


@pytest.mark.deadline(90)
@pytest.mark.parametrize('n', [3, 5])
def test_one_order_under_load_from_all(lo, artifacts, n):
    nodes = start_group(lo, artifacts, n, rate=RATE, count=COUNT)
    total = n * COUNT
    wait_for(lambda: all(len(nd.deliveries()) >= total for nd in nodes), 60,
             '%d deliveries on each of %d nodes' % (total, n))
    lists = [nd.deliveries() for nd in nodes]
    by_seq = check_order(lists, first_seq=1)
    for nd, d in zip(nodes, lists):
        assert len(d) == total, '%s delivered %d, want %d' % (nd.name, len(d), total)
    want = {'n%d:%d' % (i + 1, k + 1) for i in range(n) for k in range(COUNT)}
    assert set(by_seq.values()) == want
    assert sorted(by_seq) == list(range(1, total + 1))
    # Load from all: the order interleaves the submitters rather than taking them in turn.
    first_half = {by_seq[s].split(':')[0] for s in range(1, total // 2)}
    assert len(first_half) == n, 'the first half of the order holds only %s' % first_half
    spread = max(d[-1][0] for d in lists) - min(d[0][0] for d in lists)
    print('\n%d nodes, %d msg/s from each: %d messages in one order in %d ms' %
          (n, RATE, total, spread))
    for nd in nodes:
        assert nd.stop() == 0, '%s did not stop cleanly' % nd.name
