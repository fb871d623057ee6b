#!/usr/bin/env python3
"""examples/nightly-train.sh runs: it trains on a week of (test) CloudTrail, scores a live stream
and writes a block list holding the anomalous addresses only, highest risk first, capped."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SCRIPT = os.path.join(sds_test.SOURCE_DIR, "examples", "nightly-train.sh")
WEEK = os.path.join(sds_test.DATA_DIR, "cloudtrail", "stratus-red-team")


def event(arn, ip):
    return json.dumps({"eventVersion": "1.08", "eventName": "ListBuckets", "eventTime": "2024-08-03T10:00:00Z",
                       "userIdentity": {"type": "IAMUser", "arn": arn}, "sourceIPAddress": ip}) + "\n"


class NightlyExample(sds_test.ToolTest):
    def run_example(self, live, cap=None):
        env = {"SDS_BIN": sds_test.BIN_DIR}
        if cap:
            env["BLOCK_MAX"] = str(cap)
        d = tempfile.mkdtemp()
        r = sds_test.run(["bash", SCRIPT, WEEK, "-", d], stdin=live, env=env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(d, "blocklist.txt")) as f:
            return f.read().splitlines(), d

    def test_block_list(self):
        usual = event("arn:aws:iam::017622104382:user/christophe", "18.236.253.47")
        live = usual * 3 + event("arn:aws:iam::017622104382:user/christophe", "198.51.100.7") + \
            event("arn:aws:iam::999999999999:user/stranger", "203.0.113.9") + usual
        blocked, d = self.run_example(live)
        self.assertIn("198.51.100.7/32", blocked)
        self.assertIn("203.0.113.9/32", blocked)
        self.assertNotIn("18.236.253.47/32", blocked)
        self.assertEqual(len(blocked), len(set(blocked)))
        self.assertTrue(os.path.exists(os.path.join(d, "ct.model")))
        self.assertTrue(os.path.exists(os.path.join(d, "ct.state")))
        capped, _ = self.run_example(live, cap=1)
        self.assertEqual(len(capped), 1)
        self.assertIn(capped[0], blocked)


if __name__ == "__main__":
    sds_test.main()
