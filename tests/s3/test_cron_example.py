#!/usr/bin/env python3
"""examples/cron-fetch.sh against the S3 test server: the first run reads the objects of the
last two hours (and not older partitions), a second run reads nothing, a run after a new upload
reads only the new object."""
import datetime
import glob
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from s3_fixture import ct_object, env, sds_s3, sds_servers, sds_test  # noqa: E402

SCRIPT = os.path.join(sds_test.SOURCE_DIR, "examples", "cron-fetch.sh")


class CronExample(sds_test.ToolTest):
    def test_cron_job_reads_new_objects_once(self):
        srv = sds_servers.s3()
        s3 = sds_s3.S3Client(srv)
        b = sds_servers.unique_name("cron")
        s3.create_bucket(b)
        now = datetime.datetime.now(datetime.timezone.utc)
        base = "AWSLogs/123456789012/CloudTrail/us-east-1/"
        today = base + now.strftime("%Y/%m/%d/")
        s3.put(b, today + "a.json.gz", ct_object("a", 2))
        s3.put(b, base + "2020/01/01/old.json.gz", ct_object("old", 2))
        with tempfile.TemporaryDirectory() as d:
            e = env()
            e.update({"SDS_BIN": sds_test.BIN_DIR, "S3_ENDPOINT": srv.endpoint})

            def run():
                r = subprocess.run(["bash", SCRIPT, "s3://%s/AWSLogs/" % b, d], env=e, capture_output=True, timeout=300)
                self.assertEqual(r.returncode, 0, r.stderr)
                files = sorted(glob.glob(os.path.join(d, "raw-*.ndjson.gz")))
                got = []
                for f in files:
                    got += [json.loads(l)["eventID"] for l in gzip.open(f)]
                    os.remove(f)
                return got

            self.assertEqual(run(), ["a-0", "a-1"])
            self.assertEqual(run(), [])
            s3.put(b, today + "b.json.gz", ct_object("b", 1))
            self.assertEqual(run(), ["b-0"])
            stats = [json.loads(l) for l in open(os.path.join(d, "stats.ndjson"))]
            self.assertEqual([s["out"] for s in stats], [2, 0, 1])


if __name__ == "__main__":
    unittest.main(verbosity=2)
