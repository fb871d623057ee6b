#!/usr/bin/env python3
"""Quality bar of sds-score on the IP-Insights tutorial's design (gen_logins.py), fixed seeds:
ROC AUC >= 0.985 against random-network addresses and >= 0.980 against same-country-other-ASN
addresses, TPR at 1% FPR >= 0.55 (random-network), and never below the per-user /16 novelty
baseline on the same split (AUC and TPR, every kind of generated address).

Scale: 500 users with the tutorial's 300 logins per user on average (the tutorial has 10,000
users and ~3M logins: same per-user behaviour, 1/20 of the users), 7 days to train, 3 to test;
default training options (dim 32, 5 epochs). The full-scale figures come from
tests/bench/score/bench_score.py.

The network table is the real ip-location-db ASN and country data (fetched once with npm into
the build folder, see netdata.py); without npm or network it falls back to netdata's synthetic
table and says so."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import gen_logins  # noqa: E402
import sds_test  # noqa: E402

SCORE = sds_test.tool("sds-score")
CACHE = os.path.join(sds_test.BIN_DIR, "score-cache")


class Quality(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.summary = gen_logins.generate(d, users=500, mean_logins=300, seed=7, cache=CACHE)
        sys.stderr.write(f"generated: {json.dumps(cls.summary)}\n")
        if cls.summary["network_source"] != "ip-location-db":
            sys.stderr.write("NOTE: ip-location-db not reachable through npm: synthetic network table used\n")
        cls.model = os.path.join(d, "m.model")
        r = sds_test.run([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", cls.model, "--seed", "1",
                          "--stats", os.path.join(d, "train.ndjson")], timeout=600)
        assert r.returncode == 0, r.stderr
        cls.train_stats = sds_test.stats_of(r.stderr)
        r = sds_test.run([SCORE, "eval", "--model", cls.model, "--networks", os.path.join(d, "networks.csv"),
                          "--seed", "3", "--stats", os.path.join(d, "test.ndjson")], timeout=600)
        assert r.returncode == 0, r.stderr
        cls.report = json.loads(r.stdout)
        cls.eval_stats = sds_test.stats_of(r.stderr)
        sys.stderr.write(f"eval: {json.dumps(cls.report, indent=1)}\n")

    def test_counts(self):
        self.assertConserved(self.train_stats)
        self.assertConserved(self.eval_stats)
        self.assertEqual(self.train_stats["pairs"], self.summary["train"])
        self.assertEqual(self.report["pairs"], self.summary["test"])

    def test_auc_against_random_networks(self):
        self.assertGreaterEqual(self.report["negatives"]["random_network"]["auc"], 0.985)

    def test_auc_against_same_country_other_asn(self):
        self.assertGreaterEqual(self.report["negatives"]["same_country_other_asn"]["auc"], 0.980)

    def test_tpr_at_1pct_fpr(self):
        self.assertGreaterEqual(self.report["negatives"]["random_network"]["tpr_at_1pct_fpr"], 0.55)

    def test_never_below_the_prefix16_baseline(self):
        for kind, m in self.report["negatives"].items():
            base = m["baseline_prefix16"]
            for key in ("auc", "tpr_at_1pct_fpr", "tpr_at_0.1pct_fpr"):
                self.assertGreaterEqual(m[key], base[key], f"{kind} {key}")

    def test_generated_pairs_really_differ(self):
        # A model that scored everything alike would sit at 0.5: check the figures are not trivially met.
        for kind, m in self.report["negatives"].items():
            self.assertGreater(m["n"], self.report["pairs"] * 0.9, kind)


if __name__ == "__main__":
    sds_test.main()
