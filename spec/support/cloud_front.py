#!/usr/bin/env python3
"""A loopback stand-in for Dagster+ (Dagster Cloud) in front of real local webservers, for the
specs and the bench (Python 3.11 standard library only; certificates through the `openssl`
command).

    python3 cloud_front.py --token TOKEN --deployment prod=http://127.0.0.1:3000
        [--deployment staging=http://127.0.0.1:3001 ...] (--dir DIR | --port-file FILE)
        [--log FILE] [--rate N [--burst B] [--retry-after-date]]
        [--maintenance-file FILE] [--unavailable-file FILE] [--organization ORG]
        [--reload-message TEXT] [--host 127.0.0.1] [--port 0] [--lifetime SECONDS]

HTTPS on 127.0.0.1 with a certificate of its own CA, both made at start in DIR (default: the
directory of --port-file): ca.pem (give it to the client as `cainfo`), ca.key, server.pem and
server.key (valid for 127.0.0.1, ::1 and localhost through subjectAltName). A CA already in DIR
(ca.pem + ca.key) is kept, so a front restarted over the same DIR is trusted by clients that
loaded ca.pem before. The port is written to --port-file (default DIR/port) once it listens,
through a rename. Stops on SIGTERM or SIGINT (exit 0), or after --lifetime seconds when that is
not 0. Starting takes about 0.3 s (most of it openssl).

What it answers, in this order (see spec/support/CLOUD_NOTES.md for where each shape comes from):

  1. while --maintenance-file exists: every request gets the maintenance answer the
     dagster-cloud CLI recognizes, {"maintenance": {"message", "timeout", "retry_interval"}},
     HTTP 503 with Retry-After: retry_interval. The file holds JSON with any of message, timeout,
     retry_interval (and "status" to answer another HTTP status), or nothing for the defaults.
  2. a request without the Dagster-Cloud-Api-Token header, or with another value than a --token
     (repeatable): 401, {"error": "..."} (no GraphQL data or errors).
  3. past --rate requests per second (one token bucket for the whole front, every deployment
     and path, holding --burst, default max(1, rate)):
     429 with Retry-After in whole seconds until the bucket has a token again (at least 1), or as
     an HTTP date with --retry-after-date; body {"error": "Too Many Requests", "retry_after": S}.
  4. while --unavailable-file exists: 503 with Retry-After. The file holds JSON
     {"count": N, "retry_after": S}: the next N requests get 503 and the front then removes
     the file; empty (or without count): every request while it exists; retry_after default 1.
  5. routing. POST /DEPLOYMENT/graphql goes to that deployment's webserver at /graphql; any
     other method or path under /DEPLOYMENT/ goes to the same path there (GET
     /prod/server_info -> UPSTREAM/server_info). The answer's status, body and Content-Type are
     relayed; HTTP/1.1 keep-alive on both sides (one upstream connection per client connection
     and deployment). The token header is not passed on. An unknown DEPLOYMENT: 404 JSON.
     The organization's base, POST /graphql (and /ORG/graphql with --organization ORG, the
     shape the dg CLI uses), picks the deployment from a Dagster-Cloud-Deployment header; without
     one, only the organization-level queries below are answered (else 400 with a GraphQL error).
     A Dagster-Cloud-Deployment header on a /DEPLOYMENT/ path is ignored: the path wins.
  6. answered here, never forwarded (a small GraphQL reader resolves the client's own selection,
     fragments included):
       - a mutation whose fields are reloadRepositoryLocation: ReloadNotSupported with the
         message "Location NAME does not support reloading." (--reload-message overrides it;
         {name} is replaced), or RepositoryLocationNotFound ("Location NAME does not exist.")
         when the deployment's workspace has no such location (asked of the webserver first);
       - a query whose fields are among fullDeployments, deployments(deploymentNames:),
         currentDeployment and deploymentByName(name:): the configured deployments as
         DagsterCloudDeployment {deploymentId (1, 2, ... in command-line order), deploymentName,
         deploymentType "PRODUCTION", deploymentStatus "ACTIVE", isBranchDeployment false,
         agentType "HYBRID", organizationId "1", canAccessDeployment true, ...}. Such a query
         mixed with other root fields, or asking a field the front does not know, gets 400 with
         a GraphQL validation error (it would not be answered whole).

--log FILE gets one JSON line per request: {"t", "conn", "nth", "method", "path", "deployment",
"op" (operationName, else the document's operation name), "status" (what the front answered),
"answer" (forwarded, maintenance, unauthorized, rate_limited, unavailable, reload_not_supported,
location_not_found, cloud, not_found, no_deployment, bad_request, upstream_error), "limited"
(429), "maintenance" (bool), "retry_after" (the header sent, or null), "forwarded" (bool)}.
"""
import argparse
import email.utils
import hmac
import http.client
import http.server
import json
import math
import os
import re
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

TOKEN_HEADER = "Dagster-Cloud-Api-Token"
DEPLOYMENT_HEADER = "Dagster-Cloud-Deployment"
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
       "upgrade", "host", "content-length", "accept-encoding"}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

# the defaults of the dagster-cloud CLI (dagster_cloud_cli/core/errors.py) when the answer
# leaves them out: used when the maintenance file does not say
DEFAULT_MAINTENANCE = {"message": "Dagster+ is down for scheduled maintenance.",
                       "timeout": 3600 * 4 * 4, "retry_interval": 30}
RELOAD_MESSAGE = "Location {name} does not support reloading."
NOT_FOUND_MESSAGE = "Location {name} does not exist."


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


# ------------------------------------------------------------------------------------------
# Certificates
# ------------------------------------------------------------------------------------------

def openssl(*args):
    r = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("cloud_front: openssl %s failed: %s" % (args[0], r.stderr.strip()))


def make_certificates(d):
    """ca.pem/ca.key (kept when present) and a fresh server.pem/server.key signed by it."""
    ca, ca_key = os.path.join(d, "ca.pem"), os.path.join(d, "ca.key")
    if not (os.path.exists(ca) and os.path.exists(ca_key)):
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", ca_key, "-out", ca, "-days", "30",
                "-subj", "/CN=dagster-lua cloud_front test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    key, csr = os.path.join(d, "server.key"), os.path.join(d, "server.csr")
    cert, ext = os.path.join(d, "server.pem"), os.path.join(d, "server.ext")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
            "-extfile", ext, "-out", cert)
    os.remove(csr)
    os.remove(ext)
    return cert, key


# ------------------------------------------------------------------------------------------
# A small GraphQL reader: enough to find a document's operation and to answer a selection
# ------------------------------------------------------------------------------------------

class GraphQLSyntaxError(Exception):
    pass


class ValidationError(Exception):
    pass


TOKEN_RE = re.compile(r'''
   (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
 | (?P<block>"""(?:\\"""|[^"]|"(?!""))*""")
 | (?P<string>"(?:\\.|[^"\\\n])*")
 | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
 | (?P<spread>\.\.\.)
 | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
 | (?P<punct>[!$&()\:=@\[\]{}|])
''', re.X)


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise GraphQLSyntaxError("unexpected character %r at %d" % (text[pos], pos))
        pos = m.end()
        kind = m.lastgroup
        if kind != "skip":
            out.append((kind, m.group()))
    out.append(("eof", None))
    return out


class Var:
    def __init__(self, name):
        self.name = name


class Field:
    def __init__(self, alias, name, args, selections):
        self.alias, self.name, self.args, self.selections = alias, name, args, selections


class Fragment:  # an inline fragment, or a spread resolved later (spread = name)
    def __init__(self, on, selections, spread=None):
        self.on, self.selections, self.spread = on, selections, spread


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def at(self, kind, value=None):
        t = self.peek()
        return t[0] == kind and (value is None or t[1] == value)

    def expect(self, kind, value=None):
        t = self.next()
        if t[0] != kind or (value is not None and t[1] != value):
            raise GraphQLSyntaxError("expected %s, got %r" % (value or kind, t[1]))
        return t[1]

    def document(self):
        ops, frags = [], {}
        while not self.at("eof"):
            if self.at("punct", "{"):
                ops.append(("query", None, self.selection_set()))
            elif self.at("name", "fragment"):
                self.next()
                name = self.expect("name")
                self.expect("name", "on")
                on = self.expect("name")
                self.directives()
                frags[name] = Fragment(on, self.selection_set())
            elif self.at("name") and self.peek()[1] in ("query", "mutation", "subscription"):
                kind = self.next()[1]
                name = self.next()[1] if self.at("name") else None
                if self.at("punct", "("):
                    self.skip_balanced("(", ")")
                self.directives()
                ops.append((kind, name, self.selection_set()))
            else:
                raise GraphQLSyntaxError("unexpected %r" % (self.peek()[1],))
        return ops, frags

    def skip_balanced(self, open_, close):
        depth = 0
        while True:
            t = self.next()
            if t[0] == "eof":
                raise GraphQLSyntaxError("unbalanced " + open_)
            if t == ("punct", open_):
                depth += 1
            elif t == ("punct", close):
                depth -= 1
                if depth == 0:
                    return

    def directives(self):
        while self.at("punct", "@"):
            self.next()
            self.expect("name")
            if self.at("punct", "("):
                self.arguments()

    def selection_set(self):
        self.expect("punct", "{")
        out = []
        while not self.at("punct", "}"):
            if self.at("spread"):
                self.next()
                if self.at("name", "on"):
                    self.next()
                    on = self.expect("name")
                    self.directives()
                    out.append(Fragment(on, self.selection_set()))
                elif self.at("punct", "{") or self.at("punct", "@"):
                    self.directives()
                    out.append(Fragment(None, self.selection_set()))
                else:
                    out.append(Fragment(None, None, spread=self.expect("name")))
                    self.directives()
            else:
                name = self.expect("name")
                alias = name
                if self.at("punct", ":"):
                    self.next()
                    name = self.expect("name")
                args = self.arguments() if self.at("punct", "(") else {}
                self.directives()
                sels = self.selection_set() if self.at("punct", "{") else None
                out.append(Field(alias, name, args, sels))
        self.next()
        return out

    def arguments(self):
        self.expect("punct", "(")
        args = {}
        while not self.at("punct", ")"):
            name = self.expect("name")
            self.expect("punct", ":")
            args[name] = self.value()
        self.next()
        return args

    def value(self):
        kind, v = self.next()
        if kind == "punct" and v == "$":
            return Var(self.expect("name"))
        if kind == "string":
            return json.loads(v)
        if kind == "block":
            return v[3:-3]
        if kind == "number":
            return float(v) if any(c in v for c in ".eE") else int(v)
        if kind == "name":
            return {"true": True, "false": False, "null": None}.get(v, v)
        if kind == "punct" and v == "[":
            out = []
            while not self.at("punct", "]"):
                out.append(self.value())
            self.next()
            return out
        if kind == "punct" and v == "{":
            out = {}
            while not self.at("punct", "}"):
                k = self.expect("name")
                self.expect("punct", ":")
                out[k] = self.value()
            self.next()
            return out
        raise GraphQLSyntaxError("unexpected %r in a value" % (v,))


def find_operation(query, operation_name):
    """(kind, name, selections, fragments) of the operation the request runs."""
    ops, frags = Parser(query).document()
    if not ops:
        raise GraphQLSyntaxError("no operation")
    if operation_name:
        for op in ops:
            if op[1] == operation_name:
                return op + (frags,)
        raise GraphQLSyntaxError("no operation named " + operation_name)
    return ops[0] + (frags,)


# which abstract types a concrete type belongs to (for "... on Error" and the like)
ABSTRACT = {
    "ReloadNotSupported": {"Error", "ReloadRepositoryLocationMutationResult"},
    "RepositoryLocationNotFound": {"Error", "ReloadRepositoryLocationMutationResult"},
    "DeploymentNotFoundError": {"Error"},
}


def bind(value, variables):
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [bind(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: bind(v, variables) for k, v in value.items()}
    return value


def resolve(selections, obj, typename, ctx):
    """The answer to `selections` on obj, a dict of field name -> value or function(args)."""
    out = {}
    for item in selections:
        if isinstance(item, Fragment):
            frag = item
            if item.spread is not None:
                frag = ctx["fragments"].get(item.spread)
                if frag is None:
                    raise ValidationError('Unknown fragment "%s".' % item.spread)
            if frag.on is None or frag.on == typename or frag.on in ABSTRACT.get(typename, ()):
                for k, v in resolve(frag.selections, obj, typename, ctx).items():
                    out.setdefault(k, v)
            continue
        if item.name == "__typename":
            out[item.alias] = typename
            continue
        if item.name not in obj:
            raise ValidationError('Cannot query field "%s" on type "%s".' % (item.name, typename))
        v = obj[item.name]
        if callable(v):
            v = v({k: bind(a, ctx["variables"]) for k, a in item.args.items()})
        out[item.alias] = complete(v, item, ctx)
    return out


def complete(v, field, ctx):
    if isinstance(v, list):
        return [complete(x, field, ctx) for x in v]
    if isinstance(v, dict):
        if field.selections is None:
            raise ValidationError('Field "%s" of type "%s" must have a selection of subfields.'
                                  % (field.name, v["__typename"]))
        return resolve(field.selections, v, v["__typename"], ctx)
    if field.selections is not None:
        raise ValidationError('Field "%s" must not have a selection since its type has no '
                              'subfields.' % field.name)
    return v


# ------------------------------------------------------------------------------------------
# The front
# ------------------------------------------------------------------------------------------

class Bucket:
    """A token bucket: `rate` tokens a second, holding at most `burst`."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens, self.when = float(burst), time.monotonic()
        self.lock = threading.Lock()

    def take(self):
        """0 when a token was taken, else the seconds until there is one."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.when) * self.rate)
            self.when = now
            if self.tokens >= 1:
                self.tokens -= 1
                return 0
            return (1 - self.tokens) / self.rate


class Front:
    def __init__(self, a):
        self.tokens = [t.encode() for t in a.token]
        self.deployments = {}  # name -> (host, port, base path)
        self.order = []
        for spec in a.deployment:
            name, _, url = spec.partition("=")
            if not NAME_RE.match(name) or name in ("graphql", a.organization or ""):
                raise SystemExit("cloud_front: bad deployment name %r" % name)
            u = urllib.parse.urlsplit(url)
            if u.scheme != "http" or not u.hostname:
                raise SystemExit("cloud_front: --deployment %s: an http:// URL expected" % spec)
            base = u.path.rstrip("/")
            if base.endswith("/graphql"):
                base = base[:-len("/graphql")]
            self.deployments[name] = (u.hostname, u.port or 80, base)
            self.order.append(name)
        if not self.order:
            raise SystemExit("cloud_front: at least one --deployment NAME=URL is required")
        self.organization = a.organization
        self.bucket = Bucket(a.rate, a.burst or max(1.0, a.rate)) if a.rate else None
        self.retry_after_date = a.retry_after_date
        self.maintenance_file = a.maintenance_file
        self.unavailable_file = a.unavailable_file
        self.unavailable_lock = threading.Lock()
        self.reload_message = a.reload_message or RELOAD_MESSAGE
        self.log_path = a.log
        self.log_lock = threading.Lock()
        self.serial = 0
        self.serial_lock = threading.Lock()

    def next_conn(self):
        with self.serial_lock:
            self.serial += 1
            return self.serial

    def log(self, entry):
        if not self.log_path:
            return
        with self.log_lock:
            with open(self.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")

    def token_ok(self, value):
        if value is None:
            return False
        v = value.encode("utf-8", "surrogateescape")
        return any(hmac.compare_digest(v, t) for t in self.tokens)

    def retry_after(self, seconds):
        seconds = max(1, math.ceil(seconds))
        if self.retry_after_date:
            return email.utils.formatdate(time.time() + seconds, usegmt=True)
        return str(seconds)

    def maintenance(self):
        """The maintenance answer's (status, info) while the file exists, else None."""
        if not self.maintenance_file:
            return None
        try:
            with open(self.maintenance_file) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        info = dict(DEFAULT_MAINTENANCE)
        status = 503
        if text.strip():
            try:
                given = json.loads(text)
            except ValueError:
                given = {"message": text.strip()}
            if isinstance(given, dict):
                status = int(given.pop("status", status))
                info.update(given)
        return status, info

    def unavailable(self):
        """The Retry-After seconds of a 503 to give now, else None."""
        if not self.unavailable_file:
            return None
        with self.unavailable_lock:
            try:
                with open(self.unavailable_file) as f:
                    text = f.read()
            except FileNotFoundError:
                return None
            spec = {}
            if text.strip():
                try:
                    spec = json.loads(text)
                except ValueError:
                    spec = {}
            retry = spec.get("retry_after", 1)
            count = spec.get("count")
            if count is not None:
                count -= 1
                if count <= 0:
                    os.remove(self.unavailable_file)
                else:
                    spec["count"] = count
                    write_atomically(self.unavailable_file, json.dumps(spec))
            return retry

    def deployment_object(self, name):
        return {"__typename": "DagsterCloudDeployment",
                "deploymentId": self.order.index(name) + 1, "deploymentName": name,
                "deploymentType": "PRODUCTION", "deploymentStatus": "ACTIVE",
                "isBranchDeployment": False, "agentType": "HYBRID", "organizationId": "1",
                "canAccessDeployment": True, "canDeleteDeployment": False,
                "canHaveBranchDeployments": True, "canEditDeploymentSettings": True,
                "canEditDeploymentPermissions": True, "parentDeployment": None,
                "branchDeploymentGitMetadata": None, "latestCommit": None}

    def cloud_query_root(self, current):
        def by_name(args):
            name = args.get("name")
            if name in self.deployments:
                return self.deployment_object(name)
            return {"__typename": "DeploymentNotFoundError",
                    "message": "Deployment %s not found." % name}

        def deployments(args):
            names = args.get("deploymentNames")
            return [self.deployment_object(n) for n in self.order
                    if names is None or n in names]

        return {"fullDeployments": lambda args: [self.deployment_object(n) for n in self.order],
                "deployments": deployments,
                "currentDeployment": (lambda args: self.deployment_object(current)
                                      if current else None),
                "deploymentByName": by_name}


CLOUD_QUERY_FIELDS = {"fullDeployments", "deployments", "currentDeployment", "deploymentByName"}


def json_body(obj):
    return json.dumps(obj).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle keep-alive connection is closed after this

    def version_string(self):
        return "cloud_front"

    def log_message(self, *args):
        pass

    def setup(self):
        self.front = self.server.front
        self.conn_id = self.front.next_conn()
        self.nth = 0
        self.upstreams = {}
        try:
            self.request.settimeout(30)
            self.request.do_handshake()
        except (OSError, ssl.SSLError):
            self.handshake_failed = True
        else:
            self.handshake_failed = False
        super().setup()

    def handle(self):
        if self.handshake_failed:
            self.close_connection = True
            return
        super().handle()

    def finish(self):
        for c in self.upstreams.values():
            c.close()
        try:
            super().finish()
        except OSError:
            pass

    # --- answering ------------------------------------------------------------------------

    def answer(self, status, body, ctype="application/json", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def do_POST(self):
        self.serve()

    def do_GET(self):
        self.serve()

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def serve(self):
        self.nth += 1
        entry = {"t": time.time(), "conn": self.conn_id, "nth": self.nth,
                 "method": self.command, "path": self.path, "deployment": None, "op": None,
                 "status": None, "answer": None, "limited": False, "maintenance": False,
                 "retry_after": None, "forwarded": False}
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return self.finish_with(entry, 411, "bad_request",
                                    json_body({"error": "Content-Length required"}))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        doc = None
        if self.command == "POST" and body:
            try:
                doc = json.loads(body)
                if not isinstance(doc, dict):
                    doc = None
            except ValueError:
                doc = None
        parsed = None
        if doc and isinstance(doc.get("query"), str):
            entry["op"] = doc.get("operationName") if isinstance(doc.get("operationName"),
                                                                  str) else None
            try:
                parsed = find_operation(doc["query"], entry["op"])
                entry["op"] = entry["op"] or parsed[1]
            except GraphQLSyntaxError:
                m = re.search(r"\b(query|mutation|subscription)\s+(\w+)", doc["query"])
                entry["op"] = entry["op"] or (m and m.group(2))
        front = self.front
        split = urllib.parse.urlsplit(self.path)
        org_base = split.path in ("/graphql", "/graphql/") or bool(
            front.organization and split.path.rstrip("/") == "/%s/graphql" % front.organization)
        if org_base:
            deployment, rest = self.headers.get(DEPLOYMENT_HEADER), "/graphql"
        else:
            segs = split.path.split("/")
            deployment = segs[1] if len(segs) > 2 and segs[1] else None
            rest = "/" + "/".join(segs[2:])
        entry["deployment"] = deployment

        # 1. maintenance, before anything else
        m = front.maintenance()
        if m is not None:
            status, info = m
            entry["maintenance"] = True
            ra = front.retry_after(float(info.get("retry_interval") or 1))
            return self.finish_with(entry, status, "maintenance",
                                    json_body({"maintenance": info}), retry_after=ra)

        # 2. the token
        if not front.token_ok(self.headers.get(TOKEN_HEADER)):
            return self.finish_with(entry, 401, "unauthorized", json_body(
                {"error": "Unauthorized: a valid %s header is required" % TOKEN_HEADER}))

        # 3. the request rate
        if front.bucket is not None:
            wait = front.bucket.take()
            if wait:
                entry["limited"] = True
                ra = front.retry_after(wait)
                return self.finish_with(entry, 429, "rate_limited", json_body(
                    {"error": "Too Many Requests", "retry_after": max(1, math.ceil(wait))}),
                    retry_after=ra)

        # 4. 503 on demand
        r = front.unavailable()
        if r is not None:
            return self.finish_with(entry, 503, "unavailable", json_body(
                {"error": "Service Unavailable"}), retry_after=front.retry_after(r))

        # 5. routing (worked out above)
        if deployment is not None and deployment not in front.deployments:
            return self.finish_with(entry, 404, "not_found", json_body(
                {"error": "Deployment %s not found" % deployment}))
        if deployment is None and not org_base:
            return self.finish_with(entry, 404, "not_found", json_body({"error": "Not Found"}))

        # 6. what the front answers itself
        is_graphql = self.command == "POST" and rest.rstrip("/") == "/graphql"
        if is_graphql and parsed is not None:
            kind, _, selections, fragments = parsed
            roots = {s.name for s in selections if isinstance(s, Field)}
            variables = doc.get("variables") if isinstance(doc.get("variables"), dict) else {}
            ctx = {"variables": variables, "fragments": fragments}
            if kind == "mutation" and roots and roots <= {"reloadRepositoryLocation",
                                                          "__typename"}:
                if deployment is None:
                    return self.no_deployment(entry)
                return self.reload(entry, deployment, selections, ctx)
            if kind == "query" and roots & CLOUD_QUERY_FIELDS:
                try:
                    data = resolve(selections, front.cloud_query_root(deployment), "CloudQuery",
                                   ctx)
                except ValidationError as e:
                    return self.finish_with(entry, 400, "bad_request",
                                            json_body({"errors": [{"message": str(e)}]}))
                return self.finish_with(entry, 200, "cloud", json_body({"data": data}))
        if deployment is None:
            return self.no_deployment(entry)

        # forward
        query = ("?" + split.query) if split.query else ""
        try:
            status, ctype, data = self.forward(deployment, self.command, rest + query, body)
        except (OSError, http.client.HTTPException) as e:
            return self.finish_with(entry, 502, "upstream_error",
                                    ("cloud_front: upstream failed: %s\n" % e).encode(),
                                    ctype="text/plain")
        entry["forwarded"] = True
        return self.finish_with(entry, status, "forwarded", data, ctype=ctype)

    def no_deployment(self, entry):
        return self.finish_with(entry, 400, "no_deployment", json_body({"errors": [{
            "message": "No deployment selected: POST /DEPLOYMENT/graphql, or send the %s "
                       "header" % DEPLOYMENT_HEADER}]}))

    def finish_with(self, entry, status, kind, body, ctype="application/json", retry_after=None):
        entry["status"], entry["answer"], entry["retry_after"] = status, kind, retry_after
        self.front.log(entry)
        headers = [("Retry-After", retry_after)] if retry_after is not None else []
        self.answer(status, body, ctype, headers)

    def reload(self, entry, deployment, selections, ctx):
        names = set()
        try:
            names = self.location_names(deployment)
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as e:
            return self.finish_with(entry, 502, "upstream_error",
                                    ("cloud_front: upstream failed: %s\n" % e).encode(),
                                    ctype="text/plain")
        kinds = []

        def reload_root(args):
            name = args.get("repositoryLocationName")
            if name not in names:
                kinds.append("location_not_found")
                return {"__typename": "RepositoryLocationNotFound",
                        "message": NOT_FOUND_MESSAGE.format(name=name)}
            kinds.append("reload_not_supported")
            return {"__typename": "ReloadNotSupported",
                    "message": self.front.reload_message.format(name=name)}

        try:
            data = resolve(selections, {"reloadRepositoryLocation": reload_root},
                           "CloudMutation", ctx)
        except ValidationError as e:
            return self.finish_with(entry, 400, "bad_request",
                                    json_body({"errors": [{"message": str(e)}]}))
        return self.finish_with(entry, 200, kinds[0] if kinds else "reload_not_supported",
                                json_body({"data": data}))

    # --- upstream -----------------------------------------------------------------------

    def forward(self, deployment, method, path, body):
        """Sends one request to the deployment's webserver on this connection's kept-alive
        upstream connection; returns (status, content type, body). A mutation goes out on a
        fresh connection and is never sent twice; anything else is sent again once when the
        kept-alive connection turns out closed (the webserver drops idle ones after 5 s)."""
        host, port, base = self.front.deployments[deployment]
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP and k.lower() != TOKEN_HEADER.lower()}
        headers["Accept-Encoding"] = "identity"
        once = b"mutation" in body
        if once and deployment in self.upstreams:
            self.upstreams.pop(deployment).close()
        for attempt in ((0,) if once else (0, 1)):
            c = self.upstreams.get(deployment)
            if c is None:
                c = http.client.HTTPConnection(host, port, timeout=600)
                self.upstreams[deployment] = c
            try:
                c.request(method, base + path, body=body if body else None, headers=headers)
                r = c.getresponse()
                data = r.read()
                return r.status, r.getheader("Content-Type", "application/json"), data
            except (OSError, http.client.HTTPException):
                c.close()
                self.upstreams.pop(deployment, None)
                if once or attempt:
                    raise

    def location_names(self, deployment):
        """The names of the deployment's code locations, asked of its webserver."""
        q = json_body({"query": "query CloudFrontLocations { workspaceOrError { __typename "
                                "... on Workspace { locationEntries { name } } } }"})
        status, _, data = self.forward(deployment, "POST", "/graphql", q)
        if status != 200:
            raise ValueError("the workspace query answered HTTP %d" % status)
        ws = json.loads(data)["data"]["workspaceOrError"]
        return {e["name"] for e in ws.get("locationEntries") or []}


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # a client that goes away mid-request is not the front's problem


def main(argv):
    p = argparse.ArgumentParser(prog="cloud_front.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", help="where the certificates go (ca.pem, ...); default: the "
                   "--port-file's directory")
    p.add_argument("--token", action="append", required=True,
                   help="an accepted Dagster-Cloud-Api-Token value (repeatable)")
    p.add_argument("--deployment", action="append", default=[], metavar="NAME=URL",
                   help="a deployment and its webserver's base URL (repeatable)")
    p.add_argument("--port-file")
    p.add_argument("--log")
    p.add_argument("--rate", type=float, default=0, help="requests per second (0: no limit)")
    p.add_argument("--burst", type=float, default=0, help="the bucket's size (default max(1, rate))")
    p.add_argument("--retry-after-date", action="store_true",
                   help="send Retry-After as an HTTP date instead of seconds")
    p.add_argument("--maintenance-file")
    p.add_argument("--unavailable-file")
    p.add_argument("--organization", help="also serve /ORG/graphql as the organization's base")
    p.add_argument("--reload-message")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--lifetime", type=float, default=0, help="stop after this many seconds")
    a = p.parse_args(argv[1:])
    if not a.dir and not a.port_file:
        p.error("--dir or --port-file is required")
    a.dir = a.dir or os.path.dirname(os.path.abspath(a.port_file))
    os.makedirs(a.dir, exist_ok=True)
    front = Front(a)
    cert, key = make_certificates(a.dir)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])

    server = Server((a.host, a.port), Handler)
    server.front = front
    server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                    do_handshake_on_connect=False)
    stop = threading.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.set())
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    t.start()
    write_atomically(a.port_file or os.path.join(a.dir, "port"),
                     "%d\n" % server.server_address[1])
    stop.wait(a.lifetime if a.lifetime > 0 else None)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
