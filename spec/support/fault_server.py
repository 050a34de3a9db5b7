#!/usr/bin/env python3
"""A misbehaving HTTP server for spec/faults_spec.lua (Python 3 standard library only).

    python3 fault_server.py PORTFILE [--tls CERT KEY]

Listens on 127.0.0.1, port 0, and writes the port to PORTFILE once it accepts connections
(written to a temporary name, then renamed, so a reader never sees half of it). Exits after
300 s, or on SIGTERM.

The fault is chosen by the first segment of the request path: a client built with
dagster.client("http://127.0.0.1:PORT/stall") posts to /stall/graphql. Further segments are
free (/count502/a/graphql and /count502/b/graphql are two counters), so that each spec can
count its own requests in the log. Modes:

    never       read the request, never answer
    stall       headers with Content-Length: 1000, 10 bytes of body, then nothing
    drip        a valid 200 answer (headers included), one byte per second
    reset       headers and part of the body, then RST (SO_LINGER 0)
    ok          {"data":{"version":"fault"}}, keep-alive
    closeafter  a valid keep-alive answer, then the connection is closed anyway
    html502, html503, html504   that status with an HTML page
    count502    502 for the first 2 requests on that path since start, then a valid answer
    401text     401, text/plain
    403json     403 {"error":"forbidden"}
    401errors   401 {"errors":[{"message":"Invalid token"}]}
    badjson     200 {"data": {
    truncated   Content-Length: 100, 30 bytes sent, then close (FIN)
    empty       200 with an empty body
    badutf8     200 {"data":{"version":"\\xff\\xfe"}} with the raw invalid bytes
    deep        200 {"data": [ x 100000 ] x 100000 }
    bigint      200 integers beyond 2^53 and 2^63
    huge        200 with Content-Length 200 MB, streamed in 1 MB chunks made on the fly
    redirect    307 to http://127.0.0.1:OTHERPORT/ok/graphql, a second listener of this process
    topgqlerr   200 with data null and a top-level GraphQL error
    nodata      200 {"foo":1}
    dropreused  the first request on a connection gets the "ok" answer; a later request on
                the same (reused) connection is read and then the connection is reset
                without an answer: the request reached the server, the answer is lost

Anything else gets 404. A request that does not start like HTTP (a TLS ClientHello sent to the
plain listener, say) gets "400 Bad Request" and a close, as a real server answers it.

Logs: every request's method, path, headers, connection number, its number on that connection
and the first 500 bytes of its body, one JSON line each, to
PORTFILE.log; the second (redirect target) listener logs to PORTFILE.redirect.log instead.
PORTFILE.ports holds {"main": P, "redirect": P2, "closed": P3}: P3 is a port bound by this
process but never listening, so connecting to it is refused for as long as this runs.
"""
import email.utils
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time

from loopback import rst_close, write_atomically

LIFETIME = 300
HUGE_TOTAL = 200 * 1000 * 1000
CHUNK = 1 << 20

OK_BODY = b'{"data":{"version":"fault"}}'

log_lock = threading.Lock()
counters = {}
counters_lock = threading.Lock()
conn_serial = [0]


def log_request(logpath, conn_id, nth, method, path, headers, body):
    line = json.dumps({"t": time.time(), "conn": conn_id, "nth": nth, "method": method, "path": path,
                       "headers": headers, "body": body[:500].decode("latin-1")})
    with log_lock:
        with open(logpath, "a") as f:
            f.write(line + "\n")


def response(status, reason, body=b"", ctype="application/json", extra=(), length=None,
             keep_alive=True):
    head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Type: " + ctype,
            "Content-Length: %d" % (len(body) if length is None else length),
            "Connection: " + ("keep-alive" if keep_alive else "close")]
    head.extend(extra)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def html_page(status, reason):
    return ("<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center>"
            "<hr><center>fault_server</center></body></html>\n" % (status, reason, status, reason)
            ).encode()


def wait_for_close(sock, limit=LIFETIME):
    """Holds a connection open until the peer closes it (or limit seconds)."""
    sock.settimeout(1.0)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return
        except socket.timeout:
            continue
        except OSError:
            return


class Conn:
    """Reads HTTP/1.1 requests off one connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read_request(self):
        """Returns (method, path, headers, body), None at EOF, or "garbage"."""
        while b"\r\n\r\n" not in self.buf:
            if self.buf and not self.buf[:1].isalpha():
                return "garbage"
            try:
                data = self.sock.recv(65536)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
            if len(self.buf) > 1 << 20:
                return "garbage"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return "garbage"
        method, path = parts[0], parts[1]
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip()] = v.strip()
        n = 0
        for k, v in headers.items():
            if k.lower() == "content-length":
                n = int(v)
        while len(self.buf) < n:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return None
            if not data:
                return None
            self.buf += data
        body, self.buf = self.buf[:n], self.buf[n:]
        return method, path, headers, body


def send_huge(sock):
    prefix = b'{"data":{"version":"'
    suffix = b'"}}'
    filler = b"a" * CHUNK
    sock.sendall(response(200, "OK", length=HUGE_TOTAL))
    sent = 0
    while sent < HUGE_TOTAL:
        n = min(CHUNK, HUGE_TOTAL - sent)
        if sent == 0:
            chunk = prefix + filler[:n - len(prefix)]
        elif sent + n == HUGE_TOTAL:
            chunk = filler[:n - len(suffix)] + suffix
        else:
            chunk = filler[:n]
        sock.sendall(chunk)
        sent += n


def count(path):
    with counters_lock:
        counters[path] = counters.get(path, 0) + 1
        return counters[path]


def serve(sock, conn_id, logpath, redirect_port):
    """Answers requests on one connection; returns when it is to be closed (closes it)."""
    c = Conn(sock)
    nth = 0
    try:
        while True:
            req = c.read_request()
            if req is None:
                sock.close()
                return
            if req == "garbage":
                sock.sendall(response(400, "Bad Request", html_page(400, "Bad Request"),
                                      "text/html", keep_alive=False))
                sock.close()
                return
            method, path, headers, body = req
            nth += 1
            log_request(logpath, conn_id, nth, method, path, headers, body)
            mode = path.lstrip("/").split("/", 1)[0].split("?", 1)[0]
            if not handle(sock, mode, path, redirect_port, nth):
                return
    except OSError:
        try:
            sock.close()
        except OSError:
            pass


def handle(sock, mode, path, redirect_port, nth):
    """Answers one request (the nth on its connection); returns True to keep the connection
    for the next one."""
    if mode == "ok" or (mode == "dropreused" and nth == 1):
        sock.sendall(response(200, "OK", OK_BODY))
        return True
    if mode == "dropreused":
        time.sleep(0.05)
        rst_close(sock)
        return False
    if mode == "ok":
        sock.sendall(response(200, "OK", OK_BODY))
        return True
    if mode == "never":
        wait_for_close(sock)
        sock.close()
        return False
    if mode == "stall":
        sock.sendall(response(200, "OK", b'{"data":{"v', length=1000))
        wait_for_close(sock)
        sock.close()
        return False
    if mode == "drip":
        for i in response(200, "OK", OK_BODY):
            sock.sendall(bytes([i]))
            time.sleep(1.0)
        return True
    if mode == "reset":
        sock.sendall(response(200, "OK", b'{"data":{"version":"fa', length=1000))
        time.sleep(0.2)
        rst_close(sock)
        return False
    if mode == "closeafter":
        sock.sendall(response(200, "OK", OK_BODY))
        sock.close()
        return False
    if mode in ("html502", "html503", "html504"):
        status = int(mode[4:])
        reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}[status]
        sock.sendall(response(status, reason, html_page(status, reason), "text/html"))
        return True
    if mode == "count502":
        if count(path) <= 2:
            sock.sendall(response(502, "Bad Gateway", html_page(502, "Bad Gateway"), "text/html"))
        else:
            sock.sendall(response(200, "OK", OK_BODY))
        return True
    # rate limits: count429 answers 429 (Retry-After: 0.3) four times, then OK; date429 once
    # with an HTTP date 2 s ahead; always429 every time with Retry-After: 30; ra503 answers
    # 503 with Retry-After: 0.2 twice
    if mode == "count429":
        if count(path) <= 4:
            sock.sendall(response(429, "Too Many Requests", b'{"errors":[{"message":"rate limited"}]}',
                                  extra=["Retry-After: 0.3"]))
        else:
            sock.sendall(response(200, "OK", OK_BODY))
        return True
    if mode == "date429":
        if count(path) <= 1:
            when = email.utils.formatdate(time.time() + 2, usegmt=True)
            sock.sendall(response(429, "Too Many Requests", b"slow down\n", "text/plain",
                                  extra=["Retry-After: " + when]))
        else:
            sock.sendall(response(200, "OK", OK_BODY))
        return True
    if mode == "always429":
        sock.sendall(response(429, "Too Many Requests", b"slow down\n", "text/plain",
                              extra=["Retry-After: 30"]))
        return True
    if mode == "ra503":
        if count(path) <= 2:
            sock.sendall(response(503, "Service Unavailable", html_page(503, "Service Unavailable"),
                                  "text/html", extra=["Retry-After: 0.2"]))
        else:
            sock.sendall(response(200, "OK", OK_BODY))
        return True
    # Dagster+ maintenance ({"maintenance": {...}}, whatever the status): maint answers it
    # three times with HTTP 503 and retry_interval 0.2, then OK; maintlong every time, with
    # HTTP 200 and retry_interval 0.5
    if mode == "maint":
        if count(path) <= 3:
            sock.sendall(response(503, "Service Unavailable", json.dumps({"maintenance": {
                "message": "Dagster+ is down for scheduled maintenance", "timeout": 600,
                "retry_interval": 0.2}}).encode()))
        else:
            sock.sendall(response(200, "OK", OK_BODY))
        return True
    if mode == "maintlong":
        sock.sendall(response(200, "OK", json.dumps({"maintenance": {
            "message": "Dagster+ is down for scheduled maintenance", "retry_interval": 0.5}}).encode()))
        return True
    if mode == "401text":
        sock.sendall(response(401, "Unauthorized", b"Unauthorized: no valid token\n", "text/plain"))
        return True
    if mode == "403json":
        sock.sendall(response(403, "Forbidden", b'{"error":"forbidden"}'))
        return True
    if mode == "401errors":
        sock.sendall(response(401, "Unauthorized", b'{"errors":[{"message":"Invalid token"}]}'))
        return True
    if mode == "badjson":
        sock.sendall(response(200, "OK", b'{"data": {'))
        return True
    if mode == "truncated":
        sock.sendall(response(200, "OK", b'{"data":{"version":"fault"', length=100))
        sock.close()
        return False
    if mode == "empty":
        sock.sendall(response(200, "OK", b""))
        return True
    if mode == "badutf8":
        sock.sendall(response(200, "OK", b'{"data":{"version":"\xff\xfe"}}'))
        return True
    if mode == "deep":
        sock.sendall(response(200, "OK", b'{"data":' + b"[" * 100000 + b"]" * 100000 + b"}"))
        return True
    if mode == "bigint":
        sock.sendall(response(200, "OK", b'{"data":{"big":9007199254740993,'
                              b'"neg":-9223372036854775808,'
                              b'"huge":123456789012345678901234567890}}'))
        return True
    if mode == "huge":
        send_huge(sock)
        return True
    if mode == "redirect":
        loc = "http://127.0.0.1:%d/ok/graphql" % redirect_port
        sock.sendall(response(307, "Temporary Redirect", html_page(307, "Temporary Redirect"),
                              "text/html", extra=["Location: " + loc]))
        return True
    if mode == "topgqlerr":
        sock.sendall(response(200, "OK", b'{"data":null,"errors":[{"message":'
                              b'"Cannot query field \'x\' on type \'Query\'.",'
                              b'"locations":[{"line":1,"column":3}]}]}'))
        return True
    if mode == "nodata":
        sock.sendall(response(200, "OK", b'{"foo":1}'))
        return True
    sock.sendall(response(404, "Not Found", html_page(404, "Not Found"), "text/html"))
    return True


def listen():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    return s


def accept_loop(lsock, logpath, redirect_port, tls):
    while True:
        try:
            sock, _ = lsock.accept()
        except OSError:
            continue
        conn_serial[0] += 1
        threading.Thread(target=start_conn, args=(sock, conn_serial[0], logpath, redirect_port,
                                                  tls), daemon=True).start()


def start_conn(sock, conn_id, logpath, redirect_port, tls):
    if tls is not None:
        try:
            sock.settimeout(10)
            sock = tls.wrap_socket(sock, server_side=True)
            sock.settimeout(None)
        except (OSError, ssl.SSLError):
            try:
                sock.close()
            except OSError:
                pass
            return
    serve(sock, conn_id, logpath, redirect_port)


def main(argv):
    if len(argv) not in (2, 5) or (len(argv) == 5 and argv[2] != "--tls"):
        sys.stderr.write("usage: fault_server.py PORTFILE [--tls CERT KEY]\n")
        return 2
    portfile = argv[1]
    tls = None
    if len(argv) == 5:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(argv[3], argv[4])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    main_sock, other_sock = listen(), listen()
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    other_port = other_sock.getsockname()[1]
    threading.Thread(target=accept_loop, args=(other_sock, portfile + ".redirect.log",
                                               other_port, None), daemon=True).start()
    threading.Thread(target=accept_loop, args=(main_sock, portfile + ".log", other_port, tls),
                     daemon=True).start()
    port = main_sock.getsockname()[1]
    write_atomically(portfile + ".ports", json.dumps(
        {"main": port, "redirect": other_port, "closed": closed.getsockname()[1]}))
    write_atomically(portfile, "%d\n" % port)
    time.sleep(LIFETIME)
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
