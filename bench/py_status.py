"""bench: one get_run_status with Dagster's official Python client, in a fresh process.
usage: python py_status.py URL RUN_ID   (URL as in DAGSTER_URL: http(s)://host[:port][/prefix])"""
import sys
import urllib.parse

from dagster_graphql import DagsterGraphQLClient

u = urllib.parse.urlsplit(sys.argv[1])
prefix = u.path.rstrip("/")
if prefix.endswith("/graphql"):
    prefix = prefix[: -len("/graphql")]
client = DagsterGraphQLClient(u.hostname, port_number=u.port, use_https=u.scheme == "https",
                              path_prefix=prefix)
print(client.get_run_status(sys.argv[2]).value)
