#!/usr/bin/env python3
"""sds-fetch, local sources: Unix manners (exit codes, pipes, signals), conservation, real data
counts, bounded memory on a 200 MB single-line CloudTrail file, config/env options."""
import gzip
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402
from sds_test import run, stats_of, tool  # noqa: E402

FETCH = tool("sds-fetch")
CT = os.path.join(sds_test.DATA_DIR, "cloudtrail")


class FetchCli(sds_test.ToolTest):
    def test_usage_error_exits_2(self):
        r = run([FETCH, "--no-such-option"])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"sds-fetch: error:", r.stderr)

    def test_help_and_version_exit_0(self):
        self.assertEqual(run([FETCH, "--help"]).returncode, 0)
        r = run([FETCH, "--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout.decode(), r"^sds-fetch \d+\.\d+\.\d+\n.*simdjson")

    def test_missing_only_input_exits_3_with_one_line(self):
        r = run([FETCH, "/nonexistent/file.json"])
        self.assertEqual(r.returncode, 3)
        errors = [l for l in r.stderr.decode().splitlines() if l.startswith("sds-fetch: error:")]
        self.assertEqual(errors, ["sds-fetch: error: cannot open: /nonexistent/file.json (No such file or directory)"])

    def test_missing_one_of_several_inputs_exits_1_rest_read(self):
        good = os.path.join(CT, "otrf", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead")
            r = run([FETCH, "--stats", "--dead-letter", dead, "/nonexistent.json", good])
            self.assertEqual(r.returncode, 1)
            self.assertEqual(len(r.stdout.splitlines()), 103)
            dl = [json.loads(l) for l in open(dead)]
            self.assertEqual([d["source"] for d in dl], ["/nonexistent.json"])
            self.assertConserved(stats_of(r.stderr))

    def test_dev_full_exits_3(self):
        good = os.path.join(CT, "otrf", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
        with open("/dev/full", "wb") as full:
            r = subprocess.run([FETCH, good], stdout=full, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"cannot write: stdout (No space left on device)", r.stderr)
        r = run([FETCH, good, "-o", "/dev/full"])
        self.assertEqual(r.returncode, 3)

    def test_head_closes_pipe_quietly(self):
        with tempfile.TemporaryDirectory() as d:
            big = os.path.join(d, "big.ndjson")
            with open(big, "w") as f:
                for i in range(300000):
                    f.write('{"eventID":"%d","eventName":"GetObject","pad":"%s"}\n' % (i, "x" * 64))
            r = subprocess.run(["bash", "-c", f'set -o pipefail; "{FETCH}" "{big}" | head -1; echo "rc=${{PIPESTATUS[0]}}" >&2'],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(r.stdout.count(b"\n"), 1)
            self.assertEqual(r.stderr, b"rc=0\n")

    def test_garbage_mixed_into_good_input_is_dead_lettered(self):
        lines = []
        good = bad = 0
        for i in range(500):
            if i % 7 == 3:
                lines.append(b"garbage line %d" % i)
                bad += 1
            elif i % 11 == 5:
                lines.append(b'{"broken": %d' % i)
                bad += 1
            elif i % 13 == 6:
                lines.append(b'{"utf8":"\xc3\x28"}')
                bad += 1
            else:
                lines.append(b'{"n":%d}' % i)
                good += 1
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead")
            r = run([FETCH, "--stats", "--dead-letter", dead], stdin=b"\n".join(lines) + b"\n")
            self.assertEqual(r.returncode, 1)
            out = sds_test.ndjson(r.stdout)
            self.assertEqual(len(out), good)
            dl = [json.loads(l) for l in open(dead)]
            self.assertEqual(len(dl), bad)
            for e in dl:
                self.assertEqual(set(e), {"@timestamp", "tool", "reason", "source", "line", "record"})
                self.assertEqual(lines[e["line"] - 1].decode(errors="replace"), e["record"])
            s = stats_of(r.stderr)
            self.assertEqual((s["in"], s["out"], s["rejected"], s["filtered"]), (500, good, bad, 0))

    def test_real_cloudtrail_files_give_their_record_counts(self):
        strat = os.path.join(CT, "stratus-red-team")
        total = 0
        for name in sorted(os.listdir(strat)):
            if not name.endswith(".json"):
                continue
            want = len(json.load(open(os.path.join(strat, name))))
            r = run([FETCH, os.path.join(strat, name)])
            self.assertEqual(r.returncode, 0, name)
            self.assertEqual(len(r.stdout.splitlines()), want, name)
            total += want
        self.assertEqual(total, 310)
        r = run([FETCH, "--stats", "--include", "*.json", os.path.join(CT, "otrf")])
        self.assertEqual(len(r.stdout.splitlines()), 103)
        # The AWS guide's examples: 8 valid records, and example-6 is invalid JSON in the guide.
        with tempfile.TemporaryDirectory() as d:
            dead = os.path.join(d, "dead")
            r = run([FETCH, "--stats", "--include", "*.json", "--dead-letter", dead, os.path.join(CT, "aws-docs")])
            self.assertEqual(r.returncode, 1)
            self.assertEqual(len(r.stdout.splitlines()), 8)
            dl = [json.loads(l) for l in open(dead)]
            self.assertEqual(len(dl), 1)
            self.assertTrue(dl[0]["source"].endswith("example-6.json"))
        # The bundled samples: gzipped Records files in CloudTrail's layout, one digest skipped.
        r = run([FETCH, "--stats", os.path.join(sds_test.SOURCE_DIR, "examples", "data", "cloudtrail")])
        s = stats_of(r.stderr)
        self.assertEqual((s["out"], s["filtered"], s["rejected"]), (413, 1, 0))
        self.assertConserved(s)

    def test_folder_read_recursively_in_sorted_order(self):
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "b", "c"))
            for p, v in (("z.json", 1), ("b/c/y.json", 2), ("a.json", 3), ("b/x.json.gz", 4)):
                data = ('{"v":%d}\n' % v).encode()
                if p.endswith(".gz"):
                    data = gzip.compress(data)
                open(os.path.join(d, p), "wb").write(data)
            r = run([FETCH, d])
            self.assertEqual([x["v"] for x in sds_test.ndjson(r.stdout)], [3, 2, 4, 1])
            r = run([FETCH, "--exclude", "b/*", d])
            self.assertEqual([x["v"] for x in sds_test.ndjson(r.stdout)], [3, 1])

    def test_digest_files_are_filtered_not_rejected(self):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "111_CloudTrail-Digest_us-east-1_x.json.gz")
            open(p, "wb").write(gzip.compress(b'{"digestStartTime":"x"}'))
            r = run([FETCH, "--stats", p])
            s = stats_of(r.stderr)
            self.assertEqual((r.returncode, s["in"], s["filtered"], s["out"]), (0, 1, 1, 0))

    def test_corrupt_gzip_keeps_good_records_and_dead_letters_the_file(self):
        body = b"".join(b'{"n":%d,"pad":"%s"}\n' % (i, os.urandom(40).hex().encode()) for i in range(20000))
        gz = bytearray(gzip.compress(body))
        gz[len(gz) // 2] ^= 0xFF
        gz[len(gz) // 2 + 1] ^= 0x55
        with tempfile.TemporaryDirectory() as d:
            bad, good, trunc = (os.path.join(d, n) for n in ("bad.json.gz", "good.json", "trunc.json.gz"))
            open(bad, "wb").write(bytes(gz))
            open(trunc, "wb").write(gzip.compress(body)[:-5000])
            open(good, "wb").write(b'{"ok":1}\n')
            dead = os.path.join(d, "dead")
            r = run([FETCH, "--stats", "--dead-letter", dead, bad, good, trunc])
            self.assertEqual(r.returncode, 1)
            out = sds_test.ndjson(r.stdout)
            self.assertIn({"ok": 1}, out)
            self.assertGreater(len(out), 1)
            dl = [json.loads(l) for l in open(dead)]
            sources = {e["source"] for e in dl}
            self.assertIn(bad, sources)
            self.assertIn(trunc, sources)
            self.assertTrue(any("gzip" in e["reason"] for e in dl), dl)
            self.assertConserved(stats_of(r.stderr))

    def test_records_file_of_200mb_on_one_line_runs_in_bounded_memory(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "big.json")
            rec = json.dumps({"eventVersion": "1.08", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
                              "requestParameters": {"bucketName": "b", "key": "k" * 200},
                              "sourceIPAddress": "203.0.113.7"}, separators=(",", ":")).encode()
            n = 200 * 1024 * 1024 // (len(rec) + 1)
            with open(path, "wb") as f:
                f.write(b'{"Records":[')
                chunk = b",".join([rec] * 1000)
                for i in range(n // 1000):
                    if i:
                        f.write(b",")
                    f.write(chunk)
                f.write(b"]}")
            self.assertGreater(os.path.getsize(path), 190 * 1024 * 1024)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            r = subprocess.run([FETCH, "--stats", path], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            self.assertEqual(r.returncode, 0)
            self.assertEqual(stats_of(r.stderr)["out"], (n // 1000) * 1000)
            if peak_kb > before:  # ru_maxrss of children is the max over all children so far
                self.assertLess(peak_kb, 64 * 1024, f"peak RSS {peak_kb} KiB")

    def test_options_from_config_file_and_environment(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "fetch.toml")
            open(cfg, "w").write("annotate = true\n")
            r = run([FETCH, "--config", cfg], stdin=b'{"a":1}\n')
            self.assertEqual(sds_test.ndjson(r.stdout), [{"@source": {"uri": "stdin", "line": 1}, "a": 1}])
            r = run([FETCH], stdin=b'{"a":1}\n', env={"SDS_ANNOTATE": "1"})
            self.assertEqual(sds_test.ndjson(r.stdout), [{"@source": {"uri": "stdin", "line": 1}, "a": 1}])

    def test_sigterm_flushes_and_exits_130(self):
        p = subprocess.Popen([FETCH, "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(b'{"a":1}\n')
        p.stdin.flush()
        time.sleep(0.3)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=10)
        self.assertEqual(p.returncode, 130)
        self.assertEqual(out, b'{"a":1}\n')

    def test_annotated_uri_is_absolute_file_uri(self):
        path = os.path.join(CT, "otrf", "ec2_proxy_s3_exfiltration_2020-09-14011940.json")
        r = run([FETCH, "--annotate", os.path.relpath(path)])
        first = sds_test.ndjson(r.stdout)[0]
        self.assertEqual(first["@source"], {"uri": "file://" + os.path.realpath(path), "line": 1})


if __name__ == "__main__":
    sds_test.main()
