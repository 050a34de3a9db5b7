"""bench: the work of `dagster-lua play recover --wait --tag K=V --since AGE` as a loop over
Dagster's official Python client (dagster_graphql.DagsterGraphQLClient), in a fresh process.

usage: python py_recover.py URL K=V SINCE_SECONDS [STRATEGY]

The client has no run listing and no re-execution: those go through its own `_execute` (raw
GraphQL over the same transport), the listing done the way the playbook does it, a page of 100
with the server's cursor, the lineage (dagster/root_run_id) read from the same pages. The wait
uses the client's one status method, `get_run_status`, once per unfinished run per round, a
round a second. Prints key=value counts on its last line.
"""
import sys
import time
import urllib.parse

from dagster_graphql import DagsterGraphQLClient

RUNS = """
query BenchPyRuns($filter: RunsFilter, $cursor: String, $limit: Int) {
  runsOrError(filter: $filter, cursor: $cursor, limit: $limit) {
    __typename
    ... on Runs { results { runId jobName status tags { key value } creationTime rootRunId } }
    ... on Error { message }
  }
}"""

REEXECUTE = """
mutation BenchPyReexecute($p: ReexecutionParams!) {
  launchRunReexecution(reexecutionParams: $p) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on Error { message }
  }
}"""

FINAL = {"SUCCESS", "FAILURE", "CANCELED"}


def main():
    url, tag, since = sys.argv[1], sys.argv[2], float(sys.argv[3])
    strategy = sys.argv[4] if len(sys.argv) > 4 else "FROM_FAILURE"
    k, v = tag.split("=", 1)
    u = urllib.parse.urlsplit(url)
    prefix = u.path.rstrip("/")
    if prefix.endswith("/graphql"):
        prefix = prefix[: -len("/graphql")]
    client = DagsterGraphQLClient(u.hostname, port_number=u.port, use_https=u.scheme == "https",
                                  path_prefix=prefix)

    # the window, a page of 100 at a time; the newest run of each lineage decides
    flt = {"tags": [{"key": k, "value": v}], "updatedAfter": time.time() - since}
    newest, failed, cursor = {}, [], None
    while True:
        page = client._execute(RUNS, {"filter": flt, "cursor": cursor, "limit": 100})["runsOrError"]
        if page["__typename"] != "Runs":
            sys.exit(f"py_recover: {page}")
        for r in page["results"]:
            r["tags"] = {t["key"]: t["value"] for t in r["tags"]}
            root = r["rootRunId"] or r["runId"]
            if root not in newest or r["creationTime"] > newest[root]["creationTime"]:
                newest[root] = r
            if r["status"] == "FAILURE":
                failed.append(r)
        if len(page["results"]) < 100:
            break
        cursor = page["results"][-1]["runId"]
    todo = [r for r in failed if r["tags"].get("dagster/will_retry") != "true"
            and newest[r["rootRunId"] or r["runId"]] is r]

    # re-execute them, one after the other
    launched = []
    for r in todo:
        res = client._execute(REEXECUTE, {"p": {"parentRunId": r["runId"], "strategy": strategy}})
        res = res["launchRunReexecution"]
        if res["__typename"] != "LaunchRunSuccess":
            sys.exit(f"py_recover: re-execution of {r['runId']} failed: {res}")
        launched.append(res["run"]["runId"])

    # wait for them: the client's get_run_status for each unfinished run, a round a second
    unfinished, rounds, ok = list(launched), 0, 0
    while unfinished:
        rounds += 1
        still = []
        for rid in unfinished:
            status = client.get_run_status(rid).value
            if status not in FINAL:
                still.append(rid)
            elif status == "SUCCESS":
                ok += 1
        unfinished = still
        if unfinished:
            time.sleep(1)
    print(f"failed={len(failed)} todo={len(todo)} launched={len(launched)} succeeded={ok} "
          f"poll_rounds={rounds}")


if __name__ == "__main__":
    main()
