#!/usr/bin/env python3
"""sds-score train on a 2 GB stream runs in bounded memory (issue #7, robustness line).

About 2 GB of generated login records go through a pipe into `sds-score train`. Every block of
the stream has entities and networks of its own, so the stream holds millions of distinct
(entity, address) pairs, entities and history keys: a trainer that kept them all would need
several times the memory asserted here. The writer is a tight loop over one pre-built block
whose block number is substituted per copy (no per-record Python), so the tool, not the
generator, sets the pace. Peak RSS of sds-score comes from wait4's rusage; the records are all
counted (in == out), the reservoir kept exactly --max-pairs distinct pairs of the many offered,
and the model it wrote scores records.
"""
import json
import os
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

SCORE = sds_test.tool("sds-score")

STREAM_BYTES = 2 * 1024 ** 3
RECORDS_PER_BLOCK = 4096
MAX_PAIRS = 200_000
RSS_BOUND_MB = 512  # a quarter of the input; the bounded trainer needs well under half of this


def block_template():
    """One block of records; BLKNO in user names and addresses becomes the block number."""
    agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
    lines = []
    for i in range(RECORDS_PER_BLOCK):
        rec = {"@timestamp": f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z",
               "event": {"action": "ConsoleLogin", "outcome": "success"},
               "user": {"name": f"user-BLKNO-{i % 512}"},
               "source": {"ip": f"10.BLKNO.{(i * 7) % 256}.{1 + i % 250}",
                          "as": {"number": 64512 + i % 100}, "geo": {"country_iso_code": "DE"}},
               "user_agent": {"original": agent}}
        lines.append(json.dumps(rec, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def write_stream(pipe, total, counter):
    """Writes blocks until `total` bytes; counts records in counter[0]."""
    tpl = block_template()
    written = n = 0
    try:
        while written < total:
            # The block number lands in the second octet (0-255) and in the user names.
            blk = tpl.replace(b"user-BLKNO", b"user-%d" % n).replace(b"BLKNO", b"%d" % (n % 256))
            pipe.write(blk)
            written += len(blk)
            counter[0] += RECORDS_PER_BLOCK
            n += 1
    finally:
        pipe.close()


class TrainStream(sds_test.ToolTest):
    def test_two_gigabytes_in_bounded_memory(self):
        with tempfile.TemporaryDirectory() as tmp:
            model = os.path.join(tmp, "m.model")
            p = subprocess.Popen([SCORE, "train", "--entity", "user.name", "--ip", "source.ip", "-o", model,
                                  "--max-pairs", str(MAX_PAIRS), "--epochs", "1", "--dim", "8", "--stats"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            counter = [0]
            writer = threading.Thread(target=write_stream, args=(p.stdin, STREAM_BYTES, counter))
            writer.start()
            err = []
            reader = threading.Thread(target=lambda: err.append(p.stderr.read()))
            reader.start()
            _, status, ru = os.wait4(p.pid, 0)
            writer.join()
            reader.join()
            p.returncode = os.waitstatus_to_exitcode(status)
            stderr = err[0]
            self.assertEqual(p.returncode, 0, stderr.decode(errors="replace")[-2000:])
            rss_mb = ru.ru_maxrss / 1024
            s = sds_test.stats_of(stderr)
            records = counter[0]
            print(f"{records} records ({STREAM_BYTES / 1024 ** 3:.1f} GB), {s['offered_pairs']} distinct pairs offered, "
                  f"{s['distinct_pairs']} kept; peak RSS {rss_mb:.0f} MB", file=sys.stderr)
            self.assertConserved(s)
            self.assertEqual(s["in"], records)
            self.assertEqual(s["out"], records)
            self.assertEqual(s["pairs"], records)
            self.assertEqual(s["distinct_pairs"], MAX_PAIRS)
            self.assertGreater(s["offered_pairs"], 10 * MAX_PAIRS)
            self.assertIs(s["sampled"], True)
            self.assertLess(rss_mb, RSS_BOUND_MB)

            # The sampled model is a working model.
            recs = [{"user": {"name": "user-3-7"}, "source": {"ip": "10.3.49.8"}},
                    {"user": {"name": "nobody"}, "source": {"ip": "192.0.2.1"}}]
            r = sds_test.run([SCORE, "--model", model], stdin="".join(json.dumps(x) + "\n" for x in recs))
            self.assertEqual(r.returncode, 0, r.stderr)
            out = sds_test.ndjson(r.stdout)
            self.assertEqual(len(out), 2)
            self.assertIn("entity", out[1]["sds"]["anomaly"]["reasons"])


if __name__ == "__main__":
    sds_test.main()
