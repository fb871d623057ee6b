#!/usr/bin/env python3
"""sds-fetch s3://: listing with pagination, streaming, addressing styles, --include/--exclude,
date-partition pruning (LIST requests counted through a proxy), retries on 5xx/SlowDown/resets/
truncated bodies, 403/404 → exit 3, corrupt gzip → dead-lettered, exit 1. Against Swift+s3api."""
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from s3_fixture import FETCH, ct_object, env, fetch, ids, sds_s3, sds_servers, sds_test  # noqa: E402
from sds_test import stats_of  # noqa: E402

OTRF = os.path.join(sds_test.DATA_DIR, "cloudtrail", "otrf", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")


class S3Fetch(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.s3 = sds_s3.S3Client(cls.srv)
        cls.bucket = sds_servers.unique_name("fetch")
        cls.s3.create_bucket(cls.bucket)
        # 25 objects (pagination with --list-page-size 4), gzipped and plain, a key with a space.
        cls.expected = []
        for i in range(25):
            key = "logs/%02d/obj %02d.json%s" % (i // 10, i, ".gz" if i % 2 else "")
            cls.s3.put(cls.bucket, key, ct_object("o%02d" % i, 3, gz=bool(i % 2)))
            cls.expected += ["o%02d-%d" % (i, j) for j in range(3)]
        cls.s3.put(cls.bucket, "real/otrf.json", open(OTRF, "rb").read())
        # ~3 MB of output from one object: the output flushes while libcurl is still receiving.
        cls.s3.put(cls.bucket, "big/x.json.gz", ct_object("big", 30000))
        cls.s3.put(cls.bucket, "logs/CloudTrail-Digest/x.json.gz", gzip.compress(b'{"digestStartTime":"x"}'))

    def test_lists_all_pages_and_streams_records_in_key_order(self):
        r = fetch(["--stats", "--list-page-size", "4", "s3://%s/logs/" % self.bucket])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ids(r.stdout), self.expected)
        st = stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual(st["filtered"], 1)  # the digest file
        self.assertGreaterEqual(st["s3_list_requests"], 7)  # 26 keys, 4 per page

    def test_records_are_byte_for_byte_those_of_a_local_read(self):
        local = subprocess.run([FETCH, OTRF], stdout=subprocess.PIPE, check=True).stdout
        for style in ("path", "virtual"):
            endpoint = self.srv.endpoint if style == "path" else "http://localhost:%d" % self.srv.port
            r = fetch(["--addressing", style, "s3://%s/real/" % self.bucket], endpoint=endpoint)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, local, style)

    def test_head_closes_the_pipe_quietly(self):
        # The output fails while libcurl is still receiving the object (its write callback):
        # the closed pipe must still end the run quietly with exit 0, for --jobs 1 and N.
        for jobs in ("1", "4"):
            p = subprocess.Popen([FETCH, "--endpoint-url", self.srv.endpoint, "--jobs", jobs, "s3://%s/big/" % self.bucket],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())
            p.stdout.readline()
            p.stdout.close()
            err = p.stderr.read()
            self.assertEqual((p.wait(), err), (0, b""), jobs)

    def test_annotate_names_the_s3_uri(self):
        r = fetch(["--annotate", "s3://%s/logs/00/obj 01.json.gz" % self.bucket])
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(l) for l in r.stdout.decode().splitlines()]
        self.assertEqual([x["@source"] for x in recs],
                         [{"uri": "s3://%s/logs/00/obj 01.json.gz" % self.bucket, "line": n} for n in (1, 2, 3)])

    def test_include_and_exclude_globs_on_keys(self):
        r = fetch(["--include", "*.gz", "--exclude", "logs/01/*", "s3://%s/logs/" % self.bucket])
        self.assertEqual(r.returncode, 0, r.stderr)
        want = [e for e in self.expected if int(e[1:3]) % 2 and not 10 <= int(e[1:3]) < 20]
        self.assertEqual(ids(r.stdout), want)

    def test_forbidden_bucket_exits_3_naming_the_bucket(self):
        e = {"AWS_ACCESS_KEY_ID": self.srv.reader_access_key, "AWS_SECRET_ACCESS_KEY": self.srv.reader_secret_key}
        r = fetch(["s3://%s/logs/" % self.bucket], extra_env=e)
        self.assertEqual(r.returncode, 3)
        self.assertRegex(r.stderr.decode(), r"sds-fetch: error: cannot list: s3://%s/logs/ \(http 403 AccessDenied" % self.bucket)
        self.assertNotIn(self.srv.reader_secret_key, r.stderr.decode())

    def test_profile_and_region_options_reach_the_signer(self):
        with tempfile.TemporaryDirectory() as d:
            creds = os.path.join(d, "credentials")
            with open(creds, "w") as f:
                f.write("[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n"
                        "[swift]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                        % (self.srv.access_key, self.srv.secret_key))
            e = {"AWS_SHARED_CREDENTIALS_FILE": creds, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
            r = fetch(["--profile", "swift", "s3://%s/logs/00/obj 01.json.gz" % self.bucket], extra_env=e)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(ids(r.stdout), ["o01-0", "o01-1", "o01-2"])
            r = fetch(["s3://%s/logs/00/obj 01.json.gz" % self.bucket], extra_env=dict(e, AWS_PROFILE="default"))
            self.assertEqual(r.returncode, 3)
            self.assertNotIn("wrong", r.stderr.decode())
        # Swift refuses a signature scoped to another region, as AWS does.
        r = fetch(["--region", "eu-west-1", "s3://%s/logs/" % self.bucket])
        self.assertEqual(r.returncode, 3)
        self.assertIn("AuthorizationHeaderMalformed", r.stderr.decode())

    def test_missing_bucket_exits_3(self):
        r = fetch(["s3://%s-nope/x" % self.bucket])
        self.assertEqual(r.returncode, 3)
        self.assertIn("NoSuchBucket", r.stderr.decode())

    def test_404_on_an_object_exits_3_at_once_naming_bucket_and_key(self):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.fail("obj 03.json.gz", ["404"])
            r = fetch(["--stats", "s3://%s/logs/00/" % self.bucket], endpoint=p.endpoint)
            gets = [q for m, path, q in p.requests if m == "GET" and path.endswith("obj 03.json.gz")]
        self.assertEqual(r.returncode, 3)
        self.assertEqual(len(gets), 1)  # not retried
        lines = [l for l in r.stderr.decode().splitlines() if "error:" in l]
        self.assertEqual(lines, ["sds-fetch: error: cannot read: s3://%s/logs/00/obj 03.json.gz (http 404 NoSuchKey: injected)" % self.bucket])
        self.assertEqual(ids(r.stdout), self.expected[:9])  # objects before it are complete

    def test_retries_5xx_slowdown_resets_and_truncated_bodies_without_duplicates(self):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.fail("obj 01.json.gz", ["503", "slowdown"])
            p.fail("obj 02.json", ["reset"])
            p.fail("obj 05.json.gz", ["truncate", "500"])
            p.fail("obj 06.json", ["truncate"])
            r = fetch(["--stats", "--jobs", "1", "s3://%s/logs/00/" % self.bucket], endpoint=p.endpoint)
            gets = {k: sum(1 for m, path, q in p.requests if m == "GET" and path.endswith(k))
                    for k in ("obj 01.json.gz", "obj 02.json", "obj 05.json.gz", "obj 06.json")}
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(ids(r.stdout), self.expected[:30])  # complete, nothing twice
        self.assertEqual(gets, {"obj 01.json.gz": 3, "obj 02.json": 2, "obj 05.json.gz": 3, "obj 06.json": 2})
        # A reset of a kept-alive connection may be retried by libcurl itself; the rest are ours.
        self.assertGreaterEqual(stats_of(r.stderr)["s3_retries"], 5)

    def test_retries_exhausted_exit_3_with_one_line(self):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            p.fail("obj 04.json", ["500"] * 10)
            r = fetch(["--retries", "2", "s3://%s/logs/00/" % self.bucket], endpoint=p.endpoint)
        self.assertEqual(r.returncode, 3)
        lines = [l for l in r.stderr.decode().splitlines() if "error:" in l]
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("cannot read: s3://%s/logs/00/obj 04.json (http 500 InternalError: injected; gave up after 3 attempts)" % self.bucket, lines[0])

    def test_corrupt_gzip_object_is_dead_lettered_and_the_run_goes_on(self):
        b = sds_servers.unique_name("corrupt")
        self.s3.create_bucket(b)
        good = ct_object("g", 2)
        self.s3.put(b, "a.json.gz", good)
        self.s3.put(b, "b.json.gz", good[:10] + b"\xff" * 40 + good[50:])
        self.s3.put(b, "c.json.gz", ct_object("h", 2))
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead")
            r = fetch(["--stats", "--dead-letter", dead, "s3://%s/" % b])
            dl = [json.loads(l) for l in open(dead)]
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(ids(r.stdout), ["g-0", "g-1", "h-0", "h-1"])
        self.assertEqual({x["source"] for x in dl}, {"s3://%s/b.json.gz" % b})
        self.assertTrue(all(x["reason"] for x in dl), dl)
        self.assertConserved(stats_of(r.stderr))


class S3Pruning(sds_test.ToolTest):
    """AWS log layouts: only the date partitions in range are listed."""

    @classmethod
    def setUpClass(cls):
        cls.srv = sds_servers.s3()
        cls.s3 = sds_s3.S3Client(cls.srv)
        cls.bucket = sds_servers.unique_name("prune")
        cls.s3.create_bucket(cls.bucket)
        cls.keys = []
        for region in ("us-east-1", "eu-west-1"):
            for day in range(1, 21):
                k = "AWSLogs/123456789012/CloudTrail/%s/2024/01/%02d/123456789012_CloudTrail_%s_202401%02dT0000Z_x.json.gz" % (
                    region, day, region, day)
                cls.keys.append(k)
            k = "AWSLogs/123456789012/CloudTrail-Digest/%s/2024/01/05/d.json.gz" % region
            cls.keys.append(k)
        for day, hour in [(9, 22), (9, 23), (10, 0), (10, 1), (11, 5)]:
            cls.keys.append("firehose/2024/01/%02d/%02d/stream-1-2024-01-%02d-%02d-00-00-abc.gz" % (day, hour, day, hour))
        cls.keys.append("AWSLogs/123456789012/elasticloadbalancing/us-east-1/2023/12/31/alb.log.gz")
        for k in cls.keys:
            cls.s3.put(cls.bucket, k, ct_object(k, 1))

    def run_pruned(self, prefix, *args):
        with sds_s3.FaultProxy(self.srv.endpoint) as p:
            r = fetch(["--stats"] + list(args) + ["s3://%s/%s" % (self.bucket, prefix)], endpoint=p.endpoint)
            self.assertEqual(r.returncode, 0, r.stderr)
            return ids(r.stdout), p.lists(), stats_of(r.stderr)

    def test_cloudtrail_days_outside_the_range_are_never_listed(self):
        got, lists, st = self.run_pruned("AWSLogs/", "--since", "2024-01-05T00:00:00Z", "--until", "2024-01-07T00:00:00Z")
        want = [k + "-0" for k in self.keys if "/CloudTrail/" in k and k.split("/")[6] in ("05", "06")]
        self.assertEqual(got, sorted(want))
        for prefix in lists:
            parts = prefix.split("/")
            if len(parts) > 7 and parts[4:6] == ["2024", "01"]:
                self.assertIn(parts[6], ("", "05", "06"), prefix)  # no other day listed
            self.assertNotIn("CloudTrail-Digest", prefix)
            self.assertNotIn("2023", prefix)
        # Walking AWSLogs/, the account, its services, two regions, their years, months, days:
        # far fewer than one LIST per day and region (40).
        self.assertLessEqual(len(lists), 16, lists)
        self.assertEqual(st["s3_list_requests"], len(lists))

    def test_firehose_hours_are_pruned(self):
        got, lists, _ = self.run_pruned("firehose/", "--since", "2024-01-09T23:00:00Z", "--until", "2024-01-10T01:00:00Z")
        self.assertEqual(got, ["firehose/2024/01/09/23/stream-1-2024-01-09-23-00-00-abc.gz-0",
                               "firehose/2024/01/10/00/stream-1-2024-01-10-00-00-00-abc.gz-0"])
        for prefix in lists:
            self.assertNotIn("/11/", prefix)
            self.assertNotIn("/22/", prefix)

    def test_since_as_a_duration_before_now(self):
        got, lists, _ = self.run_pruned("", "--since", "2h")
        self.assertEqual(got, [])
        self.assertLessEqual(len(lists), 12, lists)

    def test_bad_since_is_a_usage_error(self):
        r = fetch(["--since", "yesterday-ish", "s3://%s/" % self.bucket])
        self.assertEqual(r.returncode, 2)
        self.assertIn("invalid time: yesterday-ish", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
