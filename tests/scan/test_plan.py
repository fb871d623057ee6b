#!/usr/bin/env python3
"""sds-scan plan: every target gets a scheduled_at inside its bucket, buckets are filled evenly,
the same seed gives the same plan, NDJSON records keep their fields, bad targets are
dead-lettered. Nothing is scanned or resolved (the names are under .test)."""
import collections
import datetime
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SCAN = sds_test.tool("sds-scan")
START = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def ts(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)


def plan(args, stdin):
    r = sds_test.run([SCAN, "plan", "--stats", "--start", "2026-01-01T00:00:00Z"] + args, stdin=stdin)
    return r, sds_test.ndjson(r.stdout), sds_test.stats_of(r.stderr)


class Plan(sds_test.ToolTest):
    targets = "".join(f"h{i}.example.test\n" for i in range(960))

    def test_even_spread_inside_buckets(self):
        r, recs, st = plan(["--seed", "1", "--window", "24h", "--bucket", "15m"], self.targets)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(recs), 960)
        counts = collections.Counter(d["sds"]["scan"]["plan"]["bucket"] for d in recs)
        self.assertEqual(len(counts), 96)
        self.assertEqual(set(counts.values()), {10})
        for d in recs:
            b = d["sds"]["scan"]["plan"]["bucket"]
            lo = START + datetime.timedelta(minutes=15 * b)
            self.assertTrue(lo <= ts(d["scheduled_at"]) < lo + datetime.timedelta(minutes=15), d)
        self.assertEqual([d["target"] for d in recs], [f"h{i}.example.test" for i in range(960)])
        self.assertEqual(st["buckets"], 96)
        self.assertConserved(st)

    def test_uneven_counts_differ_by_at_most_one(self):
        r, recs, _ = plan(["--seed", "3", "--window", "1h", "--bucket", "7m"], self.targets[: 20 * 18])
        counts = collections.Counter(d["sds"]["scan"]["plan"]["bucket"] for d in recs)
        self.assertEqual(len(counts), 8)  # 60 // 7 whole buckets
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1)

    def test_same_seed_same_plan_other_seed_other_plan(self):
        a = plan(["--seed", "42"], self.targets)[0].stdout
        b = plan(["--seed", "42"], self.targets)[0].stdout
        c = plan(["--seed", "43"], self.targets)[0].stdout
        self.assertEqual(a, b)
        self.assertNotEqual(a, c)

    def test_ndjson_records_keep_their_fields_and_bad_targets_are_rejected(self):
        stdin = json.dumps({"host": {"name": "db.example.test"}, "owner": "team-a"}) + "\nbad/99\n{\"x\":1}\n"
        r, recs, st = plan(["--seed", "5"], stdin)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["owner"], "team-a")
        self.assertEqual(recs[0]["host"]["name"], "db.example.test")
        self.assertIn("scheduled_at", recs[0])
        self.assertEqual(st["rejected"], 2)
        self.assertConserved(st)

    def test_default_start_is_the_next_window_boundary(self):
        r = sds_test.run([SCAN, "plan", "--window", "24h"], stdin="a.example.test\n")
        at = ts(sds_test.ndjson(r.stdout)[0]["scheduled_at"])
        now = datetime.datetime.now(datetime.timezone.utc)
        midnight = (now + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        self.assertTrue(midnight <= at < midnight + datetime.timedelta(days=1))

    def test_bad_window_is_a_usage_error(self):
        r = sds_test.run([SCAN, "plan", "--bucket", "1d", "--window", "1d"], stdin="a.example.test\n")
        self.assertEqual(r.returncode, 0)  # bucket == window is one bucket
        r = sds_test.run([SCAN, "plan", "--bucket", "3d", "--window", "1d"], stdin="a.example.test\n")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    sds_test.main()
