#!/usr/bin/env python3
"""sds-normalize as a Unix filter: conservation (in == out + rejected + filtered) on a corpus that
mixes every format with garbage, truncated lines and wrong-typed fields; deterministic output;
exit codes; --list-formats; forced formats."""
import glob
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

TOOL = sds_test.tool("sds-normalize")
GOLDEN = os.path.join(sds_test.SOURCE_DIR, "tests", "golden", "sds-normalize")
FIXED = ["--ingested-time", "2025-01-01T00:00:00Z"]


def corpus():
    """Every golden input line (all formats), then damaged copies of them, then garbage."""
    good = []
    for path in sorted(glob.glob(os.path.join(GOLDEN, "*", "input.ndjson"))):
        with open(path, "rb") as f:
            good += [l for l in f.read().split(b"\n") if l.strip()]
    rng = random.Random(7)
    lines = list(good)
    for l in good:
        lines.append(l[: rng.randrange(1, len(l))])                      # truncated
    for l in good[:40]:
        try:
            d = json.loads(l)
        except ValueError:
            continue
        if not isinstance(d, dict):
            continue
        for k in list(d)[:3]:                                             # wrong-typed fields
            e = dict(d)
            e[k] = rng.choice([12345, None, [], {"x": 1}, True, "", "\u0000"])
            lines.append(json.dumps(e).encode())
    lines += [b"garbage", b"\xff\xfe\x00 not utf-8", b"[]", b"{}", b'{"message":""}', b'{"message":42}',
              b'{"message":"- - - - - - -"}', b'{"message":"{\\"eventVersion\\":1}"}', b"null", b'"just a string"',
              b'{"eventVersion":"1.0","eventSource":"x","eventTime":12}', b'{"webaclId":"arn:x","httpRequest":{},"timestamp":"x"}',
              b'{"event_type":"alert","timestamp":[]}', b"x" * 5000]
    rng.shuffle(lines)
    return b"".join(l + b"\n" for l in lines), len(lines)


class NormalizeCli(sds_test.ToolTest):
    def run_tool(self, args, stdin):
        with tempfile.NamedTemporaryFile() as dl:
            p = sds_test.run([TOOL, "--stats", "--dead-letter", dl.name, *FIXED, *args], stdin=stdin)
            with open(dl.name, "rb") as f:
                dead = [json.loads(l) for l in f.read().decode().splitlines()]
        return p, dead

    def test_conservation_on_a_mixed_damaged_corpus(self):
        data, n = corpus()
        p, dead = self.run_tool(["--max-record-bytes", "4096"], data)
        stats = sds_test.stats_of(p.stderr)
        self.assertConserved(stats)
        # A Security Hub event with N findings counts N records in (and N out), as fan-out is counted.
        fanned = sum(1 for d in sds_test.ndjson(p.stdout) if d["event"]["dataset"] == "aws.securityhub_findings")
        self.assertGreater(fanned, 0)
        self.assertGreaterEqual(stats["in"], n)
        self.assertLessEqual(stats["in"], n + fanned)
        out = sds_test.ndjson(p.stdout)
        self.assertEqual(len(out), stats["out"])
        self.assertEqual(len(dead), stats["rejected"])
        self.assertEqual(p.returncode, 1)
        self.assertGreater(stats["out"], 100)
        self.assertGreater(stats["rejected"], 50)
        for d in out:
            self.assertIn("@timestamp", d)
            self.assertRegex(d["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertTrue(d["event"]["id"])
            self.assertTrue(d["event"]["dataset"])
        for d in dead:
            self.assertTrue(d["reason"])
            self.assertEqual(d["tool"], "sds-normalize")

    def test_same_input_gives_identical_output_and_ids(self):
        data, _ = corpus()
        a, _ = self.run_tool([], data)
        b, _ = self.run_tool([], gzip.compress(data))
        self.assertEqual(a.stdout, b.stdout)

    def test_clean_input_exits_0_and_closed_pipe_is_quiet(self):
        with open(os.path.join(GOLDEN, "cloudtrail-stratus", "input.ndjson"), "rb") as f:
            data = f.read()
        p, dead = self.run_tool([], data)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(dead, [])
        p = subprocess.run(f"{TOOL} {' '.join(FIXED)} | head -1", shell=True, input=data * 200, capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(p.stderr, b"")
        self.assertEqual(len(p.stdout.splitlines()), 1)

    def test_list_formats_and_usage_errors(self):
        p = sds_test.run([TOOL, "--list-formats"])
        self.assertEqual(p.returncode, 0)
        names = [l.split()[0] for l in p.stdout.decode().splitlines()]
        for n in ("cloudtrail", "waf", "suricata", "alb", "vpcflow", "squid", "nginx", "apache"):
            self.assertIn(n, names)
        self.assertEqual(sds_test.run([TOOL, "--format", "nope"], stdin=b"").returncode, 2)
        self.assertEqual(sds_test.run([TOOL, "--ingested-time", "soon"], stdin=b"").returncode, 2)
        self.assertEqual(sds_test.run([TOOL, "/nonexistent/file"]).returncode, 3)

    def test_forced_format_rejects_other_records_with_a_reason(self):
        with open(os.path.join(GOLDEN, "waf-aws-docs", "input.ndjson"), "rb") as f:
            waf = f.read()
        p, dead = self.run_tool(["--format", "cloudtrail"], waf)
        self.assertEqual(sds_test.stats_of(p.stderr)["out"], 0)
        self.assertTrue(all(d["reason"] == "cloudtrail: no eventTime" for d in dead), dead[:2])
        p, dead = self.run_tool(["--format", "waf"], waf)
        self.assertEqual(p.returncode, 0)


if __name__ == "__main__":
    sds_test.main()
