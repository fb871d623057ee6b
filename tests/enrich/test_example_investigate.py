#!/usr/bin/env python3
"""examples/investigate-ioc.sh runs on the bundled sample and finds exactly the contacts of the
last 24 h with an indicator (an older contact of the same host is left out)."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402


class InvestigateExample(sds_test.ToolTest):
    def test_walkthrough_on_bundled_sample(self):
        if not shutil.which("jq"):
            self.skipTest("jq not installed")
        script = os.path.join(sds_test.SOURCE_DIR, "examples", "investigate-ioc.sh")
        r = sds_test.run(["bash", script, sds_test.BIN_DIR])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        summary = out.split("== 3.")[1]
        self.assertIn("build-07\t113.10.246.30\t1 contact(s)", summary)
        self.assertIn("laptop-jane\tclaudfront.net\t1 contact(s)", summary)
        self.assertIn("laptop-jane\twww.webserver.dynssl.com\t1 contact(s)", summary)
        self.assertNotIn("web-01", summary)
        self.assertIn('"records_matched":5', out)


if __name__ == "__main__":
    sds_test.main()
