# SPDX-License-Identifier: MPL-2.0
"""`paceless-dhcpd -t` and ISC `dhcpd -t` agree on every config under tests/data/conf/."""

import glob
import os
import subprocess

import pytest

from dhcp_util import REPO, isc_check, paceless_dhcpd

CONF_DIR = os.path.join(REPO, 'tests', 'data', 'conf')
CONFS = sorted(glob.glob(os.path.join(CONF_DIR, '*.conf')))


@pytest.mark.deadline(60)
@pytest.mark.parametrize('conf', CONFS or [None], ids=[os.path.basename(c) for c in CONFS] or
                         ['none'])
def test_config_check_agrees_with_isc(conf):
    if conf is None:
        pytest.skip('no configs in %s' % CONF_DIR)
    if not os.access(paceless_dhcpd(), os.X_OK):
        pytest.skip('%s not built' % paceless_dhcpd())
    isc = isc_check(conf)
    ours = subprocess.run([paceless_dhcpd(), '-t', '-4', '-q', '-cf', conf], capture_output=True,
                          text=True, timeout=30)
    assert (isc.returncode == 0) == (ours.returncode == 0), (
        '%s: ISC dhcpd -t exits %d, paceless-dhcpd -t exits %d\nISC:\n%s\nours:\n%s' % (
            conf, isc.returncode, ours.returncode, isc.stderr, ours.stderr))
    if ours.returncode != 0:
        # Ours names the place: FILE:LINE:COL.
        assert '%s:' % conf in ours.stderr or '%s:' % os.path.basename(conf) in ours.stderr, \
            ours.stderr
