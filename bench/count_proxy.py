"""A small counting HTTP proxy (python stdlib only) for bench/: forwards every request to one
upstream webserver and records each POST (time, size, operation name, how many run ids its
variables carry, the keys of its `filter` variable if it has one).

  python3 count_proxy.py UPSTREAM_URL [PORT]   serve; prints "PROXY_URL=http://127.0.0.1:PORT",
                                               then one JSON line per POST on stdout, each
                                               written before its answer is sent on (dt: the
                                               upstream's time)

From Python: proxy = CountingProxy(upstream_url); proxy.url; proxy.records; proxy.reset();
proxy.close().

HTTP/1.1 with keep-alive on both sides (one upstream connection per client connection), so a
client that keeps its connection sees the same connection behaviour through the proxy.
"""
import http.client
import http.server
import json
import re
import sys
import threading
import time
import urllib.parse

HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "accept-encoding", "content-length", "host"}


def _describe(body):
    """(operation name, number of ids in the variables' lists, sorted keys of the `filter`
    variable or None) of a GraphQL POST body."""
    try:
        doc = json.loads(body)
    except ValueError:
        return None, 0, None
    if not isinstance(doc, dict):
        return None, 0, None
    m = re.match(r"\s*(?:query|mutation)\s+(\w+)", doc.get("query") or "")
    ids, keys = 0, None
    variables = doc.get("variables")
    if isinstance(variables, dict):
        for v in variables.values():
            if isinstance(v, list):
                ids += len(v)
            elif isinstance(v, dict):  # e.g. a filter {runIds = [...]}
                for w in v.values():
                    if isinstance(w, list):
                        ids += len(w)
        if isinstance(variables.get("filter"), dict):
            keys = sorted(variables["filter"])
    return (m.group(1) if m else None), ids, keys


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _upstream(self):
        c = getattr(self, "_conn", None)
        if c is None:
            u = self.server.upstream
            c = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
            self._conn = c
        return c

    def _forward(self, method, body, before_reply=None):
        """Sends the request upstream and its answer back; before_reply(status, size) runs
        once the answer has come and before it is sent on."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        path = self.server.upstream_prefix + self.path
        for attempt in (0, 1):  # the upstream may have closed an idle connection
            c = self._upstream()
            try:
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse()
                data = r.read()
                break
            except (http.client.HTTPException, OSError):
                c.close()
                self._conn = None
                if attempt:
                    raise
        if before_reply:
            before_reply(r.status, len(data))
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return r.status, len(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        t0 = time.time()

        # recorded before the answer is sent on: a client that has its answer can count on
        # the record (a spec reads the log as soon as its client is done, and stops the proxy)
        def record(status, size):
            op, ids, keys = _describe(body)
            rec = {"t": t0, "dt": time.time() - t0, "op": op, "ids": ids, "filter": keys,
                   "status": status, "req_bytes": len(body), "resp_bytes": size}
            with self.server.lock:
                self.server.records.append(rec)
            if self.server.echo:
                print(json.dumps(rec), flush=True)

        self._forward("POST", body, record)

    def do_GET(self):
        self._forward("GET", None)


class CountingProxy:
    def __init__(self, upstream_url, port=0, echo=False):
        u = urllib.parse.urlsplit(upstream_url)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.server.daemon_threads = True
        self.server.upstream = u
        self.server.upstream_prefix = u.path.rstrip("/")
        if self.server.upstream_prefix.endswith("/graphql"):
            self.server.upstream_prefix = self.server.upstream_prefix[:-len("/graphql")]
        self.server.records = []
        self.server.lock = threading.Lock()
        self.server.echo = echo
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def records(self):
        with self.server.lock:
            return list(self.server.records)

    def reset(self):
        with self.server.lock:
            self.server.records.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    p = CountingProxy(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 0, echo=True)
    print(f"PROXY_URL={p.url}", flush=True)
    try:
        p.thread.join()
    except KeyboardInterrupt:
        p.close()
