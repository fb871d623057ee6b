"""Shared set-up of the S3/SQS tests: buckets of synthetic CloudTrail objects in the Swift test
server, and running sds-fetch against it."""
import gzip
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_servers  # noqa: E402
import sds_s3  # noqa: E402
import sds_test  # noqa: E402

FETCH = sds_test.tool("sds-fetch")


def ct_object(tag, n, gz=True):
    """A CloudTrail log object with n records whose eventIDs are tag-0 … tag-(n-1)."""
    recs = [{"eventVersion": "1.08", "eventID": "%s-%d" % (tag, i), "eventName": "GetObject",
             "eventTime": "2024-01-01T00:00:00Z", "requestParameters": {"key": "k %d" % i}} for i in range(n)]
    data = json.dumps({"Records": recs}).encode()
    return gzip.compress(data, mtime=0) if gz else data


def env(srv=None):
    e = sds_servers.aws_env("s3")
    return e


def fetch(args, endpoint=None, timeout=300, stdin=None, extra_env=None):
    srv = sds_servers.s3()
    e = env()
    if extra_env:
        e.update(extra_env)
    cmd = [FETCH, "--endpoint-url", endpoint or srv.endpoint] + list(args)
    return subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, timeout=timeout)


def ids(stdout):
    return [json.loads(l)["eventID"] for l in stdout.decode().splitlines()]
