#!/usr/bin/env python3
"""sds-score from the command line: train writes a model that scoring reads; records without an
entity or an address pass through unscored; malformed addresses are dead-lettered; corrupt or
foreign models and training on nothing are refused with exit 2; the model does not depend on the
thread count; --learn works without a model and --state carries history between runs; a failure
mid-stream leaves whole records on stdout; in == out + rejected + filtered always."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SCORE = sds_test.tool("sds-score")


def logins():
    lines = []
    for i in range(300):
        lines.append({"user": {"name": "alice"}, "source": {"ip": f"81.2.69.{i % 60}", "as": {"number": 3320},
                                                            "geo": {"country_iso_code": "DE"}}})
        lines.append({"user": {"name": "bob"}, "source": {"ip": f"24.1.{i % 4}.{i % 50}", "as": {"number": 7922},
                                                          "geo": {"country_iso_code": "US"}}})
    return "".join(json.dumps(l) + "\n" for l in lines)


class ScoreCli(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.model = os.path.join(cls.tmp.name, "m.model")
        r = sds_test.run([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", cls.model,
                          "--epochs", "3", "--dim", "16", "--stats"], stdin=logins())
        assert r.returncode == 0, r.stderr
        cls.train_stats = sds_test.stats_of(r.stderr)

    def test_train_stats(self):
        s = self.train_stats
        self.assertConserved(s)
        self.assertEqual(s["pairs"], 600)
        self.assertEqual(s["entities"], 2)

    def test_scores_own_network_low_and_other_network_high(self):
        recs = [{"user": {"name": "alice"}, "source": {"ip": "81.2.69.7", "as": {"number": 3320},
                                                        "geo": {"country_iso_code": "DE"}}},
                {"user": {"name": "alice"}, "source": {"ip": "24.1.2.3", "as": {"number": 7922},
                                                        "geo": {"country_iso_code": "US"}}},
                {"user": {"name": "carol"}, "source": {"ip": "24.1.2.2"}}]
        r = sds_test.run([SCORE, "--model", self.model, "--stats"], stdin="".join(json.dumps(x) + "\n" for x in recs))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = sds_test.ndjson(r.stdout)
        a, b, c = (o["sds"]["anomaly"] for o in out)
        self.assertEqual(a["reasons"], [])
        self.assertEqual(b["reasons"], ["address", "prefix24", "prefix16", "asn", "country"])
        self.assertEqual(c["reasons"], ["entity"])
        self.assertLess(a["score"], b["score"])
        self.assertGreater(out[1]["event"]["risk_score"], 90)
        self.assertLess(out[0]["event"]["risk_score"], 15)
        self.assertTrue(b["flagged"])
        self.assertFalse(a["flagged"])
        self.assertEqual(a["entity"], "alice")
        self.assertEqual(a["ip"], "81.2.69.7")
        self.assertTrue(a["model"].startswith("m.model@"))
        self.assertIn("raw", a)
        self.assertEqual(out[0]["source"]["ip"], "81.2.69.7")  # the record itself is untouched
        s = sds_test.stats_of(r.stderr)
        self.assertConserved(s)
        self.assertEqual((s["scored"], s["unscored"], s["flagged"]), (3, 0, 1))

    def test_unscored_pass_through_and_malformed_dead_lettered(self):
        text = ('{"user":{"name":"alice"}}\n'
                '{"source":{"ip":"81.2.69.7"}}\n'
                '{"user":{"name":"alice"},"source":{"ip":"ec2.amazonaws.com"}}\n'
                '{"user":{"name":"alice"},"source":{"ip":"81.2.69.300"}}\n')
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead.ndjson")
            r = sds_test.run([SCORE, "--model", self.model, "--stats", "--dead-letter", dead], stdin=text)
            self.assertEqual(r.returncode, 1)
            self.assertEqual(r.stdout.decode(), "".join(text.splitlines(True)[:3]))  # byte for byte
            with open(dead) as f:
                dl = [json.loads(l) for l in f]
        self.assertEqual(len(dl), 1)
        self.assertIn("malformed address", dl[0]["reason"])
        self.assertEqual(dl[0]["line"], 4)
        s = sds_test.stats_of(r.stderr)
        self.assertConserved(s)
        self.assertEqual((s["out"], s["rejected"], s["unscored"]), (3, 1, 3))

    def test_corrupt_and_foreign_models_are_refused(self):
        with open(self.model, "rb") as f:
            img = bytearray(f.read())
        with tempfile.TemporaryDirectory() as d:
            cases = {"flip": img[:], "short": img[:-100], "version": img[:], "text": bytearray(b"not a model\n" * 40)}
            cases["flip"][len(img) // 2] ^= 1
            cases["version"][8] = 2
            for name, data in cases.items():
                p = os.path.join(d, name)
                with open(p, "wb") as f:
                    f.write(data)
                r = sds_test.run([SCORE, "--model", p], stdin='{"user":{"name":"a"},"source":{"ip":"1.2.3.4"}}\n')
                self.assertEqual(r.returncode, 2, name)
                err = r.stderr.decode()
                self.assertTrue(err.startswith("sds-score: error: "), err)
                self.assertIn(name if name in ("version",) else "model", err)
                self.assertEqual(r.stdout, b"")
            r = sds_test.run([SCORE, "--model", os.path.join(d, "missing")], stdin="")
            self.assertEqual(r.returncode, 2)

    def test_training_on_nothing_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "m")
            r = sds_test.run([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", out],
                             stdin='{"user":{"name":"a"}}\n{"x":1}\n')
            self.assertEqual(r.returncode, 2)
            self.assertIn("no usable", r.stderr.decode())
            self.assertFalse(os.path.exists(out))

    def test_model_is_independent_of_threads(self):
        with tempfile.TemporaryDirectory() as d:
            imgs = []
            for threads in ("1", "2", "5"):
                p = os.path.join(d, f"m{threads}")
                r = sds_test.run([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", p, "--seed", "4",
                                  "--threads", threads], stdin=logins())
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(p, "rb") as f:
                    imgs.append(f.read())
            self.assertEqual(imgs[0], imgs[1])
            self.assertEqual(imgs[0], imgs[2])

    def test_long_tail_entities_share_hashed_vectors(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "m")
            r = sds_test.run([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", p, "--max-entities", "1",
                              "--stats"], stdin=logins())
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sds_test.stats_of(r.stderr)["entities"], 1)
            recs = [{"user": {"name": u}, "source": {"ip": ip}} for u, ip in
                    (("alice", "81.2.69.7"), ("bob", "24.1.2.2"), ("bob", "81.2.69.7"))]
            r = sds_test.run([SCORE, "--model", p], stdin="".join(json.dumps(x) + "\n" for x in recs))
            self.assertEqual(r.returncode, 0, r.stderr)
            a = [x["sds"]["anomaly"] for x in sds_test.ndjson(r.stdout)]
            # Both are known entities (one exact, one hashed); each is judged by its own history.
            self.assertEqual(a[0]["reasons"], [])
            self.assertEqual(a[1]["reasons"], [])
            self.assertEqual(a[2]["reasons"], ["address", "prefix24", "prefix16"])

    def test_usage_errors(self):
        self.assertEqual(sds_test.run([SCORE], stdin="").returncode, 2)  # no --model, no --learn
        self.assertEqual(sds_test.run([SCORE, "train", "-o", "/tmp/x"], stdin="").returncode, 2)
        self.assertEqual(sds_test.run([SCORE, "--model", self.model, "--state", "/tmp/s"], stdin="").returncode, 2)

    def test_learn_without_model_and_state_between_runs(self):
        day1 = ('{"user":{"name":"alice"},"source":{"ip":"81.2.69.7"}}\n'
                '{"user":{"name":"alice"},"source":{"ip":"81.2.69.7"}}\n')
        day2 = ('{"user":{"name":"alice"},"source":{"ip":"81.2.69.7"}}\n'
                '{"user":{"name":"alice"},"source":{"ip":"81.2.69.9"}}\n'
                '{"user":{"name":"alice"},"source":{"ip":"5.6.7.8"}}\n')
        with tempfile.TemporaryDirectory() as d:
            state = os.path.join(d, "s.state")
            args = [SCORE, "--learn", "--state", state, "--entity", "user.name", "--ip", "source.ip"]
            r1 = sds_test.run(args, stdin=day1)
            self.assertEqual(r1.returncode, 0, r1.stderr)
            o1 = [x["sds"]["anomaly"] for x in sds_test.ndjson(r1.stdout)]
            # Nobody has been seen yet: a new entity at an address new to everybody.
            self.assertEqual(o1[0]["reasons"], ["entity", "address", "prefix24", "prefix16"])
            self.assertEqual(o1[1]["reasons"], [])
            self.assertEqual(o1[0]["model"], "online")
            self.assertNotIn("raw", o1[0])
            r2 = sds_test.run(args, stdin=day2)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            o2 = [x["sds"]["anomaly"] for x in sds_test.ndjson(r2.stdout)]
            self.assertEqual(o2[0]["reasons"], [])
            self.assertEqual(o2[1]["reasons"], ["address"])
            self.assertEqual(o2[2]["reasons"], ["address", "prefix24", "prefix16"])
            self.assertLess(o2[1]["score"], o2[2]["score"])
            with open(state, "r+b") as f:
                f.seek(40)
                f.write(b"\xff")
            r3 = sds_test.run(args, stdin=day2)
            self.assertEqual(r3.returncode, 2)
            self.assertIn("state", r3.stderr.decode())

    def test_impossible_travel(self):
        recs = [("2024-01-01T10:00:00Z", 52.52, 13.40), ("2024-01-01T10:30:00Z", 52.40, 13.06),
                ("2024-01-01T11:00:00Z", 40.71, -74.0)]
        text = "".join(json.dumps({"@timestamp": t, "user": {"name": "alice"},
                                   "source": {"ip": "81.2.69.7", "geo": {"location": {"lat": la, "lon": lo}}}}) + "\n"
                       for t, la, lo in recs)
        r = sds_test.run([SCORE, "--learn", "--entity", "user.name", "--ip", "source.ip"], stdin=text)
        self.assertEqual(r.returncode, 0, r.stderr)
        reasons = [x["sds"]["anomaly"]["reasons"] for x in sds_test.ndjson(r.stdout)]
        self.assertEqual(reasons, [["entity", "address", "prefix24", "prefix16"], [], ["impossible_travel"]])

    def test_dead_letter_failure_mid_stream_leaves_whole_records(self):
        # Scoring writes a record's head before it scores it (the next record's table loads
        # overlap its own); a failure in between (here the dead-letter file filling up while
        # the next, invalid line is rejected) must still leave whole records on stdout.
        good = json.dumps({"user": {"name": "alice"}, "source": {"ip": "81.2.69.7"}, "event": {"action": "x"}})
        text = "".join(good + "\n" + "{bad json " + "x" * 300 + "\n" for _ in range(400))
        r = sds_test.run([SCORE, "--model", self.model, "--dead-letter", "/dev/full"], stdin=text)
        self.assertEqual(r.returncode, 3, r.stderr)
        out = r.stdout.decode()
        self.assertTrue(out.endswith("\n"))
        recs = sds_test.ndjson(r.stdout)
        self.assertGreater(len(recs), 0)
        for x in recs:
            self.assertIn("risk_score", x["event"])
            self.assertIn("anomaly", x["sds"])


if __name__ == "__main__":
    sds_test.main()
