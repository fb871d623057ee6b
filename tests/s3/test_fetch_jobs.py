#!/usr/bin/env python3
"""sds-fetch --jobs N: concurrent downloads, output identical to --jobs 1 (records of one object
contiguous, objects in key order) even when later objects finish first; --unordered keeps each
object contiguous; large objects spill to a temporary file and still come out whole."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from s3_fixture import ct_object, fetch, ids, sds_s3, sds_servers, sds_test  # noqa: E402
from sds_test import stats_of  # noqa: E402


class FetchJobs(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.s3 = sds_s3.S3Client(cls.srv)
        cls.bucket = sds_servers.unique_name("jobs")
        cls.s3.create_bucket(cls.bucket)
        for i in range(30):
            cls.s3.put(cls.bucket, "k/%03d.json.gz" % i, ct_object("%03d" % i, 5 + i % 4))
        # ~12 MB of plain JSON: beyond the in-memory spill limit, so it goes through a temporary file.
        big = json.dumps({"Records": [{"eventID": "big-%d" % i, "pad": os.urandom(300).hex()}
                                      for i in range(20000)]}).encode()
        cls.s3.put(cls.bucket, "k/015b.json", big)

    def test_jobs_output_is_identical_to_sequential(self):
        seq = fetch(["--annotate", "s3://%s/" % self.bucket])
        self.assertEqual(seq.returncode, 0, seq.stderr)
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.delay("k/000.json.gz", 1.0)  # the first object finishes last
            p.delay("k/007.json.gz", 0.5)
            par = fetch(["--stats", "--annotate", "--jobs", "6", "s3://%s/" % self.bucket], endpoint=p.endpoint)
        self.assertEqual(par.returncode, 0, par.stderr)
        self.assertEqual(par.stdout, seq.stdout)
        self.assertConserved(stats_of(par.stderr))
        self.assertEqual(len(seq.stdout.splitlines()), sum(5 + i % 4 for i in range(30)) + 20000)

    def test_unordered_keeps_each_object_contiguous(self):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.delay("k/000.json.gz", 1.0)
            r = fetch(["--annotate", "--jobs", "4", "--unordered", "s3://%s/" % self.bucket], endpoint=p.endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        uris = [json.loads(l)["@source"]["uri"] for l in r.stdout.decode().splitlines()]
        runs = [u for i, u in enumerate(uris) if i == 0 or uris[i - 1] != u]
        self.assertEqual(len(runs), len(set(runs)))  # no object split
        self.assertEqual(len(runs), 31)
        self.assertNotEqual(runs[0], "s3://%s/k/000.json.gz" % self.bucket)  # the slow one came later

    def test_a_failed_download_stops_the_run_with_exit_3(self):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.fail("k/010.json.gz", ["403"] * 3)
            r = fetch(["--jobs", "4", "s3://%s/" % self.bucket], endpoint=p.endpoint)
        self.assertEqual(r.returncode, 3)
        self.assertIn("k/010.json.gz", r.stderr.decode())
        self.assertEqual(sorted(set(i.split("-")[0] for i in ids(r.stdout))), ["%03d" % i for i in range(10)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
