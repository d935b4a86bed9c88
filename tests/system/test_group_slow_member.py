# SPDX-License-Identifier: MPL-2.0
"""A member that is merely slow is never excluded. Under a flood of 10 KiB messages from every
node, one follower is stopped (SIGSTOP) for a few hundred ms again and again, as a process
starved of CPU: the leader holds its entries back while its link is busy (back-pressure) and
flow control pauses the group when too many wait, instead of closing the link. Checked: the
view never changes, no link is closed for overflow, every node delivers the same gap-free
sequence of all the messages, the leader's back-pressure engaged, and the leader's resident
memory stays under the bound below."""

import os
import signal
import time

import pytest

import group_util
from group_util import (build_dir, check_order, delivered_payloads, now_ms, own_payloads,
                        start_group, wait_for)

lo = group_util.lo  # the fixture

SIZE = 10240
COUNT = 4000          # per node: 3 x 4000 x 10 KiB = 120 MB through the group
CACHE_MB = 32
STOP_MS, RUN_MS = 400, 300
# The leader's memory: its own submissions (queued in the node, then pending in the protocol:
# at most COUNT x SIZE), the log (delivered entries up to the cache, plus what a live member
# has not acked, up to twice the cache, plus what flow control lets wait on a busy link:
# fc_limit entries), two links of at most link_busy_bytes + one APPEND + the write-ahead
# out and one frame (an APPEND or SUBMIT) in each, and the process itself (30 MiB). Before
# back-pressure, one link alone could hold 64 MiB.
FC_LIMIT, LINK_BUSY_MB, APPEND_MB = 1024, 4, 4
RSS_BOUND_MB = (30 + COUNT * SIZE / 2**20 + 2 * CACHE_MB + FC_LIMIT * SIZE / 2**20 +
                2 * (LINK_BUSY_MB + 2 * APPEND_MB + 1))


@pytest.mark.deadline(240)
def test_slow_follower_under_flood_is_never_excluded(lo, artifacts):
    nodes = start_group(lo, artifacts, 3, count=COUNT, size=SIZE, members=3,
                        cache_mb=CACHE_MB)
    names = [nd.name for nd in nodes]
    views_before = [len(nd.views()) for nd in nodes]
    leader = wait_for(lambda: next((nd for nd in nodes if nd.leader()), None), 10, 'a leader')
    slow = next(nd for nd in nodes if nd is not leader)
    wait_for(lambda: len(leader.deliveries()) >= 200, 30, 'the flood flowing')
    total = 3 * COUNT
    stops, rss_max_kb, t0 = 0, 0, now_ms()
    try:
        while len(slow.deliveries()) < total and now_ms() - t0 < 150_000:
            lo.signal(slow.proc, signal.SIGSTOP)
            stops += 1
            end = now_ms() + STOP_MS
            while now_ms() < end:
                rss_max_kb = max(rss_max_kb, leader.rss_kb())
                time.sleep(0.02)
            lo.signal(slow.proc, signal.SIGCONT)
            end = now_ms() + RUN_MS
            while now_ms() < end:
                rss_max_kb = max(rss_max_kb, leader.rss_kb())
                time.sleep(0.02)
    finally:
        lo.signal(slow.proc, signal.SIGCONT)
    for nd in nodes:
        wait_for(lambda: len(nd.deliveries()) >= total, 60, '%s delivering everything' % nd.name)
    lists = [nd.deliveries() for nd in nodes]
    counters = [nd.counters() for nd in nodes]
    flips = sum(1 for nd, before in zip(nodes, views_before)
                for v in nd.views()[before:] if not v[2])
    print('\n%d stops of %s (%d ms each) while %s led; %.1f s for %d messages of %d B; '
          'leader RSS max %.0f MiB (bound %.0f); held_back %d; links_overflow %s; '
          'non-primary moments %d' %
          (stops, slow.name, STOP_MS, leader.name, (now_ms() - t0) / 1000, total, SIZE,
           rss_max_kb / 1024, RSS_BOUND_MB, counters[nodes.index(leader)].get('held_back', 0),
           [c.get('links_overflow') for c in counters], flips))
    assert stops >= 3, 'the flood ended before the slow member was stopped a few times'
    # Never excluded: every view since the group formed has all three (the leader still gives
    # the joiners their weights, one CONFIG entry each, under the flood). A node starved of
    # CPU for election_ms may see itself non-primary for a moment (counted, not excluded).
    for nd, before in zip(nodes, views_before):
        bad = [v for v in nd.views()[before:] if sorted(v[4]) != sorted(names)]
        assert not bad, '%s saw views %s' % (nd.name, bad)
        assert nd.in_primary_view(names)
    assert all(c.get('links_overflow', 0) == 0 for c in counters)
    assert counters[nodes.index(leader)].get('held_back', 0) > 0, 'back-pressure never engaged'
    # Under the sanitizers (a build dir named *asan*) memory is theirs: shadow, quarantine.
    if 'asan' not in os.path.basename(os.path.normpath(build_dir())):
        assert rss_max_kb / 1024 < RSS_BOUND_MB
    # One gap-free sequence everywhere, with every message of every node.
    check_order(lists, first_seq=lists[0][0][1])
    assert [x[1:] for x in lists[0]] == [x[1:] for x in lists[1]] == [x[1:] for x in lists[2]]
    for nd in nodes:
        assert own_payloads(nd, COUNT) <= delivered_payloads(nodes[0])
        assert nd.stop() == 0
