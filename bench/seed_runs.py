"""Seed Dagster run storage with runs that were never executed, for bench/ (run with the test
virtualenv's python; DAGSTER_HOME must point at the benchmark's own instance directory).

  seed_runs.py seed N TAG [STATUS]    add N runs tagged bench/set=TAG (STATUS default: a mix of
                                      SUCCESS, FAILURE and CANCELED); prints their ids, one a line
  seed_runs.py flip IDSFILE DELAY BATCH EVERY
                                      after DELAY seconds, mark the runs of IDSFILE finished
                                      (SUCCESS, via the same run event a real run ends with),
                                      BATCH runs every EVERY seconds; prints what it did on stderr
  seed_runs.py failed URL N TAG       N real failed runs of fail_job (spec/fixtures/defs_main.py,
                                      location `main`) tagged bench/set=TAG: launched through the
                                      webserver at URL (launchRun: QUEUED, no daemon), then run in
                                      this process as a run worker would (execute_run); prints ids
  seed_runs.py finish TAG N DELAY TIMEOUT
                                      stands in for the daemon: marks each QUEUED run tagged
                                      bench/set=TAG finished (SUCCESS) DELAY seconds after it is
                                      first seen, until N are finished or TIMEOUT seconds passed

`seed` and `flip`: runs are added with DagsterInstance.add_run(DagsterRun(...)) with their status set: nothing is
launched. A few tags per run and a small run config make the rows look like real ones. Their
start and end times are then written into the run records in one transaction, as a real run's
events would have: without them the webserver computes startTime/endTime of every listed run
from its (missing) per-run event log, which creates one SQLite file per run and takes ~0.3 s
per run.
"""
import os
import sys
import time
import uuid


def instance():
    from dagster._core.instance import DagsterInstance

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        sys.exit("seed_runs: DAGSTER_HOME is not set")
    os.makedirs(home, exist_ok=True)
    yaml = os.path.join(home, "dagster.yaml")
    if not os.path.exists(yaml):
        with open(yaml, "w") as f:
            f.write("telemetry:\n  enabled: false\n")
    return DagsterInstance.get()


JOBS = ["succeed_job", "fail_job", "config_job", "slow_job", "partitioned_job"]


def seed(n, tag, status_name=None):
    from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus

    inst = instance()
    mix = [DagsterRunStatus.SUCCESS] * 6 + [DagsterRunStatus.FAILURE] * 3 + [DagsterRunStatus.CANCELED]
    fixed = DagsterRunStatus[status_name] if status_name else None
    out = []
    t0 = time.monotonic()
    for i in range(n):
        rid = str(uuid.uuid4())
        job = JOBS[i % len(JOBS)]
        tags = {"bench/set": tag}
        if i % 4:  # three runs in four have more tags; the fourth only the set tag
            tags.update({"team": "data", "dagster/partition": f"2024-01-{1 + i % 28:02d}",
                         "owner": f"user{i % 17}@example.com"})
        inst.add_run(DagsterRun(
            job_name=job, run_id=rid,
            run_config={"ops": {"config_op": {"config": {"name": f"bench-{i}"}}}} if job == "config_job" else {},
            status=fixed or mix[i % len(mix)], tags=tags))
        out.append((rid, fixed or mix[i % len(mix)]))
    set_times(inst, out)
    out = [rid for rid, _ in out]
    print("\n".join(out))
    print(f"seed_runs: {n} runs in {time.monotonic() - t0:.1f}s", file=sys.stderr)


def set_times(inst, runs):
    """start_time (and end_time for finished runs) in the run records, as run events set them."""
    import sqlalchemy as db
    from dagster._core.storage.dagster_run import DagsterRunStatus
    from dagster._core.storage.runs.schema import RunsTable

    final = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
    now = time.time()
    rows = []
    for i, (rid, status) in enumerate(runs):
        start = now - 60 - (len(runs) - i) * 0.5
        rows.append({"rid": rid, "st": start, "et": start + 5 + i % 7 if status in final else None})
    storage = getattr(inst, "_run_storage_impl", None) or inst.run_storage
    with storage.connect() as conn:
        conn.execute(RunsTable.update().where(RunsTable.c.run_id == db.bindparam("rid"))
                     .values(start_time=db.bindparam("st"), end_time=db.bindparam("et")), rows)


def flip(ids_file, delay, batch, every):
    from dagster._core.events import DagsterEvent, DagsterEventType

    inst = instance()
    with open(ids_file) as f:
        ids = [l.strip() for l in f if l.strip()]
    time.sleep(delay)
    for k in range(0, len(ids), batch):
        if k:
            time.sleep(every)
        for rid in ids[k:k + batch]:
            run = inst.get_run_by_id(rid)
            inst.handle_run_event(rid, DagsterEvent(
                event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name))
        print(f"seed_runs: flipped {min(k + batch, len(ids))}/{len(ids)} at {time.time():.3f}",
              file=sys.stderr)


LAUNCH = """mutation BenchSeedLaunch($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on Error { message } } }"""


def failed(url, n, tag):
    """Real failed runs: the webserver creates each run as a launch does (origins, job and
    execution plan snapshots; QUEUED, as no daemon serves this instance), then each is executed
    in this process, the way `dagster api execute_run` would, and fails in fail_op."""
    import json
    import urllib.request

    t0 = time.monotonic()
    ids = []
    for _ in range(n):
        body = json.dumps({"query": LAUNCH, "variables": {"p": {
            "selector": {"repositoryLocationName": "main", "repositoryName": "__repository__",
                         "jobName": "fail_job"},
            "runConfigData": {}, "executionMetadata": {"tags": [{"key": "bench/set", "value": tag}]}}}})
        req = urllib.request.Request(url.rstrip("/") + "/graphql", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as r:
            d = json.load(r)
        res = (d.get("data") or {}).get("launchRun") or {}
        if res.get("__typename") != "LaunchRunSuccess":
            sys.exit(f"seed_runs: launchRun failed: {d}")
        ids.append(res["run"]["runId"])
    t1 = time.monotonic()
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.execution.api import execute_run
    from dagster._core.storage.dagster_run import DagsterRunStatus
    from dagster._utils.hosted_user_process import recon_job_from_origin

    inst = instance()
    for rid in ids:
        run = inst.get_run_by_id(rid)
        inst.handle_run_event(rid, DagsterEvent(
            event_type_value=DagsterEventType.RUN_STARTING.value, job_name=run.job_name))
        run = inst.get_run_by_id(rid)
        execute_run(recon_job_from_origin(run.job_code_origin), run, inst)
        status = inst.get_run_by_id(rid).status
        if status != DagsterRunStatus.FAILURE:
            sys.exit(f"seed_runs: run {rid} ended {status}, not FAILURE")
    print("\n".join(ids))
    print(f"seed_runs: {n} failed runs: launched in {t1 - t0:.1f}s, executed in "
          f"{time.monotonic() - t1:.1f}s", file=sys.stderr)


def finish(tag, n, delay, timeout):
    from dagster._core.events import DagsterEvent, DagsterEventType
    from dagster._core.storage.dagster_run import DagsterRunStatus, RunsFilter

    inst = instance()
    seen, done = {}, 0
    end = time.time() + timeout
    while done < n and time.time() < end:
        now = time.time()
        for run in inst.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED], tags={"bench/set": tag})):
            t = seen.setdefault(run.run_id, now)
            if now - t >= delay:
                inst.handle_run_event(run.run_id, DagsterEvent(
                    event_type_value=DagsterEventType.RUN_SUCCESS.value, job_name=run.job_name))
                done += 1
        time.sleep(0.1)
    print(f"seed_runs: finished {done}/{n} runs", file=sys.stderr)
    if done < n:
        sys.exit(1)


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "seed":
        seed(int(a[1]), a[2], a[3] if len(a) > 3 else None)
    elif len(a) == 5 and a[0] == "flip":
        flip(a[1], float(a[2]), int(a[3]), float(a[4]))
    elif len(a) == 4 and a[0] == "failed":
        failed(a[1], int(a[2]), a[3])
    elif len(a) == 5 and a[0] == "finish":
        finish(a[1], int(a[2]), float(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)
