#!/usr/bin/env python3
"""A webhook receiver for spec/unattended_spec.lua (Python 3 standard library only): what a
playbook's --notify and --notify-env POST to.

    python3 webhook_receiver.py PORTFILE

Listens on 127.0.0.1, port 0, and writes the port to PORTFILE once it accepts connections
(through a rename, so a reader never sees half of it). Exits after 300 s, or on SIGTERM.

Every POST is logged as one JSON line to PORTFILE.log, written whole and flushed:
{"path": ..., "content_type": ..., "user_agent": ..., "body": <the body as text>}. The answer
is chosen by the path: /status/NNN/... answers NNN (a receiver that fails), /hang/... answers
204 only after 30 s (a receiver that does not answer in time), anything else 204. The spec
reads what was sent from the log, so the path can carry a "secret" the spec then looks for
everywhere else.
"""
import http.server
import json
import os
import re
import sys
import threading
import time

from loopback import write_atomically

LIFETIME = 300


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the log file says what came
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace")
        line = json.dumps({"path": self.path, "content_type": self.headers.get("Content-Type"),
                           "user_agent": self.headers.get("User-Agent"), "body": body})
        with open(self.server.log, "a") as f:
            f.write(line + "\n")
        if self.path.startswith("/hang/"):
            time.sleep(30)
        m = re.match(r"^/status/(\d{3})(/|$)", self.path)
        status = int(m.group(1)) if m else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    portfile = sys.argv[1]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.log = portfile + ".log"
    open(srv.log, "a").close()
    threading.Thread(target=lambda: (time.sleep(LIFETIME), os._exit(0)), daemon=True).start()
    write_atomically(portfile, str(srv.server_address[1]))
    srv.serve_forever()


if __name__ == "__main__":
    main()
