"""Seed Dagster run storage with runs that were never executed, for bench/ (run with the test
virtualenv's python; DAGSTER_HOME must point at the benchmark's own instance directory).

  seed_runs.py seed N TAG [STATUS]    add N runs tagged bench/set=TAG (STATUS default: a mix of
                                      SUCCESS, FAILURE and CANCELED); prints their ids, one a line
  seed_runs.py flip IDSFILE DELAY BATCH EVERY
                                      after DELAY seconds, mark the runs of IDSFILE finished
                                      (SUCCESS, via the same run event a real run ends with),
                                      BATCH runs every EVERY seconds; prints what it did on stderr

Runs are added with DagsterInstance.add_run(DagsterRun(...)) with their status set: nothing is
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


if __name__ == "__main__":
    a = sys.argv[1:]
    if len(a) >= 3 and a[0] == "seed":
        seed(int(a[1]), a[2], a[3] if len(a) > 3 else None)
    elif len(a) == 5 and a[0] == "flip":
        flip(a[1], float(a[2]), int(a[3]), float(a[4]))
    else:
        sys.exit(__doc__)
