#!/usr/bin/env python3
"""Records real GraphQL answers and serves mutated copies of them (spec/answers_spec.lua).

    python3 mutate_server.py PORTFILE UPSTREAM_URL

Listens on 127.0.0.1, port 0, and writes the port to PORTFILE once it accepts connections.
Exits after 600 s, or on SIGTERM. Python 3 standard library only.

    POST /record/graphql        forwarded to UPSTREAM_URL; the answer is kept as the one of
                                its operation (the name after `query` or `mutation`) and
                                returned as it came
    POST /replay/OP/K/graphql   the kept answer of the request's operation; when that is OP,
                                mutation K (1-based) of it instead. An operation never kept
                                gets 404.
    GET  /mutations/OP          {"count": N, "names": [...]}: the mutations of OP's answer
    GET  /log                   the operations requested so far, in order (a JSON list)

The mutations of an answer: for every field of `data` (in every object, and in the first
item of every list), in order, the field removed, set to null, and set to a value of another
type (42 for a string, "x" for anything else).
"""
import copy
import json
import os
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from loopback import write_atomically

LIFETIME = 600
OPNAME = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")

answers = {}   # operation -> (status, parsed JSON body)
log = []
lock = threading.Lock()


def fields(value, path=()):
    """Yields the path of every field under value: object keys, and the first list item."""
    if isinstance(value, dict):
        for key in value:
            yield path + (key,)
            yield from fields(value[key], path + (key,))
    elif isinstance(value, list) and value:
        yield from fields(value[0], path + (0,))


def mutations(body):
    out = []
    for path in fields(body.get("data"), ("data",)):
        out.append((path, "removed"))
        out.append((path, "null"))
        out.append((path, "retyped"))
    return out


def name(path, kind):
    return ".".join(str(p) for p in path[1:]) + ": " + kind


def mutated(body, path, kind):
    body = copy.deepcopy(body)
    parent = body
    for p in path[:-1]:
        parent = parent[p]
    last = path[-1]
    if kind == "removed":
        del parent[last]
    elif kind == "null":
        parent[last] = None
    else:
        parent[last] = 42 if isinstance(parent[last], str) else "x"
    return body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # the headers and the body go out in two writes: with Nagle's algorithm the body waits for
    # the client's delayed ACK of the headers (up to 40 ms a request, most of the sweep's time)
    disable_nagle_algorithm = True
    upstream = None

    def log_message(self, *args):
        pass

    def send(self, status, body):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        with lock:
            if parts[0] == "log":
                return self.send(200, log)
            if parts[0] == "mutations" and len(parts) == 2 and parts[1] in answers:
                ms = mutations(answers[parts[1]][1])
                return self.send(200, {"count": len(ms), "names": [name(*m) for m in ms]})
        self.send(404, {"error": "unknown"})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        query = json.loads(raw).get("query", "")
        m = OPNAME.match(query)
        op = m.group(1) if m else "?"
        with lock:
            log.append(op)
        parts = self.path.strip("/").split("/")
        if parts[0] == "record":
            req = urllib.request.Request(self.upstream, data=raw,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            with lock:
                answers[op] = (status, json.loads(data))
            return self.send(status, data)
        if parts[0] == "replay" and len(parts) >= 3:
            with lock:
                kept = answers.get(op)
            if kept is None:
                return self.send(404, {"error": "no answer kept for " + op})
            status, body = kept
            if op == parts[1]:
                ms = mutations(body)
                k = int(parts[2])
                if not 1 <= k <= len(ms):
                    return self.send(404, {"error": "no mutation %d of %s" % (k, op)})
                body = mutated(body, *ms[k - 1])
            return self.send(status, body)
        self.send(404, {"error": "unknown path"})


def main(argv):
    portfile, Handler.upstream = argv[1], argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(LIFETIME, lambda: os._exit(0)).start()
    write_atomically(portfile, str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
