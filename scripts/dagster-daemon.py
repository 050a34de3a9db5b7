"""dagster-daemon for the test deployment: Dagster's own daemon, with one pause shortened.

The backfill daemon sleeps DEFAULT_DAEMON_INTERVAL_SECONDS (30 s, a module constant with no
setting) between iterations, and a backfill needs two or three iterations: a spec would wait
a minute or more for each one. This sets it to DAGSTER_LUA_DAEMON_INTERVAL seconds (default
1) before handing over to dagster-daemon's own entry point; every daemon still runs Dagster's
code unchanged. The scheduler is not affected (it evaluates on the minute whatever this is).

  python scripts/dagster-daemon.py run -w workspace.yaml
"""
import os
import sys

import dagster._daemon.controller as controller

controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(os.environ.get("DAGSTER_LUA_DAEMON_INTERVAL", "1"))

from dagster._daemon.cli import main  # noqa: E402  (after the constant is set)

sys.argv[0] = "dagster-daemon"
sys.exit(main())
