# SPDX-License-Identifier: MPL-2.0
"""A TCP relay that records every byte it passes: what an eavesdropper on the path would see.

    /usr/bin/python3 tcp_tap.py LISTEN_HOST:PORT TARGET_HOST:PORT CAPTURE_FILE

Each accepted connection is relayed to TARGET both ways; the bytes of both directions are
appended to CAPTURE_FILE as they pass. Runs until killed (start it with lab.Host.spawn).
"""

import socket
import sys
import threading


def hostport(s):
    host, port = s.rsplit(':', 1)
    return host, int(port)


def pump(src, dst, out, lock):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            with lock:
                out.write(data)
                out.flush()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    listen, target, path = hostport(sys.argv[1]), hostport(sys.argv[2]), sys.argv[3]
    srv = socket.create_server(listen)
    lock = threading.Lock()
    with open(path, 'ab') as out:
        while True:
            client, _ = srv.accept()
            try:
                upstream = socket.create_connection(target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b, out, lock), daemon=True).start()


if __name__ == '__main__':
    main()
