#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Writes the TCP payload of each direction of a failover capture's streams (port 647).

usage: fo_capture_streams.py CAPTURE.pcapng OUTDIR
Writes OUTDIR/SRC-SPORT_DST-DPORT.bin per direction that carried data, in capture order
(segments are taken by sequence number, so a retransmission is written once). Reads pcapng
(enhanced packet blocks) over Ethernet or Linux cooked capture, IPv4 only.
"""

import os
import struct
import sys


def packets(data):
    if data[:4] != b'\x0a\x0d\x0d\x0a':
        raise SystemExit('not a pcapng file')
    bo = '<' if data[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
    links, off = [], 0
    while off + 12 <= len(data):
        btype, blen = struct.unpack(bo + 'II', data[off:off + 8])
        if blen < 12:
            raise SystemExit('bad block length at %d' % off)
        body = data[off + 8:off + blen - 4]
        if btype == 1:  # interface description
            links.append(struct.unpack(bo + 'H', body[:2])[0])
        elif btype == 6:  # enhanced packet
            iface, _, _, caplen = struct.unpack(bo + 'IIII', body[:16])
            yield links[iface], body[20:20 + caplen]
        off += blen


def ipv4_payload(link, frame):
    if link == 1:  # Ethernet
        if struct.unpack('!H', frame[12:14])[0] != 0x0800:
            return None
        return frame[14:]
    if link == 113:  # Linux cooked v1
        if struct.unpack('!H', frame[14:16])[0] != 0x0800:
            return None
        return frame[16:]
    raise SystemExit('link type %d not handled' % link)


def main():
    src, outdir = sys.argv[1], sys.argv[2]
    with open(src, 'rb') as f:
        data = f.read()
    streams = {}
    for link, frame in packets(data):
        ip = ipv4_payload(link, frame)
        if not ip or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack('!H', ip[2:4])[0]
        tcp = ip[ihl:total]
        sport, dport, seq = struct.unpack('!HHI', tcp[:8])
        if 647 not in (sport, dport):
            continue
        payload = tcp[(tcp[12] >> 4) * 4:]
        if not payload:
            continue
        key = '%s-%d_%s-%d' % ('.'.join(map(str, ip[12:16])), sport,
                               '.'.join(map(str, ip[16:20])), dport)
        segs = streams.setdefault(key, {})
        segs.setdefault(seq, payload)
    os.makedirs(outdir, exist_ok=True)
    for key, segs in sorted(streams.items()):
        first = min(segs)
        out = bytearray()
        for seq in sorted(segs):
            rel = (seq - first) & 0xffffffff
            if rel > len(out):
                raise SystemExit('%s: gap at %d' % (key, rel))
            out[rel:rel + len(segs[seq])] = segs[seq]
        with open(os.path.join(outdir, key + '.bin'), 'wb') as f:
            f.write(out)
        print('%s: %d bytes' % (key, len(out)))


if __name__ == '__main__':
    main()
