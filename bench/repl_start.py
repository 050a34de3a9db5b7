#!/usr/bin/env python3
"""Time from start to the first prompt of an interactive REPL on a pseudo-terminal, side by
side in one run: dagster-lua connected (DAGSTER_URL set: `dagster` loaded, `client` built,
the prompt naming the deployment, libedit opened, history read), dagster-lua without
DAGSTER_URL, any other binaries given with --other (e.g. an earlier build of dagster-lua),
and Lua's own `lua5.4 -i`. Rounds alternate between the programs, so a slow moment of the
machine falls on all of them.

    python3 bench/repl_start.py [--rounds 30] [--bin build/dagster-lua] [--other NAME=PATH]

Prints a Markdown table (median and quartiles in ms, and the ratio to `lua5.4 -i`).
"""
import argparse
import os
import pty
import select
import statistics
import sys
import time

PROMPT = b"> "


def first_prompt(argv, env, timeout=10.0):
    """Seconds from fork to the first prompt on the terminal; then Ctrl-D and reap."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    seen = b""
    took = None
    end = t0 + timeout
    while time.perf_counter() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if seen.rstrip(b" ").endswith(b">") and seen.endswith(PROMPT):
                took = time.perf_counter() - t0
                break
    try:
        os.write(fd, b"\x04")
    except OSError:
        pass
    deadline = time.time() + 5
    while time.time() < deadline:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    os.close(fd)
    if took is None:
        raise RuntimeError(f"no prompt from {argv}: {seen[-200:]!r}")
    return took


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--bin", default="build/dagster-lua")
    ap.add_argument("--url", default=os.environ.get("DAGSTER_URL", "http://127.0.0.1:3000"),
                    help="the DAGSTER_URL of the connected case (nothing is requested at start)")
    ap.add_argument("--other", action="append", default=[], metavar="NAME=PATH")
    args = ap.parse_args()
    hist = f"/tmp/dagster-lua-bench-history-{os.getpid()}"
    base = dict(os.environ, TERM="xterm", DAGSTER_LUA_HISTORY=hist)
    base.pop("DAGSTER_URL", None)
    cases = [
        ("dagster-lua, connected", [args.bin], dict(base, DAGSTER_URL=args.url)),
        ("dagster-lua, no DAGSTER_URL", [args.bin], base),
    ]
    for o in args.other:
        name, path = o.split("=", 1)
        cases.append((name, [path], dict(base, DAGSTER_URL=args.url)))
    cases.append(("lua5.4 -i", ["lua5.4", "-i"], base))
    times = {name: [] for name, _, _ in cases}
    for name, argv, env in cases:        # one warm-up each (page cache, libedit)
        first_prompt(argv, env)
    for _ in range(args.rounds):
        for name, argv, env in cases:
            times[name].append(first_prompt(argv, env))
    try:
        os.remove(hist)
    except OSError:
        pass
    ref = statistics.median(times["lua5.4 -i"])
    print(f"Time to the first prompt on a pty, {args.rounds} rounds, interleaved "
          f"(load {os.getloadavg()[0]:.2f}):\n")
    print("| program | median ms | quartiles ms | vs lua5.4 -i |")
    print("|---|---|---|---|")
    for name, _, _ in cases:
        xs = sorted(times[name])
        q = statistics.quantiles(xs, n=4)
        med = statistics.median(xs)
        print(f"| {name} | {med * 1000:.1f} | {q[0] * 1000:.1f}-{q[2] * 1000:.1f} | "
              f"{med / ref:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
