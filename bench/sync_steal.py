#!/usr/bin/python3
"""What an fdatasync costs this machine: steal time (CPU the hypervisor takes back) while
every vCPU is kept busy, alone and with a thread appending and syncing at each rate.

docs/internals/dhcp-server.md, "What a sync costs the machine". Not a comparison with an
incumbent: it measures the machine that the DHCP benchmarks run on.
"""
import argparse
import os
import subprocess
import tempfile
import time


def steal_ticks():
    with open('/proc/stat') as f:
        return int(f.readline().split()[8])


RUNWAY = 16 << 20  # --overwrite: bytes written before, overwritten round and round


def sync_loop(path, rate, secs, rec, overwrite):
    """Appends (or overwrites pre-written blocks) rec bytes and fdatasyncs, rate times a
    second (0: as fast as it can); returns the syncs done."""
    fd = os.open(path, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)
    try:
        if overwrite:
            for _ in range(RUNWAY >> 20):
                os.write(fd, b'\n' * (1 << 20))
            os.fsync(fd)
            os.lseek(fd, 0, os.SEEK_SET)
        n, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < secs:
            # Never past the runway: a write there would append after all.
            if overwrite and os.lseek(fd, 0, os.SEEK_CUR) + rec > RUNWAY:
                os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, b'x' * rec)
            os.fdatasync(fd)
            n += 1
            if rate:
                time.sleep(1.0 / rate)
        return n
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--rates', default='0,500,2000',
                    help='sleeps between syncs as rates; none: no syncs at all')
    ap.add_argument('--secs', type=float, default=9.5)
    ap.add_argument('--rec', type=int, default=300, help='bytes per write')
    ap.add_argument('--overwrite', action='store_true', help='pre-written blocks, no appends')
    ap.add_argument('--dir', default='/var/tmp')
    args = ap.parse_args()
    for spec in ['none'] + args.rates.split(','):
        spin = [subprocess.Popen(['sh', '-c', 'while :; do :; done'])
                for _ in range(os.cpu_count() or 2)]
        try:
            before = steal_ticks()
            if spec == 'none':
                time.sleep(args.secs)
                n = 0
            else:
                fd, path = tempfile.mkstemp(prefix='sync_steal-', dir=args.dir)
                os.close(fd)
                n = sync_loop(path, float(spec), args.secs, args.rec, args.overwrite)
            stolen = steal_ticks() - before
        finally:
            for p in spin:
                p.kill()
                p.wait()
        print('%-5s syncs/s %6.0f  steal %4d ticks in %.1f s' %
              (spec, n / args.secs, stolen, args.secs), flush=True)
        time.sleep(1)


if __name__ == '__main__':
    main()
