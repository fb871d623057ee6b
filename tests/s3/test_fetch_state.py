#!/usr/bin/env python3
"""sds-fetch --state: a rerun reads only new or changed objects (key + ETag); the state file is
replaced atomically; a run killed with SIGKILL at any moment never marks an unfinished object
done (every object in the state has all its records in the output written before the kill)."""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from s3_fixture import FETCH, ct_object, env, fetch, ids, sds_s3, sds_servers, sds_test  # noqa: E402
from sds_test import stats_of  # noqa: E402


def state_of(path):
    if not os.path.exists(path):
        return {}
    return {d["uri"]: d["etag"] for d in map(json.loads, open(path))}


class FetchState(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.s3 = sds_s3.S3Client(cls.srv)

    def make_bucket(self, n, records=3):
        b = sds_servers.unique_name("state")
        self.s3.create_bucket(b)
        for i in range(n):
            self.s3.put(b, "k/%03d.json.gz" % i, ct_object("%03d" % i, records))
        return b

    def test_rerun_reads_only_new_and_changed_objects(self):
        b = self.make_bucket(6)
        with tempfile.TemporaryDirectory() as d:
            st = os.path.join(d, "state")
            r = fetch(["--stats", "--state", st, "s3://%s/" % b])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(ids(r.stdout)), 18)
            self.assertEqual(len(state_of(st)), 6)
            r = fetch(["--stats", "--state", st, "s3://%s/" % b])
            self.assertEqual((r.returncode, r.stdout), (0, b""))
            self.assertEqual(stats_of(r.stderr)["s3_skipped"], 6)
            self.s3.put(b, "k/002.json.gz", ct_object("changed", 2))
            self.s3.put(b, "k/100.json.gz", ct_object("new", 1))
            r = fetch(["--stats", "--jobs", "3", "--state", st, "s3://%s/" % b])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ids(r.stdout), ["changed-0", "changed-1", "new-0"])
            self.assertEqual(len(state_of(st)), 7)
            self.assertEqual([f for f in os.listdir(d) if f != "state"], [])  # no temporary left behind

    def test_sigkill_at_any_moment_never_skips_an_unfinished_object(self):
        b = self.make_bucket(12, records=4)
        expected = {"%03d-%d" % (i, j) for i in range(12) for j in range(4)}
        with tempfile.TemporaryDirectory() as d, sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.delay(".json.gz", 0.15)
            st = os.path.join(d, "state")
            seen = []
            partial = 0  # kills that left some, not all, objects marked done
            rnd = random.Random(7)
            for attempt in range(8):
                out = os.path.join(d, "out%d" % attempt)
                with open(out, "wb") as f:
                    proc = subprocess.Popen([FETCH, "--endpoint-url", p.endpoint, "--state", st,
                                             "--jobs", str(1 + attempt % 3), "s3://%s/" % b],
                                            stdout=f, stderr=subprocess.DEVNULL, env=env())
                    time.sleep(rnd.uniform(0.2, 1.2))
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                with open(out, "rb") as f:
                    complete = f.read().split(b"\n")[:-1]  # a killed write may leave half a line
                seen += [json.loads(l)["eventID"] for l in complete]
                partial += 0 < len(state_of(st)) < 12
                # Every object marked done has all its records in the output so far.
                for uri in state_of(st):
                    i = uri.rsplit("/", 1)[1][:3]
                    for j in range(4):
                        self.assertIn("%s-%d" % (i, j), seen, (attempt, uri))
            self.assertGreater(partial, 0, "no kill landed in the middle of a run")
            r = fetch(["--state", st, "s3://%s/" % b])
            self.assertEqual(r.returncode, 0, r.stderr)
            seen += ids(r.stdout)
            self.assertEqual(set(seen), expected)  # at least once, all of them
            self.assertEqual(len(state_of(st)), 12)

    def test_sigterm_flushes_saves_the_state_and_exits_130(self):
        b = self.make_bucket(20, records=2)
        with tempfile.TemporaryDirectory() as d, sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.delay(".json.gz", 0.4)
            st = os.path.join(d, "state")
            for jobs in ("1", "2"):
                proc = subprocess.Popen([FETCH, "--endpoint-url", p.endpoint, "--state", st, "--jobs", jobs,
                                         "s3://%s/" % b], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
                time.sleep(1.5)
                proc.send_signal(signal.SIGTERM)
                out, err = proc.communicate(timeout=60)
                self.assertEqual(proc.returncode, 130, err)
                got = ids(out)
                done = state_of(st)
                self.assertTrue(0 < len(done) < 20, done)
                for uri in done:
                    if jobs == "1":  # the first run's objects: all their records in its output
                        i = uri.rsplit("/", 1)[1][:3]
                        self.assertIn("%s-1" % i, got)
                if jobs == "2":
                    self.assertTrue(got, "the second run read objects the first did not finish")
            r = fetch(["--state", st, "s3://%s/" % b])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(state_of(st)), 20)

    def test_corrupt_state_file_is_a_configuration_error(self):
        b = self.make_bucket(1)
        with tempfile.TemporaryDirectory() as d:
            st = os.path.join(d, "state")
            open(st, "w").write("not json\n")
            r = fetch(["--state", st, "s3://%s/" % b])
            self.assertEqual(r.returncode, 2)
            self.assertIn("corrupt state file: %s:1" % st, r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
