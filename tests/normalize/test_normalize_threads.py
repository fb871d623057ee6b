#!/usr/bin/env python3
"""sds-normalize --threads N writes exactly what --threads 1 writes: the same documents in the
same order, the same dead letters in the same order, the same counters and exit code, on a
multi-format input with garbage lines large enough to be cut into many batches, and with VPC
Flow header lines (a layout carried from line to line) that fall inside batches."""
import gzip
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import sds_test  # noqa: E402
from test_normalize_cli import FIXED, TOOL, corpus  # noqa: E402

# A custom layout (account-id first): records read with the default layout would come out wrong.
HEADER = "account-id version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"


def vpc_line(i, account_first, base):
    f = ["2", "123456789010", f"eni-{base + i:017d}", f"10.0.{i % 256}.{i // 256 % 256}", "172.31.1.2", str(1024 + i % 60000),
         "443", "6", str(1 + i % 90), str(40 + i), str(1714564800 + i), str(1714564860 + i), "ACCEPT", "OK"]
    if account_first:
        f[0], f[1] = f[1], f[0]
    return json.dumps({"message": " ".join(f)}).encode()


def vpc_file(n, header_at, base=0):
    """n VPC Flow lines; a custom header at each index in header_at switches the layout."""
    lines = []
    custom = False
    for i in range(n):
        if i in header_at:
            lines.append(json.dumps({"message": HEADER}).encode())
            custom = True
        lines.append(vpc_line(i, custom, base))
    return b"".join(l + b"\n" for l in lines)


class NormalizeThreads(sds_test.ToolTest):
    def run_tool(self, threads, args, stdin=None):
        with tempfile.NamedTemporaryFile() as dl:
            p = sds_test.run([TOOL, "--stats", "--dead-letter", dl.name, "--threads", str(threads), *FIXED, *args],
                             stdin=stdin)
            with open(dl.name, "rb") as f:
                dead = [json.loads(l) for l in f.read().decode().splitlines()]
        for d in dead:
            d.pop("@timestamp")  # when the letter was written
        stats = sds_test.stats_of(p.stderr)
        stats.pop("seconds")
        return p, dead, stats

    def assert_same_as_one_thread(self, args, stdin=None, threads=(2, 3, 8)):
        one, dead1, stats1 = self.run_tool(1, args, stdin)
        self.assertConserved(stats1)
        for n in threads:
            p, dead, stats = self.run_tool(n, args, stdin)
            self.assertEqual(p.returncode, one.returncode, n)
            self.assertEqual(stats, stats1, n)
            self.assertEqual(dead, dead1, n)
            self.assertTrue(p.stdout == one.stdout, f"--threads {n}: output differs from --threads 1")
        return one, dead1, stats1

    def test_mixed_formats_with_garbage_on_stdin(self):
        data, _ = corpus()
        data = data * max(1, (5 << 20) // len(data))  # several 1 MiB batches
        one, dead, stats = self.assert_same_as_one_thread(["--max-record-bytes", "4096"], data)
        self.assertGreater(stats["out"], 1000)
        self.assertGreater(stats["rejected"], 500)
        self.assertEqual(len(dead), stats["rejected"])
        self.assertEqual(one.returncode, 1)

    def test_several_files_gzip_and_vpcflow_headers_inside_batches(self):
        data, _ = corpus()
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, content in [
                ("mixed.ndjson", data * 3),
                # Headers after ~0.1 MiB and ~2.5 MiB: the batches after them are started with a
                # guessed layout that is wrong and must be redone.
                ("vpc.ndjson", vpc_file(40000, {1000, 25000})),
                ("vpc2.ndjson.gz", gzip.compress(vpc_file(15000, {0}, base=100000))),
                ("mixed2.ndjson", data),
            ]:
                paths.append(os.path.join(tmp, name))
                with open(paths[-1], "wb") as f:
                    f.write(content)
            corpus_headers = self.run_tool(1, [], data)[2]["filtered"]  # the golden VPC Flow inputs have some
            _, _, stats = self.assert_same_as_one_thread(paths)
            self.assertEqual(stats["filtered"], 4 * corpus_headers + 3)
            one, _, stats = self.assert_same_as_one_thread(["--format", "vpcflow"] + paths)
            self.assertEqual(stats["filtered"], 4 * corpus_headers + 3)
            # Each header's layout was applied to the lines after it in its file (account id read
            # from the first column), also in the batches after the one holding the header.
            docs = [json.loads(l) for l in one.stdout.splitlines()]
            by_iface = {d["aws"]["vpcflow"]["interface_id"]: d for d in docs}
            for i in (500, 1000, 20000, 39999, 100000, 114999):
                d = by_iface[f"eni-{i:017d}"]
                self.assertEqual(d["aws"]["vpcflow"]["account_id"], "123456789010", i)
                self.assertEqual(d["aws"]["vpcflow"]["version"], "2", i)


if __name__ == "__main__":
    sds_test.main()
