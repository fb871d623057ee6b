#!/usr/bin/env python3
"""es_bench_server (the C++ _bulk endpoint of tests/bench/ship) answers bulk requests as
es_server.py does: the same bodies go to both and the items (action, status, result, _version,
error type) and the errors flag must agree. Plus what the bench relies on: gzip bodies, 413,
_refresh/_count, GET / and /_sds_stats."""
import gzip
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lib"))
from sds_test import BIN_DIR, SOURCE_DIR, main  # noqa: E402

BENCH_SERVER = os.path.join(BIN_DIR, "es_bench_server")
PY_SERVER = os.path.join(SOURCE_DIR, "tests", "servers", "es", "es_server.py")


class Server:
    def __init__(self, argv):
        self.dir = tempfile.mkdtemp(prefix="sds-esb-")
        pf = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen(argv + ["--port", "0", "--port-file", pf])
        for _ in range(400):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("%s did not start" % argv[0])
        with open(pf) as f:
            self.port = int(f.read().strip())

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, (json.loads(data) if data else None)
        finally:
            c.close()

    def bulk(self, body, path="/_bulk", headers=None):
        h = {"Content-Type": "application/x-ndjson"}
        h.update(headers or {})
        return self.request("POST", path, body, h)

    def close(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)


def nd(*lines):
    return ("".join(json.dumps(x, separators=(",", ":")) + "\n" for x in lines)).encode()


def shape(resp):
    """What must agree between the two servers: per item, in order."""
    out = []
    for item in resp["items"]:
        (op, r), = item.items()
        out.append((op, r["status"], r.get("result"), r.get("_version"), r.get("error", {}).get("type"),
                    r.get("_index"), r.get("_id")))
    return resp["errors"], out


class BenchServerAgreesWithReference(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fast = Server([BENCH_SERVER])
        cls.ref = Server([sys.executable, PY_SERVER, "--skip-doc-parsing", "--no-source", "--no-builtin-templates"])

    @classmethod
    def tearDownClass(cls):
        cls.fast.close()
        cls.ref.close()

    def both(self, body, path="/_bulk"):
        a = self.fast.bulk(body, path)
        b = self.ref.bulk(body, path)
        self.assertEqual(a[0], b[0], (a, b))
        return a, b

    def test_items_per_action_in_order(self):
        body = nd({"create": {"_index": "agree-1", "_id": "a"}}, {"x": 1},
                  {"create": {"_index": "agree-1", "_id": "a"}}, {"x": 2},           # 409
                  {"index": {"_index": "agree-1", "_id": "b"}}, {"x": 3},            # 201
                  {"index": {"_index": "agree-1", "_id": "b"}}, {"x": 4},            # 200 updated, v2
                  {"update": {"_index": "agree-1", "_id": "b"}}, {"doc": {"y": 1}},  # 200, v3
                  {"update": {"_index": "agree-1", "_id": "nope"}}, {"doc": {"y": 1}},  # 404 missing
                  {"update": {"_index": "agree-1", "_id": "c"}}, {"doc": {"y": 1}, "doc_as_upsert": True},  # 201
                  {"delete": {"_index": "agree-1", "_id": "b"}},                      # 200 deleted
                  {"delete": {"_index": "agree-1", "_id": "b"}},                      # 404 not_found
                  {"create": {"_index": "agree-1", "_id": "b"}}, {"x": 5},           # 201 after delete
                  {"index": {"_index": "Agree-Upper", "_id": "z"}}, {"x": 6})        # 400 bad index name
        (sa, a), (sb, b) = self.both(body)
        self.assertEqual(sa, 200)
        self.assertEqual(shape(a), shape(b))
        errors, items = shape(a)
        self.assertTrue(errors)
        self.assertEqual([i[:2] for i in items],
                         [("create", 201), ("create", 409), ("index", 201), ("index", 200), ("update", 200),
                          ("update", 404), ("update", 201), ("delete", 200), ("delete", 404), ("create", 201),
                          ("index", 400)])
        ok = a["items"][0]["create"]
        for key in ("_index", "_id", "_version", "result", "_shards", "_seq_no", "_primary_term", "status"):
            self.assertIn(key, ok)

    def test_no_errors_flag_and_default_index(self):
        body = nd(*[x for i in range(50) for x in ({"create": {"_id": "d%d" % i}}, {"n": i})])
        (sa, a), (sb, b) = self.both(body, "/agree-2/_bulk")
        self.assertEqual(shape(a), shape(b))
        self.assertFalse(a["errors"])
        self.assertEqual([it["create"]["_id"] for it in a["items"]], ["d%d" % i for i in range(50)])
        self.assertTrue(all(it["create"]["_index"] == "agree-2" for it in a["items"]))

    def test_generated_ids_are_20_characters_and_distinct(self):
        body = nd({"index": {"_index": "agree-3"}}, {"a": 1}, {"create": {"_index": "agree-3"}}, {"a": 2})
        (sa, a), (sb, b) = self.both(body)
        ids = [it[k]["_id"] for it in a["items"] for k in it]
        self.assertEqual([len(i) for i in ids], [20, 20])
        self.assertNotEqual(ids[0], ids[1])
        self.assertEqual([s[:5] for s in shape(a)[1]], [s[:5] for s in shape(b)[1]])

    def test_whole_request_errors(self):
        cases = [nd({"index": {}}, {"a": 1}),                                   # index is missing
                 nd({"index": {"_index": "agree-4", "bogus": 1}}, {"a": 1}),     # unknown parameter
                 nd({"jump": {"_index": "agree-4"}}, {"a": 1}),                  # unknown action
                 nd({"delete": {"_index": "agree-4"}}),                          # id is missing
                 b'{"index":{"_index":"agree-4"}}\n{"a":1}',                     # no final newline
                 b'not json\n']
        for body in cases:
            with self.subTest(body=body):
                (sa, a), (sb, b) = self.both(body)
                self.assertEqual(sa, 400)
                self.assertEqual(a["error"]["type"], b["error"]["type"])
                self.assertEqual(a["status"], 400)
        # nothing of a failed request was applied
        self.assertEqual(self.fast.request("GET", "/agree-4/_count")[0], 404)


class BenchServerEndpoints(unittest.TestCase):
    def setUp(self):
        self.s = Server([BENCH_SERVER, "--max-body-bytes", "4096"])

    def tearDown(self):
        self.s.close()

    def test_gzip_body_refresh_and_count(self):
        body = nd(*[x for i in range(30) for x in ({"create": {"_index": "g", "_id": str(i)}}, {"n": i})])
        status, r = self.s.bulk(gzip.compress(body), headers={"Content-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertEqual(len(r["items"]), 30)
        self.assertEqual(self.s.request("POST", "/g/_refresh")[0], 200)
        self.assertEqual(self.s.request("GET", "/g/_count")[1]["count"], 30)
        stats = self.s.request("GET", "/_sds_stats")[1]
        self.assertEqual((stats["bulk_requests"], stats["bulk_items"], stats["gzip_requests"], stats["docs"]), (1, 30, 1, 30))
        self.assertGreater(stats["cpu_seconds"], 0)
        self.assertEqual(self.s.request("POST", "/_sds_reset")[0], 200)
        self.assertEqual(self.s.request("GET", "/_sds_stats")[1]["docs"], 0)

    def test_count_sees_documents_as_of_the_last_refresh(self):
        self.s.bulk(nd({"index": {"_index": "r", "_id": "1"}}, {}))
        self.assertEqual(self.s.request("GET", "/r/_count")[1]["count"], 0)
        self.s.bulk(nd({"index": {"_index": "r", "_id": "2"}}, {}), path="/_bulk?refresh=wait_for")
        self.assertEqual(self.s.request("GET", "/r/_count")[1]["count"], 2)

    def test_too_large_bodies_get_413(self):
        big = nd(*[x for i in range(200) for x in ({"index": {"_index": "big"}}, {"pad": "x" * 40})])
        self.assertGreater(len(big), 4096)
        self.assertEqual(self.s.bulk(big)[0], 413)
        # decoded size counts too: a small gzip body that inflates past the limit
        self.assertEqual(self.s.bulk(gzip.compress(big), headers={"Content-Encoding": "gzip"})[0], 413)
        self.assertEqual(self.s.request("GET", "/_sds_stats")[1]["docs"], 0)

    def test_root_and_unknown_paths(self):
        status, info = self.s.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(info["tagline"], "You Know, for Search")
        self.assertIn("number", info["version"])
        self.assertEqual(self.s.request("GET", "/_nothing_here/x")[0], 400)
        self.assertEqual(self.s.bulk(b"{}\n", headers={"Content-Type": "text/plain"})[0], 406)

    def test_keep_alive_and_chunked(self):
        c = http.client.HTTPConnection("127.0.0.1", self.s.port, timeout=30)
        for i in range(3):
            body = iter([nd({"index": {"_index": "k", "_id": str(i)}}), nd({"i": i})])
            c.request("POST", "/_bulk", body=body, headers={"Content-Type": "application/x-ndjson"},
                      encode_chunked=True)
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(json.loads(r.read())["items"][0]["index"]["_id"], str(i))
        c.close()
        self.assertEqual(self.s.request("GET", "/_sds_stats")[1]["connections"], 2)


if __name__ == "__main__":
    main()
