#!/usr/bin/env python3
"""sds-score's detections: Sigma rules and the built-in pack on raw and normalised CloudTrail give
the same alerts; --alerts-only keeps the counts conserved; bad rule paths are usage errors."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402
from sds_test import run, stats_of, tool  # noqa: E402

SIGMA = os.path.join(sds_test.DATA_DIR, "sigma", "rules-cloud-aws-cloudtrail")
STRATUS = os.path.join(sds_test.DATA_DIR, "cloudtrail", "stratus-red-team")


def raw_records():
    files = sorted(os.path.join(STRATUS, f) for f in os.listdir(STRATUS) if f.endswith(".json"))
    r = run([tool("sds-fetch")] + files)
    assert r.returncode == 0, r.stderr
    return r.stdout


def alerts_by_event(stdout, id_of):
    out = {}
    for rec in sds_test.ndjson(stdout):
        out[id_of(rec)] = sorted(a["rule"]["id"] for a in rec.get("sds", {}).get("alerts", []))
    return out


class Detect(sds_test.ToolTest):
    def test_raw_and_normalised_records_raise_the_same_alerts(self):
        raw = raw_records()
        args = ["--sigma", SIGMA, "--builtin-rules", "--stats"]
        r1 = run([tool("sds-score")] + args, stdin=raw)
        self.assertEqual(r1.returncode, 0, r1.stderr)
        norm = run([tool("sds-normalize")], stdin=raw)
        self.assertEqual(norm.returncode, 0, norm.stderr)
        r2 = run([tool("sds-score")] + args, stdin=norm.stdout)
        self.assertEqual(r2.returncode, 0, r2.stderr)
        a1 = alerts_by_event(r1.stdout, lambda x: x["eventID"])
        a2 = alerts_by_event(r2.stdout, lambda x: x["event"]["id"])
        self.assertEqual(set(a1), set(a2))
        self.assertEqual(a1, a2)
        s1, s2 = stats_of(r1.stderr), stats_of(r2.stderr)
        self.assertEqual(s1["alerts"], s2["alerts"])
        self.assertGreater(s1["alerts"], 50)
        self.assertEqual((s1["rules"], s1["rules_refused"]), (64, 0))
        self.assertConserved(s1)

    def test_alert_fields_and_remediation(self):
        path = os.path.join(STRATUS, "aws.exfiltration.ec2-security-group-open-port-22-ingress.json")
        r = run([tool("sds-fetch"), path])
        s = run([tool("sds-score"), "--builtin-rules"], stdin=r.stdout)
        rec = sds_test.ndjson(s.stdout)[0]
        self.assertEqual(rec["event"]["kind"], "alert")
        self.assertEqual(rec["rule"]["ruleset"], "sds-builtin")
        self.assertEqual(rec["event"]["risk_score"], 73)
        self.assertIn("T1562.007", rec["threat"]["technique"]["id"])
        self.assertTrue(rec["sds"]["response"]["command"].startswith("aws ec2 revoke-security-group-ingress"))
        # Port 22 allowed: no alert.
        s = run([tool("sds-score"), "--builtin-rules", "--sg-allowed-ports", "22,80"], stdin=r.stdout)
        self.assertNotIn("sds", sds_test.ndjson(s.stdout)[0])

    def test_alerts_only_filters_and_conserves(self):
        raw = raw_records()
        r = run([tool("sds-score"), "--builtin-rules", "--alerts-only", "--stats"], stdin=raw)
        s = stats_of(r.stderr)
        self.assertConserved(s)
        self.assertEqual(s["out"], s["alerts"])
        self.assertEqual(s["out"], len(r.stdout.splitlines()))
        self.assertGreater(s["filtered"], 250)

    def test_bad_rules_are_usage_errors(self):
        r = run([tool("sds-score"), "--sigma", "/nonexistent/rules"], stdin=b"{}\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"cannot open rules", r.stderr)
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.yml")
            open(bad, "w").write("title: [unclosed\n  x: y\n")
            r = run([tool("sds-score"), "--sigma", bad], stdin=b"{}\n")
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"bad.yml:", r.stderr)
            agg = os.path.join(d, "agg.yml")
            open(agg, "w").write("title: a\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n"
                                 "  s: {eventName: X}\n  condition: s | count() > 3\n")
            r = run([tool("sds-score"), "--sigma", agg, "--builtin-rules", "--stats"], stdin=b"{}\n")
            self.assertEqual(r.returncode, 0)
            self.assertIn(b"rule refused: " + agg.encode(), r.stderr)
            self.assertEqual(stats_of(r.stderr)["rules_refused"], 1)

    def test_ci_gate_example_fails_on_high_severity(self):
        script = os.path.join(sds_test.SOURCE_DIR, "examples", "ci-gate.sh")
        env = dict(os.environ, SDS_BIN=sds_test.BIN_DIR)
        bad = subprocess.run([script, os.path.join(STRATUS, "aws.defense-evasion.cloudtrail-stop.json")],
                             env=env, capture_output=True)
        self.assertEqual(bad.returncode, 1, bad.stderr)
        self.assertIn(b"CloudTrail logging stopped", bad.stdout)
        good = subprocess.run([script, os.path.join(STRATUS, "aws.discovery.ec2-download-user-data.json")],
                              env=env, capture_output=True)
        self.assertEqual(good.returncode, 0, (good.stdout + good.stderr)[-2000:])


if __name__ == "__main__":
    sds_test.main()
