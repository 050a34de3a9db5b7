"""Validates GraphQL documents against the schema a live Dagster webserver serves.

usage: python validate_documents.py URL < documents.json
documents.json is {"name": "document text", ...}. Prints {"name": ["error", ...], ...} as
JSON ([] for a valid document). The schema comes from the server's own introspection, read
with graphql-core's build_client_schema (graphql-core is installed with dagster-graphql).
"""
import json
import sys
import urllib.request

from graphql import build_client_schema, get_introspection_query, parse, validate
from graphql.error import GraphQLSyntaxError


def main():
    url = sys.argv[1]
    docs = json.load(sys.stdin)
    req = urllib.request.Request(
        url,
        data=json.dumps({"query": get_introspection_query()}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        schema = build_client_schema(json.load(resp)["data"])
    out = {}
    for name, text in docs.items():
        try:
            errors = [e.message for e in validate(schema, parse(text))]
        except GraphQLSyntaxError as e:
            errors = [str(e)]
        out[name] = errors
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
