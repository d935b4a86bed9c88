#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Writes a dhcpd.leases file of N active leases in ISC dhcpd 4.4's format, plus its dhcpd.conf.

The addresses are 10.15.255.250 downwards inside 10.0.0.0/12 (room for 1,048,566 leases),
in the order ISC dhcpd itself hands them out (top of the range first) and so writes them: ISC
4.4 keeps its free-lease queue as a list, and a file in any other order makes its load walk
that list for every lease (quadratic: 100k ascending leases in a 1M range took 218 s). These
files are only ever parsed: no packet is sent to or from any of these addresses. The output is
deterministic for a given N and --now, so runs compare like with like.

    gen_leases.py --leases 1000000 --out /var/tmp/bench.leases --conf /var/tmp/bench.conf
"""

import argparse
import ipaddress
import sys
import time

BIG_NET = ipaddress.IPv4Network('10.0.0.0/12')
FIRST = int(BIG_NET.network_address) + 10
LAST = int(BIG_NET.broadcast_address) - 5
LEASES_MAX = LAST - FIRST + 1
LEASE_S = 30 * 86400  # every lease ends 30 days after the run: all are active when loaded


def conf_text(iface_net='192.0.2.0/24'):
    """dhcpd.conf for these leases: the big subnet shares a network with iface_net, the subnet
    of the interface the server runs on (ISC serves a subnet only through an interface's
    shared network). No range on the interface's subnet: nothing there is leased."""
    n = ipaddress.IPv4Network(iface_net)
    return ''.join([
        '# paceless bench: 1M-lease load test. Nothing is served from 10.0.0.0/12: the server\n',
        '# only parses this file and the lease file; no packet uses these addresses.\n',
        'default-lease-time 86400;\n',
        'max-lease-time %d;\n' % (2 * LEASE_S),
        'authoritative;\n',
        'ddns-update-style none;\n',
        'shared-network bench {\n',
        '    subnet %s netmask %s { }\n' % (n.network_address, n.netmask),
        '    subnet %s netmask %s {\n' % (BIG_NET.network_address, BIG_NET.netmask),
        '        range %s %s;\n' % (ipaddress.IPv4Address(FIRST), ipaddress.IPv4Address(LAST)),
        '    }\n',
        '}\n',
    ])


def _isc_time(t):
    # ISC writes "W YYYY/MM/DD HH:MM:SS" in UTC, W = weekday with Sunday = 0.
    g = time.gmtime(t)
    return '%d %s' % ((g.tm_wday + 1) % 7, time.strftime('%Y/%m/%d %H:%M:%S', g))


def _quotify(b):
    # As ISC's quotify_buf: printable bytes as they are, '"' and '\' escaped, others octal.
    out = []
    for c in b:
        if c in (0x22, 0x5c):
            out.append('\\' + chr(c))
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append('\\%03o' % c)
    return ''.join(out)


def write_leases(path, n, now):
    """Writes n lease records to path; returns the bytes written."""
    if not 0 <= n <= LEASES_MAX:
        raise ValueError('leases must be 0..%d' % LEASES_MAX)
    size = 0
    with open(path, 'w', buffering=1 << 20) as f:
        head = ('# The format of this file is documented in the dhcpd.leases(5) manual page.\n'
                '# This lease file was written by paceless bench/gen_leases.py\n\n'
                '# authoring-byte-order entry is generated, DO NOT DELETE\n'
                'authoring-byte-order little-endian;\n\n')
        f.write(head)
        size += len(head)
        times = {}  # the 3600 distinct start times, formatted once
        for i in range(n):
            # Starts spread over the last hour in file order, as a server appending leases
            # writes them (ISC 4.4 sorts its lease queues by insertion into a linked list:
            # a shuffled file makes its load quadratic, which no real file is).
            starts = now - 3600 + (i * 3600) // max(1, n)
            t = times.get(starts)
            if t is None:
                t = times[starts] = (_isc_time(starts), _isc_time(starts + LEASE_S))
            mac = bytes((0x02, 0x00, (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff,
                         i & 0xff))
            a = LAST - i
            addr = '%d.%d.%d.%d' % (a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff)
            rec = ('lease %s {\n'
                   '  starts %s;\n'
                   '  ends %s;\n'
                   '  cltt %s;\n'
                   '  binding state active;\n'
                   '  next binding state free;\n'
                   '  rewind binding state free;\n'
                   '  hardware ethernet %s;\n'
                   '  uid "%s";\n'
                   '  client-hostname "host-%d";\n'
                   '}\n') % (addr, t[0], t[1], t[0], mac.hex(':'), _quotify(b'\x01' + mac), i)
            f.write(rec)
            size += len(rec)
    return size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--leases', type=int, default=1000000)
    ap.add_argument('--out', required=True, help='lease file to write')
    ap.add_argument('--conf', help='also write the matching dhcpd.conf here')
    ap.add_argument('--now', type=int, default=0, help='unix time the leases start around '
                    '(default: now)')
    args = ap.parse_args(argv)
    now = args.now or int(time.time())
    size = write_leases(args.out, args.leases, now)
    if args.conf:
        with open(args.conf, 'w') as f:
            f.write(conf_text())
    print('%s: %d leases, %d bytes' % (args.out, args.leases, size))
    return 0


if __name__ == '__main__':
    sys.exit(main())
