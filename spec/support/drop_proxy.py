#!/usr/bin/env python3
"""A proxy in front of the real webserver that loses launch answers, for
spec/launch_once_spec.lua (Python 3 standard library only).

    python3 drop_proxy.py UPSTREAM PORTFILE

UPSTREAM is the webserver's base URL (http://127.0.0.1:PORT). Listens on 127.0.0.1, port 0,
writes the port to PORTFILE once it accepts connections (temporary name, then rename), and
exits after 300 s or on SIGTERM. Each connection is served keep-alive, one request at a time,
as a client sees a real server.

The first path segment picks what happens to a request whose body contains "launchRun" (or
"launchPartitionBackfill"); the
segment is then removed and the rest forwarded (POST /first/graphql -> UPSTREAM/graphql):

    first...    forward it, read the upstream's answer, then drop the client's connection
                without answering (RST) -- only for the first such request on that segment
                (first, first2, firstX are separate); later ones are forwarded normally
    all...      the same for every launch request
    refuse...   drop the connection (RST) without forwarding the launch at all
    late...     hold every launch LATE (3) seconds, then forward it and answer, whether the
                client is still there or not: a server slow to create the run, which goes on
                with it when the client is gone (a held launch is logged on arrival too, with
                "held": true)
    (other)     forward everything, the path unchanged

Requests that are not launches are always forwarded. Every request is logged to PORTFILE.log
as a JSON line: {"conn", "nth", "t", "op", "segment", "path", "launch", "submission_id",
"forwarded", "dropped"} (nth: its number on the connection; t: when it arrived, Unix seconds;
op: the operation's name; submission_id: the dagster-lua/submission_id tag a launch carried).
"""
import http.client
import json
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.parse

from loopback import rst_close, write_atomically

LIFETIME = 300
LATE = 3
TAG = "dagster-lua/submission_id"
HOP = {"host", "connection", "content-length", "accept-encoding", "keep-alive",
       "transfer-encoding", "te", "upgrade", "proxy-connection"}

log_lock = threading.Lock()
state_lock = threading.Lock()
dropped_once = set()
conn_serial = [0]


def submission_id(body):
    try:
        doc = json.loads(body)
        v = doc["variables"]
        tags = (v["backfillParams"]["tags"] if "backfillParams" in v
                else v["executionParams"]["executionMetadata"]["tags"])
        for t in tags:
            if t.get("key") == TAG:
                return t.get("value")
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def request(self):
        """(method, path, headers, body), or None when the client closed."""
        try:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            headers = []
            n = 0
            for line in lines[1:]:
                k, _, v = line.partition(":")
                k, v = k.strip(), v.strip()
                headers.append((k, v))
                if k.lower() == "content-length":
                    n = int(v)
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return method, path, headers, body
        except (EOFError, OSError, ValueError):
            return None


def forward(upstream, method, path, headers, body):
    u = urllib.parse.urlsplit(upstream)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
    try:
        fwd = {k: v for k, v in headers if k.lower() not in HOP}
        fwd["Accept-Encoding"] = "identity"
        conn.request(method, u.path.rstrip("/") + path, body=body, headers=fwd)
        r = conn.getresponse()
        data = r.read()
        return r.status, r.reason, r.getheader("Content-Type", "application/json"), data
    finally:
        conn.close()


def operation(body):
    try:
        m = re.search(r"\b(query|mutation)\s+(\w+)", json.loads(body).get("query", ""))
        return m and m.group(2)
    except (ValueError, AttributeError, TypeError):
        return None


def serve(sock, conn_id, upstream, logpath):
    reader = Reader(sock)
    nth = 0
    while True:
        req = reader.request()
        if req is None:
            sock.close()
            return
        method, path, headers, body = req
        nth += 1
        arrived = time.time()
        segment = path.lstrip("/").split("/", 1)[0]
        mode = None
        for m in ("first", "all", "refuse", "late"):
            if segment.startswith(m):
                mode = m
                path = "/" + path.lstrip("/")[len(segment):].lstrip("/")
        launch = b"launchRun" in body or b"launchPartitionBackfill" in body
        entry = {"conn": conn_id, "nth": nth, "t": arrived, "op": operation(body),
                 "segment": segment, "path": path, "launch": launch,
                 "submission_id": submission_id(body) if launch else None,
                 "forwarded": False, "dropped": False}
        drop = False
        if launch and mode == "refuse":
            drop = True
        elif launch and mode == "all":
            drop = True
        elif launch and mode == "first":
            with state_lock:
                if segment not in dropped_once:
                    dropped_once.add(segment)
                    drop = True
        if launch and mode == "late":
            with log_lock:
                with open(logpath, "a") as f:
                    f.write(json.dumps(dict(entry, held=True)) + "\n")
            time.sleep(LATE)
        answer = None
        if not (drop and mode == "refuse"):
            try:
                answer = forward(upstream, method, path, headers, body)
                entry["forwarded"] = True
            except (OSError, http.client.HTTPException) as e:
                msg = ("proxy: upstream failed: %s\n" % e).encode()
                answer = (502, "Bad Gateway", "text/plain", msg)
        entry["dropped"] = drop
        with log_lock:
            with open(logpath, "a") as f:
                f.write(json.dumps(entry) + "\n")
        if drop:
            time.sleep(0.05)
            rst_close(sock)
            return
        status, reason, ctype, data = answer
        head = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                "Connection: keep-alive\r\n\r\n" % (status, reason, ctype, len(data)))
        try:
            sock.sendall(head.encode("latin-1") + data)
        except OSError:
            sock.close()
            return


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: drop_proxy.py UPSTREAM PORTFILE\n")
        return 2
    upstream, portfile = argv[1], argv[2]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)

    def accept_loop():
        while True:
            try:
                s, _ = lsock.accept()
            except OSError:
                continue
            conn_serial[0] += 1
            threading.Thread(target=serve, args=(s, conn_serial[0], upstream,
                                                 portfile + ".log"), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    write_atomically(portfile, "%d\n" % lsock.getsockname()[1])
    time.sleep(LIFETIME)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
