#!/usr/bin/env python3
"""sds-score on real CloudTrail (tests/data/cloudtrail: Stratus Red Team detonations, the OTRF
EC2-proxy S3 exfiltration, the AWS documentation examples), userIdentity.arn x sourceIPAddress.

Baseline sessions are the IAM users working from their own addresses; the model is trained on
the first half (in time) of every user's events, and the second half is scored. Attack
sessions are the stolen EC2 instance credentials of the detonations (assumed-role sessions named
after an instance, used by the operator: Stratus ec2-steal-instance-credentials and OTRF's
MordorNginxStack role). Every attack session must score above every baseline session (but a
loopback one), with the reasons saying why. In this data the attackers work from the operators'
own addresses, so what sets the attack sessions apart is a principal never seen before. AWS service calls (sourceIPAddress "ec2.amazonaws.com") pass through
unscored, and addresses the data sets anonymised with leading zeros ("253.252.51.07") are read
as decimal, not dead-lettered."""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SCORE = sds_test.tool("sds-score")
FETCH = sds_test.tool("sds-fetch")
ATTACK = re.compile(r":assumed-role/[^/]+/i-[0-9a-fA-F]+$")


def arn(r):
    return (r.get("userIdentity") or {}).get("arn") or ""


class CloudTrail(sds_test.ToolTest):
    def test_attack_sessions_score_above_baseline_sessions(self):
        r = sds_test.run([FETCH, os.path.join(sds_test.DATA_DIR, "cloudtrail")])
        self.assertIn(r.returncode, (0, 1), r.stderr)  # aws-docs/example-6.json is invalid on purpose
        records = sds_test.ndjson(r.stdout)
        users = [x for x in records if ":user/" in arn(x) and x.get("sourceIPAddress")]
        attacks = [x for x in records if ATTACK.search(arn(x))]
        self.assertGreater(len(attacks), 5)
        by_user = {}
        for x in sorted(users, key=lambda x: x.get("eventTime", "")):
            by_user.setdefault(arn(x), []).append(x)
        train, held = [], []
        for evs in by_user.values():
            half = (len(evs) + 1) // 2
            train += evs[:half]
            held += evs[half:]
        self.assertGreater(len(held), 50)
        with tempfile.TemporaryDirectory() as d:
            model = os.path.join(d, "ct.model")
            text = "".join(json.dumps(x) + "\n" for x in train)
            r = sds_test.run([SCORE, "train", "--entity", "userIdentity.arn", "--ip", "sourceIPAddress", "-o", model,
                              "--stats"], stdin=text)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertConserved(sds_test.stats_of(r.stderr))
            text = "".join(json.dumps(x) + "\n" for x in held + attacks)
            r = sds_test.run([SCORE, "--model", model, "--stats"], stdin=text)
            self.assertEqual(r.returncode, 0, r.stderr)
            s = sds_test.stats_of(r.stderr)
            self.assertConserved(s)
            out = sds_test.ndjson(r.stdout)
        self.assertEqual(len(out), len(held) + len(attacks))
        sessions = {}
        for x in out:
            a = x["sds"]["anomaly"]
            key = ("attack" if ATTACK.search(arn(x)) else "baseline", a["entity"], a["ip"])
            sessions.setdefault(key, []).append(a)
        # The AWS docs example calls from 127.0.0.1 (the host itself): new for Alice, so rightly
        # scored as new (address, /24, /16), but a loopback call is no network session: left out.
        base = {k: sum(a["score"] for a in v) / len(v) for k, v in sessions.items()
                if k[0] == "baseline" and not k[2].startswith("127.")}
        att = {k: sum(a["score"] for a in v) / len(v) for k, v in sessions.items() if k[0] == "attack"}
        for k in sorted(base) + sorted(att):
            sys.stderr.write(f"  {k[0]} {base.get(k, att.get(k)):.3f} {k[1]} {k[2]} {sessions[k][0]['reasons']}\n")
        sys.stderr.write(f"baseline sessions {len(base)}: max mean score {max(base.values()):.3f}; "
                         f"attack sessions {len(att)}: min mean score {min(att.values()):.3f}\n")
        self.assertGreaterEqual(len(att), 2)
        self.assertGreater(min(att.values()), max(base.values()))
        for k, v in sessions.items():
            if k[0] == "attack":
                self.assertIn("entity", v[0]["reasons"], k)

    def test_service_addresses_pass_unscored(self):
        rec = {"userIdentity": {"arn": "arn:aws:iam::1:user/a"}, "sourceIPAddress": "ec2.amazonaws.com"}
        rec2 = {"userIdentity": {"arn": "arn:aws:iam::1:user/a"}, "sourceIPAddress": "253.252.51.07"}
        r = sds_test.run([SCORE, "--learn", "--entity", "userIdentity.arn", "--ip", "sourceIPAddress", "--stats"],
                         stdin=json.dumps(rec) + "\n" + json.dumps(rec2) + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = sds_test.ndjson(r.stdout)
        self.assertNotIn("sds", out[0])
        self.assertEqual(out[1]["sds"]["anomaly"]["ip"], "253.252.51.7")
        s = sds_test.stats_of(r.stderr)
        self.assertEqual((s["scored"], s["unscored"]), (1, 1))


if __name__ == "__main__":
    sds_test.main()
