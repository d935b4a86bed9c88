# SPDX-License-Identifier: MPL-2.0
"""A second server on the same host refuses to start instead of answering alongside."""

import os

import pytest

from dhcp_util import paceless_only, subnet_conf


@pytest.mark.deadline(60)
def test_second_instance_refuses_to_start(server):
    paceless_only(server)
    server.start(subnet_conf())
    before = os.stat(server.lease_path)
    # Same pid file: refused as ISC refuses ("There's already a DHCP server running").
    r = server.host.run(server.argv(), check=False, timeout=20)
    assert r.returncode != 0
    assert 'already' in (r.stdout + r.stderr), r.stdout + r.stderr
    # Another pid file, same port: the bind fails, loudly.
    argv = [a if a != server.pid_path else server.pid_path + '.2' for a in server.argv()]
    argv = [a if a != server.ctl_path else server.ctl_path + '.2' for a in argv]
    r = server.host.run(argv, check=False, timeout=20)
    assert r.returncode != 0
    assert 'port 67' in (r.stdout + r.stderr), r.stdout + r.stderr
    assert server.running()
    # Neither attempt touched the running server's lease file (no start-up rewrite).
    after = os.stat(server.lease_path)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
