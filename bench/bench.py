"""`make bench`: dagster-lua against its floor, curl and Dagster's Python client.

Run with the test virtualenv's python (bench/bench.mk does): it needs dagster for seeding runs
and dagster_graphql for the Python client. Every client runs as a whole process, started and
reaped by bench/launch.c (fork/exec + wait4; a small launcher, because Linux counts the memory
a process had before exec in its ru_maxrss): wall time from fork to wait4, CPU = ru_utime +
ru_stime, peak RSS = ru_maxrss.
Verdicts are medians of pair-by-pair ratios (each round's processes run back to back, A B C D),
never a lone absolute time.

Parts (--parts, comma-separated; default all eight):
  cold     A dagster-lua one get_run_status, B Python client, C curl, D floor (bench/floor.c)
  loop     300 get_run_status in one dagster-lua vs floor's keep-alive loop of 300 POSTs
  runs     a separate DAGSTER_HOME seeded with 10,000 runs (+100 running) and its own webserver
           behind a counting proxy: wait_for_runs request count, each_run peak RSS 1k vs 10k
  json     dagster.json.decode vs cjson.decode of a 10 MiB runs answer, same process
  profile  callgrind instruction counts of start-up and of calls, floor vs dagster-lua
           (`make bench-profile` runs only this part)
  recover  `play recover --wait` over 200 real failed runs (a DAGSTER_HOME of its own, seeded
           once and cached, a webserver per client behind a counting proxy) vs a loop over the
           Python client doing the same work: requests by kind
  recover_rate  the same `play recover --wait` through spec/support/cloud_front.py, the
           Dagster+ stand-in, limited to 10 requests a second: once as it comes (its 429s
           waited out as Retry-After asks: counted, and the wall time against requests / rate;
           a bucket of 2 (BENCH_FRONT_BURST), so that the limit bites: recover alone makes
           about 7 requests a second on this machine, in bursts),
           once with --max-rps 8 (no 429 expected)
  backfill client:wait_for_backfill over a real backfill of daily_job (7 partitions, run by
           the daemon of scripts/dagster-up) behind a counting proxy: requests per poll round
           (the Python client has no backfills to compare with)

Environment: DAGSTER_URL (use that deployment instead of starting one with scripts/dagster-up),
BENCH_RUN_ID (the finished run to query), BENCH_ROUNDS, BENCH_LOOP_ROUNDS, BENCH_JSON_ROUNDS.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # no __pycache__ in bench/
sys.path.insert(0, HERE)
from count_proxy import CountingProxy  # noqa: E402

BIN = os.path.join(ROOT, "build", "dagster-lua")
FLOOR = os.path.join(ROOT, "build", "bench", "floor")
LAUNCH = os.path.join(ROOT, "build", "bench", "launch")
WORK = os.path.join(ROOT, "build", "bench")
PY = sys.executable
N_LIST = 10_000
N_WAIT = 100
N_RECOVER = 200              # failed runs for the recover part
RECOVER_TAG = "recover"      # their bench/set tag
RECOVER_CONCURRENCY = 20     # recover --concurrency
RECOVER_RUN_SECONDS = 1.0    # how long a re-execution stays QUEUED before it is finished
JSON_BYTES = 10 * 1024 * 1024
JSON_FILE = os.path.join(WORK, "runs-10mib.json")
N_DOCTOR_QUEUED = 1000      # runs added in flight (STARTING) for the doctor part's second look
DEFAULT_PARTS = ("cold", "loop", "runs", "json", "doctor", "profile", "recover", "recover_rate",
                 "backfill")


def say(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# measuring one process
# --------------------------------------------------------------------------------------------

class Failed(Exception):
    pass


def measure(argv, env=None, timeout=600, check=True):
    """Runs argv to its end under bench/launch.c (fork/exec + wait4); returns wall, cpu, user,
    sys (s), rss (KiB), rc, out, err."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    fd, result = tempfile.mkstemp(prefix="dagster-lua-bench-launch.")
    os.close(fd)
    # own process group, so that a timeout or Ctrl-C stops the measured process too
    p = subprocess.Popen([LAUNCH, result] + list(argv), env=env, stdin=subprocess.DEVNULL,
                         stdout=out, stderr=err, start_new_session=True)
    try:
        p.wait(timeout)
    except BaseException as e:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
        os.unlink(result)
        if isinstance(e, subprocess.TimeoutExpired):
            raise Failed(f"{' '.join(argv[:3])}... did not finish within {timeout} s")
        raise
    try:
        with open(result) as f:
            d = kv(f.read())
    finally:
        os.unlink(result)
    if "wall" not in d:
        err.seek(0)
        raise Failed(f"launch {' '.join(argv[:3])}... failed (exit {p.returncode}): "
                     f"{err.read().decode(errors='replace')[-1000:]}")
    out.seek(0)
    err.seek(0)
    r = {"wall": float(d["wall"]), "user": float(d["user"]), "sys": float(d["sys"]),
         "rss": int(d["maxrss_kib"]), "minflt": int(d["minflt"]), "rc": int(d["status"]),
         "out": out.read().decode(errors="replace"), "err": err.read().decode(errors="replace")}
    r["cpu"] = r["user"] + r["sys"]
    out.close()
    err.close()
    if check and r["rc"] != 0:
        raise Failed(f"{' '.join(argv[:3])}... exited {r['rc']}:\n{r['err'][-2000:]}{r['out'][-500:]}")
    return r


def kv(text):
    """key=value pairs of the last line of text that has any."""
    for line in reversed(text.strip().splitlines()):
        d = dict(p.split("=", 1) for p in line.split() if "=" in p)
        if d:
            return d
    return {}


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def quartiles(xs):
    if len(xs) < 4:
        return (min(xs), max(xs)) if xs else (float("nan"),) * 2
    q = statistics.quantiles(xs, n=4)
    return q[0], q[2]


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------------
# Dagster deployments
# --------------------------------------------------------------------------------------------

class Deployment:
    """scripts/dagster-up (stopped with scripts/dagster-down), or an existing DAGSTER_URL."""

    def __init__(self):
        self.state = None
        self.url = os.environ.get("DAGSTER_URL")
        if self.url:
            say(f"using the existing deployment DAGSTER_URL={self.url}")
            return
        say("starting a local Dagster (scripts/dagster-up)...")
        p = subprocess.run(["bash", os.path.join(ROOT, "scripts", "dagster-up")],
                           stdout=subprocess.PIPE, text=True)
        vals = dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)
        self.state = vals.get("DAGSTER_LUA_STATE")
        if p.returncode != 0 or not vals.get("DAGSTER_URL"):
            self.close()
            raise Failed(f"scripts/dagster-up failed (exit {p.returncode})")
        self.url = vals["DAGSTER_URL"]
        say(f"Dagster is up at {self.url} (state {self.state})")

    def close(self):
        if self.state:
            say(f"stopping {self.state} (scripts/dagster-down)")
            subprocess.run(["bash", os.path.join(ROOT, "scripts", "dagster-down"), self.state])
            self.state = None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class SeededWebserver:
    """A dagster-webserver of our own over a copy of a DAGSTER_HOME seeded with N_LIST runs
    (cached in build/bench/runs-home-N, seeded once: 2 to 5 minutes) plus N_WAIT runs in
    STARTED status added to the copy. Empty workspace: runs need no code location."""

    def __init__(self):
        self.proc = None
        self.tmp = tempfile.mkdtemp(prefix="dagster-lua-bench.")
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self):
        base = os.path.join(WORK, f"runs-home-{N_LIST}")
        stamp = os.path.join(base, "seeded-v2")  # v2: start/end times set
        if not os.path.exists(stamp):
            shutil.rmtree(base, ignore_errors=True)
            os.makedirs(base)
            say(f"seeding {N_LIST} runs into {base}/home (once; cached)...")
            with open(os.path.join(base, "list.ids"), "w") as f:
                subprocess.run([PY, os.path.join(HERE, "seed_runs.py"), "seed", str(N_LIST), "list"],
                               env=self._env(os.path.join(base, "home")), stdout=f, check=True)
            open(stamp, "w").close()
        self.home = os.path.join(self.tmp, "home")
        shutil.copytree(os.path.join(base, "home"), self.home)
        self.wait_ids = os.path.join(self.tmp, "wait.ids")
        with open(self.wait_ids, "w") as f:
            subprocess.run([PY, os.path.join(HERE, "seed_runs.py"), "seed", str(N_WAIT), "wait",
                            "STARTED"], env=self._env(self.home), stdout=f, check=True)
        self.done_ids = os.path.join(self.tmp, "done.ids")
        with open(os.path.join(base, "list.ids")) as f, open(self.done_ids, "w") as g:
            g.writelines(f.readlines()[:N_WAIT])
        ws = os.path.join(self.tmp, "workspace.yaml")
        with open(ws, "w") as f:
            f.write("load_from: []\n")
        self.log = open(os.path.join(self.tmp, "webserver.log"), "w")
        self.proc, self.url = start_webserver(self.home, ws, self.log)
        say(f"benchmark webserver up at {self.url} (DAGSTER_HOME {self.home})")

    @staticmethod
    def _env(home):
        return home_env(home)

    def flipper(self, delay, batch, every):
        return subprocess.Popen([PY, os.path.join(HERE, "seed_runs.py"), "flip", self.wait_ids,
                                 str(delay), str(batch), str(every)], env=self._env(self.home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def close(self):
        stop_webserver(self.proc)
        self.proc = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def home_env(home):
    """The environment of a Dagster process of a benchmark's own DAGSTER_HOME."""
    e = dict(os.environ)
    e.update(DAGSTER_HOME=home, DAGSTER_DISABLE_TELEMETRY="1", PYTHONUNBUFFERED="1")
    for k in ("DAGSTER_LUA_STATE", "DAGSTER_LUA_OWNER"):
        e.pop(k, None)
    return e


def start_webserver(home, workspace, log):
    """dagster-webserver over DAGSTER_HOME home and the workspace file, in its own process
    group, output to the open file log; returns (process, url) once /server_info answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(PY), "dagster-webserver"), "-h", "127.0.0.1", "-p",
         str(port), "-w", workspace], env=home_env(home), stdin=subprocess.DEVNULL,
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 180
    try:
        while True:
            if proc.poll() is not None:
                raise Failed(f"the benchmark webserver exited (log {log.name})")
            try:
                with urllib.request.urlopen(url + "/server_info", timeout=5) as r:
                    if r.status == 200:
                        return proc, url
            except OSError:
                pass
            if time.time() > deadline:
                raise Failed("the benchmark webserver did not answer within 180 s")
            time.sleep(0.3)
    except BaseException:
        stop_webserver(proc)
        raise


def stop_webserver(proc):
    if proc and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass


# --------------------------------------------------------------------------------------------
# the parts
# --------------------------------------------------------------------------------------------

def part_cold(url, run_id, payload, rounds, res):
    """A dagster-lua, B python, C curl, D floor: one get_run_status each, as whole processes."""
    clients = {
        "lua": [BIN, os.path.join(HERE, "one_status.lua"), url, run_id],
        "python": [PY, os.path.join(HERE, "py_status.py"), url, run_id],
        "curl": ["curl", "-sS", "--fail-with-body", "-H", "Content-Type: application/json",
                 "-H", "Accept: application/json", "--data-binary", "@" + payload,
                 url.rstrip("/") + "/graphql"],
        "floor": [FLOOR, url.rstrip("/") + "/graphql", payload, "1", '"__typename":"Run"'],
    }
    rows = {k: [] for k in clients}
    for r in range(rounds + 1):
        this = {}
        for name, argv in clients.items():
            m = measure(argv)
            ok = (m["out"].strip() in ("SUCCESS", "FAILURE", "CANCELED") if name in ("lua", "python")
                  else '"__typename":"Run"' in m["out"] if name == "curl" else True)
            if not ok:
                raise Failed(f"{name} did not answer a run status: {m['out'][:300]} {m['err'][:300]}")
            this[name] = m
        if r == 0:
            say(f"cold: warm-up round done (load {loadavg()})")
            continue
        for k in clients:
            rows[k].append(this[k])
        say("cold: round %d/%d: wall ms lua %.1f python %.0f curl %.1f floor %.1f (load %s)" % (
            r, rounds, *(this[k]["wall"] * 1e3 for k in ("lua", "python", "curl", "floor")), loadavg()))
    res["cold"] = rows


def part_loop(url, run_id, payload, n, rounds, res):
    """N calls in one dagster-lua process vs floor's keep-alive loop of N POSTs."""
    lua = [BIN, os.path.join(HERE, "loop_status.lua"), url, run_id, str(n)]
    floor = [FLOOR, url.rstrip("/") + "/graphql", payload, str(n), '"__typename":"Run"']
    fdec = floor + ["decode"]  # the floor that also decodes each answer with cjson (context)
    # the host's transport and cjson from a Lua loop, without the client's layers (context)
    bare = [BIN, os.path.join(HERE, "loop_transport.lua"), url, payload, str(n)]
    rows = {"lua": [], "floor": [], "fdec": [], "bare": []}
    for r in range(rounds + 1):
        order = [("lua", lua), ("floor", floor), ("fdec", fdec), ("bare", bare)]
        order = order[r % 4:] + order[:r % 4]  # each goes first in turn
        this = {}
        for name, argv in order:
            m = measure(argv)
            d = kv(m["out"])
            m["loop_wall"], m["loop_cpu"] = float(d["loop_wall"]), float(d["loop_cpu"])
            this[name] = m
        if r == 0:
            say(f"loop: warm-up round done (load {loadavg()})")
            continue
        for k in rows:
            rows[k].append(this[k])
        say("loop: round %d/%d: %d calls: lua %.2fs (cpu %.3fs), floor %.2fs (cpu %.3fs), "
            "floor+decode cpu %.3fs, transport+cjson cpu %.3fs (load %s)" % (
                r, rounds, n, this["lua"]["loop_wall"], this["lua"]["loop_cpu"],
                this["floor"]["loop_wall"], this["floor"]["loop_cpu"], this["fdec"]["loop_cpu"],
                this["bare"]["loop_cpu"], loadavg()))
    res["loop"] = rows
    res["loop_n"] = n


def cluster(records, gap):
    """Groups POST records into poll rounds: a new round starts after a pause > gap seconds."""
    rounds, last = [], None
    for rec in sorted(records, key=lambda x: x["t"]):
        if last is None or rec["t"] - last > gap:
            rounds.append([])
        rounds[-1].append(rec)
        last = rec["t"]
    return rounds


def features():
    m = measure([BIN, "-e", 'local c = require("dagster").client("http://127.0.0.1:1") '
                 'io.write(type(c.wait_for_runs), " ", type(c.each_run))'])
    w, e = m["out"].split()
    return w == "function", e == "function"


def part_runs(web, proxy, res, list_rounds, page_size):
    has_wait, has_each = features()
    res["runs"] = {"has_wait": has_wait, "has_each": has_each, "page_size": page_size}
    if not has_wait:
        say("runs: client:wait_for_runs does not exist yet (lua/dagster/runs.lua): skipped")
    else:
        try:
            wait_part(web, proxy, res)
        except Failed as e:
            res["runs"]["wait_error"] = str(e).strip().splitlines()[-1][:300] if str(e).strip() else "failed"
            say(f"runs: wait_for_runs failed: {e}")
    if not has_each:
        say("runs: client:each_run does not exist yet (lua/dagster/runs.lua): skipped")
    else:
        try:
            list_part(proxy, res, list_rounds, page_size)
        except Failed as e:
            res["runs"]["list_error"] = str(e).strip().splitlines()[-1][:300] if str(e).strip() else "failed"
            say(f"runs: each_run failed: {e}")


def wait_part(web, proxy, res):
    interval = 0.5
    # 1) 100 runs already finished: one round
    proxy.reset()
    m = measure([BIN, os.path.join(HERE, "wait_runs.lua"), proxy.url, web.done_ids, str(interval), "60"])
    recs = proxy.records
    res["runs"]["wait_done"] = {"requests": len(recs), "out": m["out"].strip(),
                                "ids": [x["ids"] for x in recs]}
    say(f"runs: wait_for_runs on {N_WAIT} finished runs: {len(recs)} request(s); {m['out'].strip()}")
    # 2) 100 running runs, finished by 25 every second after 1.5 s
    proxy.reset()
    flip = web.flipper(1.5, 25, 1.0)
    try:
        m = measure([BIN, os.path.join(HERE, "wait_runs.lua"), proxy.url, web.wait_ids, str(interval), "120"])
    finally:
        flip_err = flip.communicate(timeout=180)[1]
    if flip.returncode != 0:
        raise Failed(f"the run flipper failed: {flip_err[-2000:]}")
    recs = proxy.records
    rounds = cluster(recs, interval / 2)
    live = res["runs"]["wait_live"] = {
        "requests": len(recs), "rounds": len(rounds),
        "max_per_round": max((len(x) for x in rounds), default=0),
        "ids_per_request": [x["ids"] for x in recs], "ops": sorted({str(x["op"]) for x in recs}),
        "elapsed": float(kv(m["out"]).get("elapsed", "nan")), "interval": interval,
        "out": m["out"].strip(), "rss": m["rss"], "cpu": m["cpu"]}
    say(f"runs: wait_for_runs on {N_WAIT} running runs: {len(recs)} requests in {len(rounds)} "
        f"poll rounds (max {live['max_per_round']} per round; ids per request "
        f"{live['ids_per_request']}); {m['out'].strip()}")


def list_part(proxy, res, list_rounds, page_size):
    rows = {1000: [], N_LIST: []}
    for r in range(list_rounds):
        for limit in ((1000, N_LIST) if r % 2 == 0 else (N_LIST, 1000)):
            proxy.reset()
            m = measure([BIN, os.path.join(HERE, "list_runs.lua"), proxy.url, str(limit), str(page_size)])
            d = kv(m["out"])
            if int(d.get("listed", 0)) != limit or int(d.get("with_runId", 0)) != limit:
                raise Failed(f"each_run listed {d} instead of {limit} runs")
            m["requests"] = len(proxy.records)
            rows[limit].append(m)
            say(f"runs: each_run {limit} runs (page_size {page_size}): peak RSS {m['rss']} KiB, "
                f"{m['requests']} requests, {m['wall']:.1f}s, Lua heap at end {d.get('lua_kib')} KiB")
    res["runs"]["list"] = rows

# --------------------------------------------------------------------------------------------
# recover: the recover playbook over N_RECOVER failed runs, and the Python client's loop
# --------------------------------------------------------------------------------------------

def recover_workspace(path):
    """A workspace with spec/fixtures/defs_main.py as location `main` (fail_job's)."""
    fixtures = os.path.join(ROOT, "spec", "fixtures")
    with open(path, "w") as f:
        f.write("load_from:\n  - python_file:\n"
                f"      relative_path: {os.path.join(fixtures, 'defs_main.py')}\n"
                f"      working_directory: {fixtures}\n"
                "      location_name: main\n")
    return path


def wait_location(url, name="main", timeout=180):
    q = json.dumps({"query": "query { workspaceOrError { __typename ... on Workspace { "
                    "locationEntries { name loadStatus locationOrLoadError { __typename } } } } }"})
    deadline = time.time() + timeout
    while True:
        req = urllib.request.Request(url + "/graphql", data=q.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            ws = json.load(r)["data"]["workspaceOrError"]
        for e in ws.get("locationEntries", []):
            if e["name"] == name and e["loadStatus"] == "LOADED":
                if (e["locationOrLoadError"] or {}).get("__typename") != "RepositoryLocation":
                    raise Failed(f"code location {name} did not load: {e}")
                return
        if time.time() > deadline:
            raise Failed(f"code location {name} did not load within {timeout} s")
        time.sleep(0.5)


def recover_base():
    """build/bench/recover-home-N: a DAGSTER_HOME with N_RECOVER real failed runs of fail_job,
    seeded once (about 2 minutes) through a webserver of its own; cached. The runs' code origin
    names this checkout's spec/fixtures/defs_main.py, so the stamp records the checkout."""
    base = os.path.join(WORK, f"recover-home-{N_RECOVER}")
    stamp = os.path.join(base, "seeded-v1")
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read().strip() == ROOT:
                return base, os.path.getmtime(stamp)
    shutil.rmtree(base, ignore_errors=True)
    home = os.path.join(base, "home")
    os.makedirs(home)
    with open(os.path.join(home, "dagster.yaml"), "w") as f:
        f.write("telemetry:\n  enabled: false\n")
    say(f"recover: seeding {N_RECOVER} failed runs of fail_job into {home} (once; cached)...")
    with open(os.path.join(base, "webserver.log"), "w") as log:
        proc, url = start_webserver(home, recover_workspace(os.path.join(base, "workspace.yaml")), log)
        try:
            wait_location(url)
            with open(os.path.join(base, "failed.ids"), "w") as f, \
                    open(os.path.join(base, "seed.log"), "w") as err:  # 200 failures' tracebacks
                p = subprocess.run([PY, os.path.join(HERE, "seed_runs.py"), "failed", url,
                                    str(N_RECOVER), RECOVER_TAG], env=home_env(home), stdout=f, stderr=err)
            with open(os.path.join(base, "seed.log")) as err:
                last = (err.read().strip().splitlines() or [""])[-1]
            if p.returncode != 0:
                raise Failed(f"seeding the failed runs failed: {last} (log {base}/seed.log)")
            say(f"recover: {last}")
        finally:
            stop_webserver(proc)
    with open(stamp, "w") as f:
        f.write(ROOT + "\n")
    return base, os.path.getmtime(stamp)


def recover_kinds(recs):
    """POST records -> {kind: count}. A runsOrError listing and a status query by run ids are
    the same operation in dagster-lua (DagsterLuaRuns): told apart by their filter."""
    kinds = {}
    for r in recs:
        op = r["op"]
        if op in ("DagsterLuaRuns", "BenchPyRuns") and "runIds" not in (r.get("filter") or []):
            k = "listing page"
        elif op == "DagsterLuaRuns":
            k = "status query, many runs"
        elif op == "DagsterLuaRunStatuses":  # each_run, after an empty page: is the cursor run gone?
            k = "listing: end check (do the last page's runs exist)"
        elif op == "GraphQLClientGetRunStatus":
            k = "status query, one run"
        elif op in ("DagsterLuaReexecute", "BenchPyReexecute"):
            k = "launch (launchRunReexecution)"
        else:
            k = f"other: {op}"
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


FRONT = os.path.join(ROOT, "spec", "support", "cloud_front.py")
FRONT_TOKEN = "bench-front-token"


def start_front(upstream, d, rate, burst):
    """spec/support/cloud_front.py over upstream as deployment `prod`, limited to `rate`
    requests a second with a bucket of `burst`; its log and certificates in d.
    Returns (process, base URL, log path, CA path)."""
    port_file, log = os.path.join(d, "front.port"), os.path.join(d, "front.log")
    proc = subprocess.Popen([sys.executable, FRONT, "--token", FRONT_TOKEN, "--deployment",
                             f"prod={upstream}", "--dir", d, "--port-file", port_file, "--log", log,
                             "--rate", str(rate), "--burst", str(burst)], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(d, "front.err"), "w"))
    deadline = time.time() + 30
    while not os.path.exists(port_file):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise Failed(f"the Dagster+ front did not start: see {d}/front.err")
        time.sleep(0.05)
    with open(port_file) as f:
        port = int(f.read().strip())
    return proc, f"https://127.0.0.1:{port}", log, os.path.join(d, "ca.pem")


def recover_one(base, since, name, argv_of, tmp, rate=None, burst=1):
    """A fresh copy of the seeded home, its own webserver behind a counting proxy, and
    seed_runs.py finish standing in for the daemon; runs argv_of(proxy_url) under launch.
    With `rate`: behind the Dagster+ front limited to that many requests a second instead,
    the playbook logged in as the dagster-cloud CLI would be (the front's log counts)."""
    d = os.path.join(tmp, name)
    home = os.path.join(d, "home")
    shutil.copytree(os.path.join(base, "home"), home)
    log = open(os.path.join(d, "webserver.log"), "w")
    proc = proxy = fin = None
    try:
        proc, url = start_webserver(home, recover_workspace(os.path.join(d, "workspace.yaml")), log)
        wait_location(url)
        m = measure([BIN, "-e", f'io.write(require("dagster").client("{url}"):version())'])
        version = m["out"].strip()
        if rate:
            proxy, base_url, front_log, ca = start_front(url, d, rate, burst)
        else:
            proxy = CountingProxy(url)
        fin = subprocess.Popen([PY, os.path.join(HERE, "seed_runs.py"), "finish", RECOVER_TAG,
                                str(N_RECOVER), str(RECOVER_RUN_SECONDS), "500"], env=home_env(home),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(d, "state"))
        env.pop("DAGSTER_URL", None)
        if rate:
            env.update(DAGSTER_CLOUD_URL=base_url, DAGSTER_CLOUD_DEPLOYMENT="prod",
                       DAGSTER_CLOUD_API_TOKEN=FRONT_TOKEN, DAGSTER_LUA_CAINFO=ca,
                       HOME=os.path.join(d, "state"))
            m = measure(argv_of(None), env=env, timeout=900)
        else:
            m = measure(argv_of(proxy.url), env=env, timeout=600)
        fin_err = fin.communicate(timeout=60)[1]
        if fin.returncode != 0:
            raise Failed(f"seed_runs.py finish: {fin_err[-1000:]}")
        fin = None
        if rate:
            with open(front_log) as f:
                m["records"] = [json.loads(line) for line in f if line.strip()]
        else:
            m["records"] = proxy.records
        m["version"] = version
        return m
    finally:
        if fin and fin.poll() is None:
            fin.kill()
            fin.wait()
        if proxy and rate:
            proxy.terminate()
            proxy.wait()
        elif proxy:
            proxy.close()
        stop_webserver(proc)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def part_recover(res):
    base, seeded_at = recover_base()
    since = int(time.time() - seeded_at) + 3600   # the window: back to before the seeding
    tmp = tempfile.mkdtemp(prefix="dagster-lua-bench-recover.")
    out = res["recover"] = {"n": N_RECOVER, "concurrency": RECOVER_CONCURRENCY,
                            "run_seconds": RECOVER_RUN_SECONDS}
    try:
        lua = recover_one(base, since, "lua", lambda url: [
            BIN, "play", "recover", "--url", url, "--tag", f"bench/set={RECOVER_TAG}",
            "--since", f"{since}s", "--wait", "--concurrency", str(RECOVER_CONCURRENCY)], tmp)
        py = recover_one(base, since, "python", lambda url: [
            PY, os.path.join(HERE, "py_recover.py"), url, f"bench/set={RECOVER_TAG}", str(since)], tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, m in (("lua", lua), ("python", py)):
        recs = m.pop("records")
        status = [r for r in recs if r["op"] == "GraphQLClientGetRunStatus"
                  or (r["op"] == "DagsterLuaRuns" and "runIds" in (r.get("filter") or []))]
        rounds = cluster(status, 0.5)
        out[name] = {"kinds": recover_kinds(recs), "requests": len(recs), "wall": m["wall"],
                     "cpu": m["cpu"], "rss": m["rss"], "poll_rounds": len(rounds),
                     "max_per_round": max((len(x) for x in rounds), default=0),
                     "tail": (m["err"] + m["out"]).strip().splitlines()[-3:]}
        say(f"recover: {name}: {len(recs)} requests {out[name]['kinds']}; {len(rounds)} poll rounds "
            f"(most status requests in one: {out[name]['max_per_round']}); wall {m['wall']:.1f}s")
    launched = re.search(r"launched=(\d+)", py["out"])
    out["python"]["launched"] = int(launched.group(1)) if launched else None
    res.setdefault("dagster_version", lua["version"])
    out["lua"]["launched"] = out["lua"]["kinds"].get("launch (launchRunReexecution)", 0)


def part_recover_rate(res, rate=10, burst=int(os.environ.get("BENCH_FRONT_BURST", 2)), max_rps=8):
    """`play recover --wait` over the same N_RECOVER failed runs through the Dagster+ front
    limited to `rate` requests a second, a bucket of `burst` (1: no two requests closer than
    1/rate s): once as it comes (the 429s it meets are waited out as Retry-After asks), once
    with --max-rps below the rate (no 429 expected)."""
    base, seeded_at = recover_base()
    since = int(time.time() - seeded_at) + 3600
    tmp = tempfile.mkdtemp(prefix="dagster-lua-bench-recover-rate.")
    out = res["recover_rate"] = {"n": N_RECOVER, "concurrency": RECOVER_CONCURRENCY, "rate": rate,
                                 "burst": burst, "max_rps": max_rps}
    argv = [BIN, "play", "recover", "--tag", f"bench/set={RECOVER_TAG}", "--since", f"{since}s",
            "--wait", "--concurrency", str(RECOVER_CONCURRENCY)]
    try:
        for key, extra in (("as_is", []), ("paced", ["--max-rps", str(max_rps)])):
            m = recover_one(base, since, "rate-" + key, lambda _: argv + extra, tmp, rate=rate, burst=burst)
            recs = m.pop("records")
            with open(os.path.join(WORK, f"recover_rate-{key}.log"), "w") as f:  # the front's log
                f.writelines(json.dumps(r) + "\n" for r in recs)
            n429 = sum(1 for r in recs if r.get("limited"))
            launched = sum(1 for r in recs if r.get("op") == "DagsterLuaReexecute"
                           and r.get("answer") == "forwarded")
            out[key] = {"requests": len(recs), "limited": n429, "forwarded": len(recs) - n429,
                        "launched": launched, "wall": m["wall"], "cpu": m["cpu"], "rss": m["rss"],
                        "tail": (m["err"] + m["out"]).strip().splitlines()[-3:]}
            say(f"recover_rate: {key}: {len(recs)} requests, {n429} answered 429, {launched} launches; "
                f"wall {m['wall']:.1f}s (requests / rate: {len(recs) / rate:.1f}s)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def make_json(url, path):
    """A runs answer of at least JSON_BYTES: the server's own answer for every run, in the
    server's compact form, its results repeated until it is big enough."""
    q = ("query { runsOrError(limit: %d) { __typename ... on Runs { results { __typename id runId "
         "status jobName mode tags { key value } creationTime startTime endTime updateTime "
         "rootRunId parentRunId canTerminate runConfigYaml assetSelection { path } "
         "repositoryOrigin { repositoryName repositoryLocationName } } } } }" % N_LIST)
    req = urllib.request.Request(url.rstrip("/") + "/graphql", data=json.dumps({"query": q}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        doc = json.load(r)
    results = doc["data"]["runsOrError"]["results"]
    if not results:
        raise Failed("no runs to build the JSON answer from")
    one = len(json.dumps(results, separators=(",", ":")))
    reps = max(1, -(-JSON_BYTES // one))
    doc["data"]["runsOrError"]["results"] = (results * reps)
    text = json.dumps(doc, separators=(",", ":"))
    # trim to about JSON_BYTES: drop whole results from the end
    res = doc["data"]["runsOrError"]["results"]
    avg = len(text) / len(res)
    keep = max(1, int(JSON_BYTES / avg) + 1)
    doc["data"]["runsOrError"]["results"] = res[:keep]
    text = json.dumps(doc, separators=(",", ":"))
    with open(path, "w") as f:
        f.write(text)
    return len(text), keep, len(results)


def part_doctor(web, res):
    """`play doctor` (every check) against the seeded webserver: N_LIST finished runs and
    N_WAIT STARTED; then again with N_DOCTOR_QUEUED more runs STARTING (seeded: nothing runs
    them; a seeded run cannot be QUEUED, which needs a job origin). Its requests, counted by
    a proxy, must not grow with the runs."""
    out = res["doctor"] = {"runs": N_LIST + N_WAIT, "added": N_DOCTOR_QUEUED}
    state = tempfile.mkdtemp(prefix="dagster-lua-bench-doctor.")
    try:
        for key in ("seeded", "more"):
            if key == "more":
                subprocess.run([PY, os.path.join(HERE, "seed_runs.py"), "seed", str(N_DOCTOR_QUEUED),
                                "doctor", "STARTING"], env=home_env(web.home), stdout=subprocess.DEVNULL,
                               check=True)
            proxy = CountingProxy(web.url)
            try:
                m = measure([BIN, "play", "doctor", "--url", proxy.url, "--json"],
                            env=dict(os.environ, XDG_STATE_HOME=state), check=False)
                recs = proxy.records
            finally:
                proxy.close()
            ops = {}
            for r in recs:
                ops[str(r["op"])] = ops.get(str(r["op"]), 0) + 1
            out[key] = {"requests": len(recs), "ops": ops, "wall": m["wall"], "cpu": m["cpu"],
                        "exit": m["rc"]}
            say(f"doctor: {key}: {len(recs)} requests {ops}; exit {m['rc']}; wall {m['wall']:.2f}s")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def part_backfill(url, res):
    proxy = CountingProxy(url)
    try:
        m = measure([BIN, os.path.join(HERE, "wait_backfill.lua"), url, proxy.url])
        recs = proxy.records
    finally:
        proxy.close()
    out = kv(m["out"])
    ops = {}
    for r in recs:
        ops[str(r["op"])] = ops.get(str(r["op"]), 0) + 1
    rounds = int(out.get("rounds", "0"))
    res["backfill"] = {"rounds": rounds, "ops": ops, "out": m["out"].strip(),
                       "state": ops.get("DagsterLuaBackfillState", 0),
                       "final": ops.get("DagsterLuaBackfill", 0)}
    say(f"backfill: wait_for_backfill: {len(recs)} requests in {rounds} poll rounds {ops}; {m['out'].strip()}")


def part_json(path, rounds, res):
    m = measure([BIN, os.path.join(HERE, "json_cost.lua"), path, str(rounds)], timeout=1800)
    rows = []
    for line in m["out"].splitlines():
        d = dict(p.split("=", 1) for p in line.split() if "=" in p)
        if "round" in d and int(d["round"]) > 0:
            rows.append({k: float(v) for k, v in d.items()})
        elif "bytes" in d:
            res["json_info"] = d
    res["json"] = rows
    say("json: %d rounds: dagster.json %.0f ms, cjson %.0f ms (median cpu)" % (
        len(rows), median([r["dj_cpu"] for r in rows]) * 1e3, median([r["cj_cpu"] for r in rows]) * 1e3))


# --------------------------------------------------------------------------------------------
# profile (callgrind)
# --------------------------------------------------------------------------------------------

# (regular expression on callgrind_annotate's "file:function" name, label)
PROFILE_FUNCS = [
    (r"rtld\.c:_dl_start$", "dynamic loading: _dl_start (map + relocate every library)"),
    (r"dl-init\.c:_dl_init$", "library constructors: _dl_init"),
    (r":luaL_openlibs$", "luaL_openlibs"),
    (r"run\.c:dgl_openlibs$", "dgl_openlibs (luaL_openlibs + package.preload)"),
    (r":curl_global_init$", "curl_global_init (OpenSSL init inside)"),
    (r":OPENSSL_init_ssl$", "  of which OPENSSL_init_ssl"),
    (r"run\.c:load_embedded$", "load_embedded: compile + run the embedded Lua modules"),
    (r":luaL_loadbufferx$", "  luaL_loadbufferx (loading the embedded bytecode; the script: source)"),
    (r":luaL_loadfilex$", "luaL_loadfilex (the script)"),
    (r"lhttp\.c:l_session$", "http.session (curl_easy_init + options)"),
    (r":curl_easy_perform$", "curl_easy_perform (the POSTs)"),
    (r"lhttp\.c:s_post$", "session:post"),
    (r"ljson\.c:json_decode$", "dagster.json decode"),
    (r"ljson\.c:json_encode$", "dagster.json encode"),
    (r"ljson\.c:scan$", "  dagster.json: scan pass (UTF-8 check, rewrites)"),
    (r"ljson\.c:fixtable$", "  dagster.json: fix-up pass (integers, array marks)"),
    (r":lua_close$", "lua_close"),
    (r"exit\.c:exit$", "exit (atexit handlers, library destructors)"),
]

ANN_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?:\s+\[[^\]]*\])?\s*$")


def callgrind(argv, out):
    m = measure(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out] + argv, timeout=900)
    total = None
    for line in m["err"].splitlines():
        if "Collected :" in line:
            total = int(line.split(":")[-1].strip())
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    funcs = {}
    for line in ann.splitlines():
        if "Auto-annotated source" in line:
            break
        mm = ANN_LINE.match(line)
        if not mm or mm.group(2).startswith("=>"):
            continue
        name = mm.group(2)
        for pat, _ in PROFILE_FUNCS:
            if pat not in funcs and re.search(pat, name):
                funcs[pat] = int(mm.group(1).replace(",", ""))
    return total, funcs, ann


def part_profile(url, run_id, payload, res):
    if not shutil.which("valgrind") or not shutil.which("callgrind_annotate"):
        res["notes"].append("Profile skipped: valgrind (callgrind) is not installed.")
        say("profile: valgrind is not installed: skipped")
        return
    d = tempfile.mkdtemp(prefix="dagster-lua-bench-cg.")
    gql = url.rstrip("/") + "/graphql"
    loop = os.path.join(HERE, "loop_status.lua")
    cases = [
        ("floor, 1 POST", [FLOOR, gql, payload, "1"]),
        ("dagster-lua, 1 get_run_status", [BIN, os.path.join(HERE, "one_status.lua"), url, run_id]),
        ("dagster-lua -e '' (start-up)", [BIN, "-e", ""]),
        ("dagster-lua, require + client, no call", [BIN, "-e", 'require("dagster").client("http://127.0.0.1:1")']),
        ("floor, 11 POSTs", [FLOOR, gql, payload, "11"]),
        ("floor+decode, 1 POST", [FLOOR, gql, payload, "1", '"__typename"', "decode"]),
        ("floor+decode, 11 POSTs", [FLOOR, gql, payload, "11", '"__typename"', "decode"]),
        ("dagster-lua loop, 1 call", [BIN, loop, url, run_id, "1"]),
        ("dagster-lua loop, 11 calls", [BIN, loop, url, run_id, "11"]),
    ]
    if os.path.exists(JSON_FILE):
        once = os.path.join(HERE, "json_once.lua")
        cases += [("read 10 MiB + dagster.json.decode", [BIN, once, JSON_FILE, "dagster.json"]),
                  ("read 10 MiB + cjson.decode", [BIN, once, JSON_FILE, "cjson"])]
    out = []
    for i, (name, argv) in enumerate(cases):
        total, funcs, ann = callgrind(argv, os.path.join(d, f"cg.{i}"))
        with open(os.path.join(WORK, f"callgrind.{i}.txt"), "w") as f:
            f.write(f"# {name}: {' '.join(argv)}\n" + ann)
        out.append({"name": name, "total": total,
                    "funcs": funcs})
        say(f"profile: {name}: {total:,} instructions")
    shutil.rmtree(d, ignore_errors=True)
    res["profile"] = out


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------

def verdict(value, target, op):
    if value != value:  # nan
        return "n/a"
    ok = value <= target if op == "<=" else value >= target if op == ">=" else value < target
    return "met" if ok else "**missed**"


def ratio_stats(num, den, key):
    xs = [a[key] / b[key] for a, b in zip(num, den) if b[key] > 0]
    lo, hi = quartiles(xs)
    return median(xs), lo, hi, len(xs)


def ratio_row(label, stats, tgt=None, op="<="):
    """A table row for a median ratio (ratio_stats' four values): its target and verdict, or
    none for context."""
    med, lo, hi, n = stats
    t = "—" if tgt is None else f"{'≤' if op == '<=' else '≥'} {tgt}x"
    v = "(context)" if tgt is None else verdict(med, tgt, op)
    return (label, t, f"{med:.3f}x", f"{lo:.3f}–{hi:.3f}", str(n), v)


def report(res, args):
    L = []
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            stdout=subprocess.PIPE, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "host", "lua"],
                           stdout=subprocess.PIPE, text=True).stdout.strip()
    L.append("# dagster-lua benchmark results")
    L.append("")
    L.append(f"Generated by `make bench` on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, "
             f"commit {commit}{' + uncommitted changes in host/ or lua/' if dirty else ''}, "
             f"{os.cpu_count()} CPUs, load average before {res['load_before']} / after "
             f"{loadavg()}; Dagster {res.get('dagster_version', '?')}; {platform.python_version()} "
             "Python for the official client.")
    L.append("")
    L.append("Every ratio is the median over rounds of the ratio of two processes measured back "
             "to back in the same round (p25–p75 of the per-round ratios shows the noise). Wall = "
             "spawn to wait4; CPU = user + sys from wait4's rusage; RSS = ru_maxrss.")
    L.append("")
    L.append("| measure | target | measured (median ratio) | p25–p75 | rounds | verdict |")
    L.append("|---|---|---|---|---|---|")
    rows = []
    cold = res.get("cold")
    if cold:
        A, B, C, D = cold["lua"], cold["python"], cold["curl"], cold["floor"]
        for label, num, den, key, tgt, op in [
            ("cold one call: wall, dagster-lua / floor", A, D, "wall", 1.10, "<="),
            ("cold one call: CPU, dagster-lua / floor", A, D, "cpu", 1.2, "<="),
            ("cold one call: CPU, Python / dagster-lua", B, A, "cpu", 100, ">="),
            ("cold one call: peak RSS, dagster-lua / floor", A, D, "rss", 1.15, "<="),
            ("cold one call: peak RSS, Python / dagster-lua", B, A, "rss", 6, ">="),
            ("cold one call: wall, Python / dagster-lua", B, A, "wall", None, None),
            ("cold one call: wall, Python / floor", B, D, "wall", None, None),
            ("cold one call: CPU, Python / floor", B, D, "cpu", None, None),
            ("cold one call: peak RSS, Python / floor", B, D, "rss", None, None),
            ("cold one call: wall, curl / floor", C, D, "wall", None, None),
            ("cold one call: CPU, curl / floor", C, D, "cpu", None, None),
            ("cold one call: peak RSS, curl / floor", C, D, "rss", None, None),
        ]:
            rows.append(ratio_row(label, ratio_stats(num, den, key), tgt, op))
    loop = res.get("loop")
    if loop:
        n = res["loop_n"]
        for label, key, tgt in [(f"{n} calls in one process: loop wall, dagster-lua / floor keep-alive loop", "loop_wall", 1.05),
                                (f"{n} calls in one process: loop CPU, dagster-lua / floor keep-alive loop", "loop_cpu", 1.05),
                                (f"{n} calls, whole process: wall, dagster-lua / floor", "wall", None),
                                (f"{n} calls, whole process: CPU, dagster-lua / floor", "cpu", None),
                                (f"{n} calls, whole process: peak RSS, dagster-lua / floor", "rss", None)]:
            rows.append(ratio_row(label, ratio_stats(loop["lua"], loop["floor"], key), tgt))
        if loop.get("fdec"):
            # issue 22's target: within 1.10x of a floor that also decodes each answer
            for label, num, den, tgt in [
                    (f"{n} calls in one process: loop CPU, floor+cjson.decode / floor", "fdec", "floor", None),
                    (f"{n} calls in one process: loop CPU, dagster-lua / floor+cjson.decode", "lua", "fdec", 1.10),
                    (f"{n} calls in one process: loop CPU, host transport+cjson from a Lua loop "
                     "/ floor+cjson.decode", "bare", "fdec", None),
                    (f"{n} calls in one process: loop CPU, dagster-lua / host transport+cjson "
                     "from a Lua loop", "lua", "bare", None)]:
                if not loop.get(num) or not loop.get(den):
                    continue
                rows.append(ratio_row(label, ratio_stats(loop[num], loop[den], "loop_cpu"), tgt))
    runs = res.get("runs")
    if runs:
        live = runs.get("wait_live")
        if live:
            rows.append((f"wait_for_runs over {N_WAIT} runs that finish while it waits (25 at a time; "
                         f"interval {live['interval']} s): most requests in one poll round", "1", str(live["max_per_round"]), "—",
                         str(live["rounds"]), verdict(live["max_per_round"], 1, "<=")))
            done = runs["wait_done"]
            rows.append((f"wait_for_runs over {N_WAIT} already finished runs: requests", "1",
                         str(done["requests"]), "—", "1", verdict(done["requests"], 1, "<=")))
        else:
            why = (f"failed: {runs['wait_error']}" if runs.get("wait_error") else
                   "not measured: client:wait_for_runs does not exist yet")
            rows.append(("wait_for_runs: one request per poll round", "1", why.replace("|", "\\|"),
                         "—", "—", "pending"))
        lst = runs.get("list")
        if lst:
            small, big = lst[1000], lst[N_LIST]
            deltas = [b["rss"] - a["rss"] for a, b in zip(small, big)]
            md = median(deltas)
            lo, hi = (min(deltas), max(deltas))
            rows.append((f"each_run listing (page_size {runs['page_size']}): peak RSS growth "
                         f"{N_LIST:,} vs 1,000 runs", "< 2048 KiB", f"{md:+.0f} KiB", f"{lo:+.0f}–{hi:+.0f} (min–max)",
                         str(len(deltas)), verdict(md, 2048, "<")))
        else:
            why = (f"failed: {runs['list_error']}" if runs.get("list_error") else
                   "not measured: client:each_run does not exist yet")
            rows.append(("each_run listing: peak RSS growth 10,000 vs 1,000 runs", "< 2048 KiB",
                         why.replace("|", "\\|"), "—", "—", "pending"))
    rec = res.get("recover")
    if rec:
        n, k = rec["n"], rec["lua"]["kinds"]
        pages = -(-n // 100)
        lst = k.get("listing page", 0) + k.get("listing: end check (do the last page's runs exist)", 0)
        rows.append((f"recover over {n} failed runs: listing requests", f"{pages} (one per 100 runs)", str(lst),
                     "—", "1", verdict(lst, pages, "<=")))
        rows.append((f"recover over {n} failed runs: lineage queries", f"≤ {pages} (one per page)",
                     "0 (lineage read from the listing pages)", "—", "1", "met"))
        la = k.get("launch (launchRunReexecution)", 0)
        rows.append((f"recover over {n} failed runs: launches", f"{n} (one per run)", str(la), "—", "1",
                     "met" if la == n else "**missed**"))
        rows.append((f"recover --wait: most status queries in one poll round ({rec['lua']['poll_rounds']} rounds)",
                     "1", str(rec["lua"]["max_per_round"]), "—", "1", verdict(rec["lua"]["max_per_round"], 1, "<=")))
        other = sum(v for kk, v in k.items() if kk.startswith("other"))
        rows.append((f"recover over {n} failed runs: other requests", "0", str(other), "—", "1",
                     verdict(other, 0, "<=")))
        sl = k.get("status query, many runs", 0)
        sp = rec["python"]["kinds"].get("status query, one run", 0)
        if sl:
            rows.append((f"recover --wait over {n} runs: status requests, Python client loop / dagster-lua",
                         "—", f"{sp / sl:.2f}x ({sp} / {sl})", "—", "1", "(context)"))
        pl, pp = rec["lua"]["requests"], rec["python"]["requests"]
        rows.append((f"recover over {n} failed runs: all requests, Python client loop / dagster-lua",
                     "—", f"{pp / pl:.2f}x ({pp} / {pl})", "—", "1", "(context)"))
    rr = res.get("recover_rate")
    if rr:
        n, rate = rr["n"], rr["rate"]
        for key, how in (("as_is", ""), ("paced", f" --max-rps {rr['max_rps']}")):
            x = rr[key]
            rows.append((f"recover{how} over {n} failed runs through the Dagster+ front at {rate} req/s "
                         f"(burst {rr['burst']}): launches, 429s waited out", f"{n}, {'0' if key == 'paced' else 'any'}",
                         f"{x['launched']}, {x['limited']}", "—", "1",
                         "met" if x["launched"] == n and (key == "as_is" or x["limited"] == 0)
                         else "**missed**"))
            pace = rr["max_rps"] if key == "paced" else rate
            ideal = x["requests"] / pace
            rows.append((f"recover{how} through the front: wall / (requests / {pace} req/s)",
                         "—", f"{x['wall'] / ideal:.2f}x ({x['wall']:.1f} s / {ideal:.1f} s)", "—", "1",
                         "(context)"))
    bf = res.get("backfill")
    if bf:
        per = bf["state"] / bf["rounds"] if bf["rounds"] else float("nan")
        rows.append((f"wait_for_backfill over {kv(bf['out']).get('partitions', '?')} partitions: "
                     f"requests per poll round ({bf['rounds']} rounds)", "1", f"{per:.2f}",
                     "—", "1", verdict(per, 1, "<=")))
        other = sum(v for k, v in bf["ops"].items() if k not in ("DagsterLuaBackfillState", "DagsterLuaBackfill"))
        rows.append(("wait_for_backfill: the whole backfill read at the end / other requests", "1 / 0",
                     f"{bf['final']} / {other}", "—", "1", verdict(bf["final"] + other, 1, "<=")))
    dr = res.get("doctor")
    if dr:
        a, b = dr["seeded"], dr["more"]
        rows.append((f"play doctor, every check, over {dr['runs']:,} runs: requests", "≤ 12",
                     str(a["requests"]), "—", "1", verdict(a["requests"], 12, "<=")))
        rows.append((f"play doctor with {dr['added']:,} more runs in flight: requests", "the same",
                     str(b["requests"]), "—", "1", verdict(b["requests"], a["requests"], "<=")))
        rows.append(("play doctor: wall, without / with those runs in flight", "—",
                     f"{a['wall']:.2f} s / {b['wall']:.2f} s", "—", "1", "(context)"))
    js = res.get("json")
    if js:
        for key in ("cpu", "wall"):
            xs = [r["dj_" + key] / r["cj_" + key] for r in js]
            lo, hi = quartiles(xs)
            rows.append((f"JSON decode of a {int(res['json_info']['bytes']) / 2**20:.1f} MiB runs answer: "
                         f"{key.replace('cpu', 'CPU')}, dagster.json / bare cjson", "≤ 1.5x", f"{median(xs):.3f}x",
                         f"{lo:.3f}–{hi:.3f}", str(len(xs)), verdict(median(xs), 1.5, "<=")))
    for r in rows:
        L.append("| " + " | ".join(r) + " |")
    L.append("")

    # absolute medians, for context only
    L.append("Absolute medians, for context only (not verdicts):")
    L.append("")
    L.append("| process | wall ms | CPU ms (user + sys) | peak RSS KiB |")
    L.append("|---|---|---|---|")
    if cold:
        names = {"lua": "dagster-lua: one get_run_status", "python": "Python DagsterGraphQLClient: one get_run_status",
                 "curl": "curl: one POST", "floor": "floor (bench/floor.c): one POST"}
        for k, label in names.items():
            xs = cold[k]
            L.append(f"| {label} | {median([x['wall'] for x in xs]) * 1e3:.1f} | "
                     f"{median([x['cpu'] for x in xs]) * 1e3:.1f} | {median([x['rss'] for x in xs]):.0f} |")
    if loop:
        n = res["loop_n"]
        for k, label in (("lua", f"dagster-lua: {n} calls (in-loop)"), ("floor", f"floor: {n} POSTs (in-loop)"),
                         ("fdec", f"floor + cjson.decode: {n} POSTs (in-loop)"),
                         ("bare", f"host transport + cjson.decode from Lua: {n} POSTs (in-loop)")):
            xs = loop.get(k)
            if not xs:
                continue
            L.append(f"| {label} | {median([x['loop_wall'] for x in xs]) * 1e3:.0f} | "
                     f"{median([x['loop_cpu'] for x in xs]) * 1e3:.0f} | {median([x['rss'] for x in xs]):.0f} |")
    if runs and runs.get("list"):
        for limit, xs in runs["list"].items():
            L.append(f"| dagster-lua: each_run over {limit:,} runs ({median([x['requests'] for x in xs]):.0f} requests) | "
                     f"{median([x['wall'] for x in xs]) * 1e3:.0f} | {median([x['cpu'] for x in xs]) * 1e3:.0f} | "
                     f"{median([x['rss'] for x in xs]):.0f} |")
    if runs and runs.get("wait_live"):
        w = runs["wait_live"]
        L.append(f"| dagster-lua: wait_for_runs over {N_WAIT} runs ({w['requests']} requests) | "
                 f"{w['elapsed'] * 1e3:.0f} | {w['cpu'] * 1e3:.0f} | {w['rss']} |")
    if js:
        L.append(f"| dagster.json.decode, {res['json_info']['results']} runs | "
                 f"{median([r['dj_wall'] for r in js]) * 1e3:.0f} | {median([r['dj_cpu'] for r in js]) * 1e3:.0f} | — |")
        L.append(f"| cjson.decode, same bytes | {median([r['cj_wall'] for r in js]) * 1e3:.0f} | "
                 f"{median([r['cj_cpu'] for r in js]) * 1e3:.0f} | — |")
    if rec:
        for k, label in (("lua", "dagster-lua: play recover --wait"), ("python", "Python client loop (py_recover.py)")):
            x = rec[k]
            L.append(f"| {label}, {rec['n']} failed runs ({x['requests']} requests) | {x['wall'] * 1e3:.0f} | "
                     f"{x['cpu'] * 1e3:.0f} | {x['rss']} |")
    L.append("")
    if rec:
        L.append(f"`recover --wait --concurrency {rec['concurrency']}` over {rec['n']} real failed runs of "
                 "fail_job, and a loop over the official Python client doing the same work "
                 "(bench/py_recover.py), each against its own copy of the same seeded instance, "
                 "behind bench/count_proxy.py. Requests by kind (GraphQL operation; a listing and a "
                 "status query by run ids are both runsOrError, told apart by their filter):")
        L.append("")
        L.append("| requests | dagster-lua | Python client loop | goal (dagster-lua) |")
        L.append("|---|---|---|---|")
        kl, kp = rec["lua"]["kinds"], rec["python"]["kinds"]
        goal = {"listing page": f"{-(-rec['n'] // 100)} (one per 100 runs)",
                "listing: end check (do the last page's runs exist)": "0",
                "launch (launchRunReexecution)": f"{rec['n']} (one per run)",
                "status query, many runs": "one per poll round",
                "status query, one run": "—"}
        for kind in sorted(set(kl) | set(kp), key=lambda x: (x.startswith("other"), x)):
            L.append(f"| {kind} | {kl.get(kind, 0)} | {kp.get(kind, 0)} | {goal.get(kind, '0')} |")
        L.append(f"| lineage queries | 0 (from the listing) | 0 (from the listing) | one per page |")
        L.append(f"| poll rounds (status requests in the most crowded) | {rec['lua']['poll_rounds']} "
                 f"({rec['lua']['max_per_round']}) | {rec['python']['poll_rounds']} "
                 f"({rec['python']['max_per_round']}) | (1) |")
        L.append(f"| **all requests** | **{rec['lua']['requests']}** | **{rec['python']['requests']}** | |")
        L.append("")
        L.append(f"The re-executions are real launches (launchRunReexecution, FROM_FAILURE) that the "
                 f"webserver creates and queues; no daemon runs them: seed_runs.py finish marks each "
                 f"one SUCCESS {rec['run_seconds']:.0f} s after it appears, for both clients alike. "
                 "The Python loop launches one run after the other and then polls each unfinished "
                 "run with get_run_status, a round a second; the listing and the lineage it reads "
                 "the way the playbook does (its client has neither: raw GraphQL through _execute), "
                 "a page of 100 until a page is short, so 200 runs end on an empty third page. Its "
                 "launches take long enough that nearly every run has finished when it first polls: "
                 "one get_run_status per run is its floor, and every round a run stays unfinished "
                 "costs one more; the playbook's status requests follow the rounds, not the runs.")
        L.append("")
    if cold:
        fl = [x["wall"] for x in cold["floor"]]
        L.append(f"Noise: the floor's own cold wall time ranged {min(fl) * 1e3:.1f}–{max(fl) * 1e3:.1f} ms "
                 f"over {len(fl)} rounds (coefficient of variation "
                 f"{statistics.pstdev(fl) / statistics.mean(fl) * 100:.0f}%); other deployments and "
                 "test suites share this machine.")
        L.append("")
    if res.get("profile"):
        L.append("Callgrind instruction counts (inclusive; repeatable, unlike times):")
        L.append("")
        prof = res["profile"]
        L.append("| function | " + " | ".join(p["name"] for p in prof) + " |")
        L.append("|---|" + "---|" * len(prof))
        L.append("| **total** | " + " | ".join(f"{p['total']:,}" for p in prof) + " |")
        for fn, label in PROFILE_FUNCS:
            vals = [p["funcs"].get(fn) for p in prof]
            if any(vals):
                L.append(f"| {label} | " + " | ".join(f"{v:,}" if v else "—" for v in vals) + " |")
        L.append("")
        t = {p["name"]: p["total"] for p in prof}
        try:
            fl = (t["floor, 11 POSTs"] - t["floor, 1 POST"]) / 10
            lu = (t["dagster-lua loop, 11 calls"] - t["dagster-lua loop, 1 call"]) / 10
            L.append(f"Instructions per extra call on a kept connection: floor {fl:,.0f}, dagster-lua "
                     f"{lu:,.0f} ({lu / fl:.2f}x). One cold call: dagster-lua / floor = "
                     f"{t['dagster-lua, 1 get_run_status'] / t['floor, 1 POST']:.2f}x instructions. "
                     f"Per-function tables: build/bench/callgrind.*.txt.")
            fd = (t["floor+decode, 11 POSTs"] - t["floor+decode, 1 POST"]) / 10
            L.append(f"The floor that also decodes each answer with cjson.decode: {fd:,.0f} per extra "
                     f"call ({fd / fl:.2f}x the floor); dagster-lua / that floor = {lu / fd:.2f}x.")
            L.append("")
        except (KeyError, ZeroDivisionError):
            pass
        try:
            dj, cj = t["read 10 MiB + dagster.json.decode"], t["read 10 MiB + cjson.decode"]
            base = t["dagster-lua -e '' (start-up)"]
            L.append(f"JSON: decoding the 10 MiB answer costs {dj - base:,} instructions through "
                     f"dagster.json and {cj - base:,} through bare cjson (start-up subtracted): "
                     f"{(dj - base) / (cj - base):.2f}x.")
            L.append("")
        except (KeyError, ZeroDivisionError):
            pass
    for note in res.get("notes", []):
        L.append(note)
        L.append("")
    return "\n".join(L)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default=os.environ.get("BENCH_PARTS", ",".join(DEFAULT_PARTS)))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 30)))
    ap.add_argument("--loop-rounds", type=int, default=int(os.environ.get("BENCH_LOOP_ROUNDS", 15)))
    ap.add_argument("--loop-n", type=int, default=300)
    ap.add_argument("--list-rounds", type=int, default=int(os.environ.get("BENCH_LIST_ROUNDS", 3)))
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--json-rounds", type=int, default=int(os.environ.get("BENCH_JSON_ROUNDS", 15)))
    ap.add_argument("--out", help="where the table goes (default bench/results.md for a full run, "
                    "build/bench/results-<parts>.md for a partial one)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if "cold" in parts and args.rounds < 15:
        sys.exit("bench: at least 15 rounds (BENCH_ROUNDS)")
    for f in (BIN, FLOOR, LAUNCH):
        if not os.access(f, os.X_OK):
            sys.exit(f"bench: {f} is missing (make bench builds it)")
    os.makedirs(WORK, exist_ok=True)
    res = {"load_before": loadavg(), "notes": []}

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    dep = web = proxy = None
    tmp = tempfile.mkdtemp(prefix="dagster-lua-bench.")
    try:
        if parts & {"runs", "json", "doctor"}:
            web = SeededWebserver()
            proxy = CountingProxy(web.url)
            res["dagster_version"] = measure(
                [BIN, "-e", f'io.write(require("dagster").client("{web.url}"):version())'])["out"].strip()
            if "runs" in parts:
                part_runs(web, proxy, res, args.list_rounds, args.page_size)
            if "json" in parts:
                size, n, distinct = make_json(web.url, JSON_FILE)
                say(f"json: {size} bytes, {n} runs ({distinct} distinct) from the benchmark webserver")
                part_json(JSON_FILE, args.json_rounds, res)
            if "doctor" in parts:   # last: it adds runs to the webserver's storage
                part_doctor(web, res)
            proxy.close()
            proxy = None
            web.close()
            web = None
        if "recover" in parts:
            part_recover(res)
        if "recover_rate" in parts:
            part_recover_rate(res)
        if parts & {"cold", "loop", "profile", "backfill"}:
            dep = Deployment()
            url = dep.url
            ver = measure([BIN, "-e", f'io.write(require("dagster").client("{url}"):version())'])
            res["dagster_version"] = ver["out"].strip()
            run_id = os.environ.get("BENCH_RUN_ID") or measure(
                [BIN, os.path.join(HERE, "make_run.lua"), url]).get("out").strip()
            say(f"querying run {run_id}")
            payload = os.path.join(tmp, "payload.json")
            with open(payload, "w") as f:
                f.write(measure([BIN, os.path.join(HERE, "payload.lua"), run_id])["out"])
            if "cold" in parts:
                part_cold(url, run_id, payload, args.rounds, res)
            if "loop" in parts:
                part_loop(url, run_id, payload, args.loop_n, args.loop_rounds, res)
            if "profile" in parts:
                part_profile(url, run_id, payload, res)
            if "backfill" in parts:
                part_backfill(url, res)
            dep.close()
            dep = None
    finally:
        if proxy:
            proxy.close()
        if web:
            web.close()
        if dep:
            dep.close()
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(res, args)
    print(text)
    out = args.out or (os.path.join(HERE, "results.md") if parts >= set(DEFAULT_PARTS) else
                       os.path.join(WORK, "results-" + "-".join(sorted(parts)) + ".md"))
    with open(out, "w") as f:
        f.write(text + "\n")
    say(f"wrote {os.path.relpath(out, ROOT)}")
    with open(os.path.join(WORK, "last-run.json"), "w") as f:
        json.dump(res, f, default=str)


if __name__ == "__main__":
    try:
        main()
    except Failed as e:
        sys.exit(f"bench: {e}")
    except KeyboardInterrupt:
        sys.exit("bench: interrupted")
