# SPDX-License-Identifier: MPL-2.0
"""`paceless-dhcpd -t` against ISC `dhcpd -t` on the configs under tests/data/conf/.

accept/       both accept it;
reject/       both reject it, ours naming FILE:LINE:COL;
unsupported/  ISC accepts it, ours refuses it as an unsupported statement with FILE:LINE:COL
              (never silently ignored).
"""

import glob
import os
import subprocess

import pytest

from dhcp_util import REPO, isc_check, paceless_dhcpd

CONF_DIR = os.path.join(REPO, 'tests', 'data', 'conf')
CASES = [(kind, path) for kind in ('accept', 'reject', 'unsupported')
         for path in sorted(glob.glob(os.path.join(CONF_DIR, kind, '*.conf')))]


def test_there_are_cases_of_every_kind():
    for kind in ('accept', 'reject', 'unsupported'):
        assert any(k == kind for k, _ in CASES), 'no %s/ configs in %s' % (kind, CONF_DIR)


@pytest.mark.deadline(60)
@pytest.mark.parametrize('kind,conf', CASES,
                         ids=['%s/%s' % (k, os.path.basename(c)) for k, c in CASES])
def test_config_check_against_isc(kind, conf):
    if not os.access(paceless_dhcpd(), os.X_OK):
        pytest.skip('%s not built' % paceless_dhcpd())
    isc = isc_check(conf)
    ours = subprocess.run([paceless_dhcpd(), '-t', '-4', '-q', '-cf', conf], capture_output=True,
                          text=True, timeout=30)
    detail = '%s: ISC dhcpd -t exits %d, paceless-dhcpd -t exits %d\nISC:\n%s\nours:\n%s' % (
        conf, isc.returncode, ours.returncode, isc.stderr[-2000:], ours.stderr)
    assert (isc.returncode == 0) == (kind != 'reject'), 'ISC disagrees with the case: ' + detail
    assert (ours.returncode == 0) == (kind == 'accept'), detail
    if ours.returncode != 0:
        # Ours names the place: FILE:LINE:COL, and what is not supported.
        assert '%s:' % conf in ours.stderr, ours.stderr
        if kind == 'unsupported':
            assert 'unsupported' in ours.stderr, ours.stderr
