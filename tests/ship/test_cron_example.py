"""examples/cron-ship.sh runs as documented: fetch | normalize | ship over the bundled samples,
a second run adds nothing, a run against a failing cluster keeps its input (exit 3) and the next
run loads it, and dead letters moved to replay/ are replayed (test server only)."""
import glob
import json
import os
import subprocess
import tempfile

from sds_test import ToolTest, SOURCE_DIR, BIN_DIR, tool, main
from ship_env import Cluster

SCRIPT = os.path.join(SOURCE_DIR, "examples", "cron-ship.sh")
SAMPLES = os.path.join(SOURCE_DIR, "examples", "data", "cloudtrail")


class CronShip(ToolTest):
    def setUp(self):
        for t in ("sds-fetch", "sds-normalize", "sds-ship"):
            if not os.path.exists(tool(t)):
                self.skipTest(t + " is not built")
        self.es = Cluster("--no-builtin-templates", real_ok=False)
        self.work = tempfile.mkdtemp(prefix="sds-cron-ship-")

    def tearDown(self):
        self.es.close()

    def cron(self):
        return subprocess.run(["bash", SCRIPT, SAMPLES, self.es.url, self.work], capture_output=True,
                              env=dict(os.environ, SDS_BIN=BIN_DIR, SDS_SHIP_ARGS="--max-retries 1 --retry-delay 0.01"))

    def test_runs_reruns_survives_an_outage_and_replays(self):
        r = self.cron()
        self.assertIn(r.returncode, (0, 1), r.stderr)
        n = self.es.count("logs-*")
        self.assertGreater(n, 10)
        self.assertEqual(glob.glob(self.work + "/inbox/raw-*"), [])
        r = self.cron()
        self.assertEqual(self.es.count("logs-*"), n)  # same ids: nothing added
        # outage: the run exits 3 and keeps its raw file in the inbox
        self.es.request("DELETE", "/logs-*")
        self.es.fault(status=503, count=-1, path="_bulk")
        r = self.cron()
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(len(glob.glob(self.work + "/inbox/raw-*")), 1)
        self.es.fault(reset=True)
        r = self.cron()
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertEqual(self.es.count("logs-*"), n)
        self.assertEqual(glob.glob(self.work + "/inbox/raw-*"), [])
        # replay step: a dead-letter file placed in replay/ is loaded and removed
        doc = {"@timestamp": "2024-01-01T00:00:00.000Z", "event": {"id": "replayed-1", "dataset": "aws.cloudtrail"}}
        with open(os.path.join(self.work, "replay", "x.ndjson"), "w") as f:
            f.write(json.dumps({"@timestamp": "2024-01-01T00:00:00Z", "tool": "sds-ship", "reason": "not delivered: test",
                                "source": "stdin", "line": 1, "record": json.dumps(doc)}) + "\n")
        r = self.cron()
        self.assertIn(r.returncode, (0, 1), r.stderr)
        self.assertEqual(self.es.count("logs-*"), n + 1)
        self.assertEqual(os.listdir(os.path.join(self.work, "replay")), [])


if __name__ == "__main__":
    main()
