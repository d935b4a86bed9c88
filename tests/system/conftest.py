# SPDX-License-Identifier: MPL-2.0
"""pytest fixtures for the system tests: the netns lab, a per-test artifact dir, the server.

Fixtures:
  lab        a fresh lab.Lab, closed after the test whatever happens.
  artifacts  a temp dir for logs, configs and lease files; kept (and its path printed) when the
             test fails, removed when it passes.
  server_kind  'paceless' (default) or 'isc', from $PACELESS_TEST_SERVER (paceless|isc|both).
  server     a dhcp_util.Server of that kind (not started) on host 'srv' (192.0.2.1/24 on the
             'lan' bridge) of the lab.
Every test has a deadline: @pytest.mark.deadline(seconds) (default 120), enforced with
SIGALRM, since pytest-timeout is not installed.
"""

import os
import shutil
import signal
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import dhcp_util  # noqa: E402
from lab import Lab  # noqa: E402

DEFAULT_DEADLINE_S = 120


def pytest_configure(config):
    config.addinivalue_line('markers', 'deadline(seconds): fail the test after this long')
    if os.geteuid() != 0:
        raise pytest.UsageError('the system tests need root (network namespaces)')
    Lab.sweep_stale()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, 'rep_' + rep.when, rep)
    path = getattr(item, 'artifacts_path', None)
    if rep.failed and path:
        rep.sections.append(('artifacts', 'kept in %s' % path))
        srv = getattr(item, 'dhcp_server', None)
        if srv is not None and os.path.exists(srv.log_path):
            tail = srv.log().splitlines()[-40:]
            rep.sections.append(('server log (last 40 lines of %s)' % srv.log_path,
                                 '\n'.join(tail)))


class DeadlineExceeded(Exception):
    pass


def _expired(signum, frame):
    raise DeadlineExceeded('test deadline exceeded (@pytest.mark.deadline)')


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    # The deadline covers setup and the test itself, never teardown: cleanup always finishes.
    marker = item.get_closest_marker('deadline')
    seconds = int(marker.args[0]) if marker else DEFAULT_DEADLINE_S
    signal.signal(signal.SIGALRM, _expired)
    signal.alarm(seconds)
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    signal.alarm(0)
    yield


@pytest.fixture
def artifacts(request):
    name = request.node.name.replace('/', '_').replace('[', '-').replace(']', '')[:60]
    path = tempfile.mkdtemp(prefix='paceless-sys-%s-' % name)
    request.node.artifacts_path = path
    yield path
    failed = any(getattr(request.node, 'rep_' + w, None) is not None and
                 getattr(request.node, 'rep_' + w).failed for w in ('setup', 'call'))
    if failed:
        sys.stderr.write('\nartifacts of %s kept in %s\n' % (request.node.nodeid, path))
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def lab():
    with Lab() as lab:
        yield lab


@pytest.fixture(params=dhcp_util.server_kinds())
def server_kind(request):
    kind = request.param
    if kind == 'paceless' and not os.access(dhcp_util.paceless_dhcpd(), os.X_OK):
        pytest.skip('%s not built (set PACELESS_BUILD)' % dhcp_util.paceless_dhcpd())
    return kind


@pytest.fixture
def server(request, lab, artifacts, server_kind):
    srv = lab.host('srv', addrs=('192.0.2.1/24',))
    s = dhcp_util.Server(server_kind, srv, artifacts)
    request.node.dhcp_server = s
    yield s
    rc = s.stop()
    # A graceful stop must be clean: under ASan a leak or memory error makes it non-zero
    # (or aborts). -9 is a test's own SIGKILL.
    if s.kind == 'paceless' and rc not in (None, 0, -9):
        pytest.fail('paceless-dhcpd exited %d on SIGTERM; log %s:\n%s' %
                    (rc, s.log_path, s.log()[-3000:]))
