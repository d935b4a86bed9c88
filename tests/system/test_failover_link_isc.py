# SPDX-License-Identifier: MPL-2.0
"""paceless's failover link and server-state machine against a real ISC dhcpd 4.4.3, in both
roles: the handshake, the recovery of a new pair and the move to normal, as ISC sees them.

The binding layer does not exist yet, so tests/tools/fo-link-probe stands in for the server:
it acks every BNDUPD without keeping it and answers update requests at once. What is tested is
the protocol around the bindings: CONNECT/CONNECTACK with ISC's checks, STATE, UPDREQALL and
UPDDONE, the state changes on both sides, and the loss of the link.
"""

import os
import re

import pytest

from dhcp_util import REPO, Server, build_dir
from lab import wait_for

CONFS = os.path.join(REPO, 'tests', 'data', 'failover')  # the reference pair's configs
ISC_CONF = {'primary': 'isc-failover-primary.conf', 'secondary': 'isc-failover-secondary.conf'}
ADDR = {'primary': '192.0.2.1', 'secondary': '192.0.2.2'}


def probe_path():
    path = os.path.join(build_dir(), 'tests', 'tools', 'fo-link-probe')
    if not os.access(path, os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % path)
    return path


def isc_conf(role):
    with open(os.path.join(CONFS, ISC_CONF[role])) as f:
        return f.read()


@pytest.mark.deadline(90)
@pytest.mark.parametrize('ours', ['secondary', 'primary'])
def test_reach_normal_with_isc(lab, artifacts, ours):
    theirs = 'primary' if ours == 'secondary' else 'secondary'
    probe = probe_path()
    isc_host = lab.host('isc', addrs=(ADDR[theirs] + '/24',))
    our_host = lab.host('pl', addrs=(ADDR[ours] + '/24',))
    isc = Server('isc', isc_host, artifacts, name='isc')
    isc.start(isc_conf(theirs))
    out_path = os.path.join(artifacts, 'probe.log')
    with open(out_path, 'w') as out:
        proc = our_host.spawn([probe, ours, 'anchor-fo', ADDR[ours], ADDR[theirs]], stdout=out,
                              stderr=out)

    def probe_log():
        with open(out_path) as f:
            return f.read()

    # Both sides say normal: ISC in its log, the probe in its output.
    isc.wait_log(r'Both servers normal', 30, 'ISC to reach normal with paceless')
    wait_for(lambda: 'state normal normal' in probe_log(), 10, 'paceless to reach normal')
    log = isc.log()
    assert 'requesting full update from peer' in log  # ISC sent UPDREQALL and we answered
    assert 'peer update completed' in log            # our UPDDONE
    assert re.search(r'peer moves from recover-done to normal', log), log[-2000:]
    bnd = [int(m) for m in re.findall(r'^bndupd (\d+)$', probe_log(), re.M)]
    assert bnd and bnd[-1] >= 1, probe_log()  # ISC's bindings reached us, each acked

    # The link goes (we stop): ISC moves from normal to communications-interrupted.
    our_host.stop(proc, 5)
    isc.wait_log(r'I move from normal to communications-interrupted', 60,
                 'ISC to see the link go')
