"""sds-ship --to FILE and --to s3:// (the Swift+s3api fixture, tests/servers)."""
import gzip
import json
import os
import tempfile

from sds_test import ToolTest, run, stats_of, tool, main
from ship_env import make_docs, read_ndjson

SHIP = tool("sds-ship")


class FileSink(ToolTest):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sds-sink-")
        self.docs = make_docs(os.path.join(self.tmp, "d.ndjson"), 3000)

    def test_plain_and_gz_files_hold_the_records_unchanged(self):
        for name in ("out.ndjson", "out.ndjson.gz"):
            out = os.path.join(self.tmp, name)
            r = run([SHIP, "--to", out, "--stats", self.docs])
            self.assertEqual(r.returncode, 0, r.stderr)
            st = stats_of(r.stderr)
            self.assertConserved(st)
            self.assertEqual(st["out"], 3000)
            opener = gzip.open if name.endswith(".gz") else open
            with opener(out, "rb") as f, open(self.docs, "rb") as g:
                self.assertEqual(f.read(), g.read())
        with open(out, "rb") as f:
            self.assertEqual(f.read(2), b"\x1f\x8b")

    def test_invalid_lines_are_dead_lettered_and_counted(self):
        src = os.path.join(self.tmp, "bad.ndjson")
        with open(src, "w") as f:
            f.write('{"a":1}\nnot json\n{"b":2}\n')
        dl = os.path.join(self.tmp, "dl")
        r = run([SHIP, "--to", os.path.join(self.tmp, "o.ndjson"), "--stats", "--dead-letter", dl, src])
        self.assertEqual(r.returncode, 1)
        st = stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual((st["out"], st["rejected"]), (2, 1))
        self.assertEqual(read_ndjson(dl)[0]["line"], 2)

    def test_unwritable_target_exits_3(self):
        r = run([SHIP, "--to", "/nonexistent/dir/x.ndjson", self.docs])
        self.assertEqual(r.returncode, 3, r.stderr)


class S3Sink(ToolTest):
    def setUp(self):
        try:
            import sds_servers
            self.srv = sds_servers.s3()
        except Exception as e:  # noqa: BLE001
            self.skipTest("S3 test server unavailable: %s" % e)
        self.sv = sds_servers
        self.env = sds_servers.aws_env("s3")
        self.bucket = sds_servers.unique_name("ship")
        sds_servers.aws("s3api", "create-bucket", "--bucket", self.bucket)
        self.tmp = tempfile.mkdtemp(prefix="sds-s3sink-")

    def objects(self):
        r = self.sv.aws("s3api", "list-objects-v2", "--bucket", self.bucket)
        return sorted(o["Key"] for o in (json.loads(r.stdout or "{}").get("Contents") or []))

    def get(self, key):
        out = os.path.join(self.tmp, "get")
        self.sv.aws("s3api", "get-object", "--bucket", self.bucket, "--key", key, out)
        with gzip.open(out, "rt") as f:
            return [json.loads(l) for l in f]

    def test_partitioned_by_event_date_and_rolled_by_size(self):
        docs = make_docs(os.path.join(self.tmp, "d.ndjson"), 6000, pad=200)
        r = run([SHIP, "--to", "s3://%s/lake/ct/" % self.bucket, "--endpoint-url", self.srv.endpoint,
                 "--roll-bytes", "200k", "--stats", docs], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual(st["out"], 6000)
        keys = self.objects()
        days = {k.split("/")[2] for k in keys}
        self.assertEqual(days, {"dt=2024-03-01", "dt=2024-03-02", "dt=2024-03-03"})
        self.assertGreater(len(keys), 3)  # rolled by size
        got = []
        for k in keys:
            self.assertTrue(k.startswith("lake/ct/dt=") and k.endswith(".ndjson.gz"), k)
            recs = self.get(k)
            day = k.split("/")[2][3:]
            self.assertTrue(all(d["@timestamp"].startswith(day) for d in recs))
            got += [d["event"]["id"] for d in recs]
        self.assertEqual(sorted(got), sorted("e%d" % i for i in range(6000)))

    def test_large_object_goes_up_as_multipart(self):
        # incompressible-ish payload so the gzip object passes 16 MiB
        path = os.path.join(self.tmp, "big.ndjson")
        with open(path, "w") as f:
            for i in range(14000):
                f.write(json.dumps({"@timestamp": "2024-03-01T00:00:00Z", "event": {"id": str(i)},
                                    "blob": os.urandom(1500).hex()}) + "\n")
        r = run([SHIP, "--to", "s3://%s/big/" % self.bucket, "--endpoint-url", self.srv.endpoint, "--stats", path],
                env=self.env, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        keys = self.objects()
        self.assertEqual(len(keys), 1)
        h = self.sv.aws("s3api", "head-object", "--bucket", self.bucket, "--key", keys[0])
        self.assertRegex(json.loads(h.stdout)["ETag"], r"-\d+\"$")  # multipart ETag
        self.assertEqual(len(self.get(keys[0])), 14000)

    def test_refused_upload_dead_letters_the_records_and_exits_3(self):
        docs = make_docs(os.path.join(self.tmp, "d.ndjson"), 100)
        dl = os.path.join(self.tmp, "dl")
        r = run([SHIP, "--to", "s3://no-such-bucket-%s/x/" % self.bucket, "--endpoint-url", self.srv.endpoint,
                 "--stats", "--dead-letter", dl, "--max-retries", "1", "--retry-delay", "0.01", docs], env=self.env)
        self.assertEqual(r.returncode, 3, r.stderr)
        st = stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual(st["rejected"], 100)
        self.assertEqual(len(read_ndjson(dl)), 100)


if __name__ == "__main__":
    main()
