"""`dagster api grpc` for the test deployment's code servers, its runs started from a warm copy.

Dagster's code server starts each run in a new interpreter (multiprocessing's "spawn"), which
imports Dagster again, its storage (SQLAlchemy, Alembic) and the code location: about two
seconds of CPU per run, most of what a run costs on this two-core machine, where the specs are
bound by CPU. Here the code server's multiprocessing context is "forkserver" instead, its
server process having imported those modules once: each run is a fork of it and imports only
the code location (about 0.5 s of CPU). Every run still runs in a process of its own, started,
watched, cancelled and reaped by Dagster's own code server code, unchanged.

Only from Dagster 1.13 on: Dagster 1.10.21 can lose a termination sent as soon as a run reaches
STARTED (the run going on in CANCELING to its end). It does so with spawn too, rarely; with the
fork server it did more often (2 of 6 tries where spawn lost none of 6), where 1.13.27 lost none
of 20. The versions between were not tried; older ones keep spawn.

  python scripts/dagster-code-server.py api grpc --python-file defs.py --port N ...
"""
if __name__ == "__main__":
    import multiprocessing
    import sys

    from dagster.version import __version__

    PRELOAD = ["dagster", "dagster._grpc.impl", "dagster._core.storage.sqlite_storage",
               "dagster._core.storage.runs.sqlite", "dagster._core.storage.event_log.sqlite",
               "dagster._core.storage.schedules.sqlite", "alembic", "sqlalchemy"]
    get_context = multiprocessing.get_context

    def warm_context(method=None):
        """multiprocessing.get_context, with the fork server where spawn is asked for"""
        return get_context("forkserver" if method == "spawn" else method)

    if tuple(int(p) for p in __version__.split(".")[:2]) >= (1, 13):
        multiprocessing.set_forkserver_preload(PRELOAD)
        multiprocessing.get_context = warm_context

    from dagster._cli import main

    sys.argv[0] = "dagster"
    sys.exit(main())
