"""sds-ship end to end against Elasticsearch: the test server (tests/servers/es), or a real
cluster with SDS_TEST_ES_URL (fault-injection cases then skip)."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

from sds_test import ToolTest, run, stats_of, tool, main
from ship_env import Cluster, make_docs, read_ndjson, unique, REAL_URL

SHIP = tool("sds-ship")


class Base(ToolTest):
    server_args = ()

    @classmethod
    def setUpClass(cls):
        cls.es = Cluster(*cls.server_args)
        cls.tmp = tempfile.mkdtemp(prefix="sds-ship-")

    @classmethod
    def tearDownClass(cls):
        cls.es.close()

    def setUp(self):
        self.name = unique()
        self.dl = os.path.join(self.tmp, self.name + ".dead")

    def tearDown(self):
        self.es.delete_index(self.name + "-*")

    def need_test_server(self):
        if self.es.real:
            self.skipTest("needs the test server's fault injection (SDS_TEST_ES_URL is set)")

    def ship(self, *args, inputs=(), env=None, stdin=None, index=None):
        idx = index or self.name + "-{@timestamp:%Y.%m.%d}"
        cmd = [SHIP, "--es", self.es.url, "--index", idx, "--stats", "--dead-letter", self.dl, *args, *inputs]
        r = run(cmd, env=env, stdin=stdin, timeout=600)
        st = stats_of(r.stderr)
        self.assertConserved(st)
        return r, st


class Delivery(Base):
    def test_same_100k_documents_shipped_twice_count_stays_100k(self):
        docs = make_docs(os.path.join(self.tmp, "100k.ndjson"), 100_000, pad=40)
        r, st = self.ship("--batch-docs", "2000", "--concurrency", "2", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st["out"], 100_000)
        self.assertEqual(self.es.count(self.name + "-*"), 100_000)
        r, st = self.ship("--batch-docs", "2000", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st["out"], 100_000)
        self.assertEqual(st["already_present"], 100_000)  # create: 409 = already delivered
        self.assertEqual(self.es.count(self.name + "-*"), 100_000)
        self.assertEqual(read_ndjson(self.dl), [])

    def test_round_robin_fails_over_from_a_dead_url(self):
        docs = make_docs(os.path.join(self.tmp, "rr.ndjson"), 5000)
        r, st = self.ship("--es", "http://127.0.0.1:9", "--batch-docs", "500", "--retry-delay", "0.01", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st["out"], 5000)
        self.assertGreater(st["retries"], 0)  # requests sent to the dead URL went to the live one
        self.assertEqual(self.es.count(self.name + "-*"), 5000)

    def test_op_index_overwrites_and_keeps_count(self):
        docs = make_docs(os.path.join(self.tmp, "idx.ndjson"), 3000)
        for _ in range(2):
            r, st = self.ship("--op", "index", inputs=[docs])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(st["out"], 3000)
        self.assertEqual(self.es.count(self.name + "-*"), 3000)

    def test_index_template_uses_the_event_date_and_fields(self):
        docs = make_docs(os.path.join(self.tmp, "tmpl.ndjson"), 300, dataset="AWS.CloudTrail")
        r, _ = self.ship(inputs=[docs], index=self.name + "-{event.dataset}-{@timestamp:%Y.%m.%d}")
        self.assertEqual(r.returncode, 0, r.stderr)
        for day in (1, 2, 3):
            self.assertEqual(self.es.count("%s-aws.cloudtrail-2024.03.%02d" % (self.name, day)), 100)

    def test_id_is_stable_hash_of_dataset_and_event_id(self):
        docs = make_docs(os.path.join(self.tmp, "id.ndjson"), 1)
        r, _ = self.ship("--refresh", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.es.request("POST", "/%s-*/_refresh" % self.name)
        _, res = self.es.request("POST", "/%s-*/_search" % self.name, {"query": {"term": {"event.id": "e0"}}}, expect=(200,))
        hit = res["hits"]["hits"][0]
        # pinned: hex128("aws.cloudtrail" + "\x1f" + "e0"), see tests/unit/ship
        self.assertEqual(hit["_id"], "e07c02f6c7cb0021ec1e7920e12a683d")

    def test_records_without_the_template_field_are_dead_lettered(self):
        path = os.path.join(self.tmp, "nots.ndjson")
        with open(path, "w") as f:
            f.write('{"event":{"id":"a","dataset":"d"}}\n{"@timestamp":"2024-03-01T00:00:00Z","event":{"id":"b","dataset":"d"}}\n')
        r, st = self.ship(inputs=[path])
        self.assertEqual(r.returncode, 1)
        self.assertEqual((st["out"], st["rejected"]), (1, 1))
        dl = read_ndjson(self.dl)
        self.assertIn("@timestamp", dl[0]["reason"])
        self.assertEqual(json.loads(dl[0]["record"])["event"]["id"], "a")

    def test_mapping_conflicts_dead_lettered_with_server_reason_rest_indexed(self):
        index = self.name + "-conflict"
        self.es.request("PUT", "/" + index, {"mappings": {"properties": {"source": {"properties": {"ip": {"type": "ip"}}}}}},
                        expect=(200,))
        bad = set(range(7, 5000, 97))
        docs = make_docs(os.path.join(self.tmp, "conflict.ndjson"), 5000, bad=bad)
        r, st = self.ship("--batch-docs", "500", inputs=[docs], index=index)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(st["rejected"], len(bad))
        self.assertEqual(st["out"], 5000 - len(bad))
        self.assertEqual(self.es.count(index), 5000 - len(bad))
        dl = read_ndjson(self.dl)
        self.assertEqual(sorted(json.loads(d["record"])["event"]["id"] for d in dl), sorted("e%d" % i for i in bad))
        for d in dl:
            self.assertRegex(d["reason"], r"(mapper|document)_parsing_exception")
            self.assertIn("source.ip", d["reason"])
            self.assertEqual(d["tool"], "sds-ship")

    def test_kill_9_mid_run_then_rerun_gives_exact_count(self):
        docs = make_docs(os.path.join(self.tmp, "kill.ndjson"), 100_000, pad=40)
        if not self.es.real:
            self.es.fault(latency_ms=150)
        p = subprocess.Popen([SHIP, "--es", self.es.url, "--index", self.name + "-{@timestamp:%Y.%m.%d}",
                              "--batch-docs", "1000", "--dead-letter", self.dl, docs],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 60
        while time.time() < deadline:
            time.sleep(0.3)
            n = self.es.count(self.name + "-*")
            if n >= 5000:
                break
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.es.fault(reset=True) if not self.es.real else None
        partial = self.es.count(self.name + "-*")
        self.assertGreater(partial, 0)
        self.assertLess(partial, 100_000)
        r, st = self.ship("--batch-docs", "2000", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.es.count(self.name + "-*"), 100_000)
        self.assertGreaterEqual(st["already_present"], partial)

    def test_flush_interval_sends_partial_batches_of_a_slow_stream(self):
        p = subprocess.Popen([SHIP, "--es", self.es.url, "--index", self.name + "-{@timestamp:%Y.%m.%d}",
                              "--flush-interval", "0.3", "--dead-letter", self.dl, "--stats"],
                             stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = open(make_docs(os.path.join(self.tmp, "slow.ndjson"), 5)).read().encode()
        p.stdin.write(lines)
        p.stdin.flush()
        seen = 0
        deadline = time.time() + 15
        while time.time() < deadline and seen < 5:
            time.sleep(0.3)
            try:
                seen = self.es.count(self.name + "-*")
            except AssertionError:
                seen = 0
        self.assertEqual(seen, 5, "documents not sent while stdin stayed open")
        p.stdin.close()
        err = p.stderr.read()
        p.wait(30)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(stats_of(err)["out"], 5)

    def test_dead_letter_replay_with_from_dead_letter(self):
        index = self.name + "-replay"
        self.es.request("PUT", "/" + index, {"mappings": {"properties": {"source": {"properties": {"ip": {"type": "ip"}}}}}},
                        expect=(200,))
        docs = make_docs(os.path.join(self.tmp, "rp.ndjson"), 200, bad=range(0, 200, 10))
        r, st = self.ship(inputs=[docs], index=index)
        self.assertEqual(st["rejected"], 20)
        # "fix the pipeline": the mapping is dropped, then the dead letters are replayed.
        self.es.request("DELETE", "/" + index)
        first = self.dl
        self.dl = first + ".2"
        r, st = self.ship("--from-dead-letter", inputs=[first], index=index)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual((st["in"], st["out"]), (20, 20))
        self.assertEqual(self.es.count(index), 20)


class Faults(Base):
    def setUp(self):
        self.need_test_server()
        super().setUp()
        self.es.request("DELETE", "/_sds_fault")

    def tearDown(self):
        if not self.es.real:
            self.es.request("DELETE", "/_sds_fault")
            super().tearDown()

    def test_429_503_and_dropped_connections_give_exact_count_and_empty_dead_letter(self):
        docs = make_docs(os.path.join(self.tmp, "faults.ndjson"), 20_000, pad=40)
        self.es.fault(status=429, count=3, path="_bulk", drop_connections=2, item_429_fraction=0.2, seed=7)
        r, st = self.ship("--batch-docs", "1000", "--retry-delay", "0.02", "--concurrency", "3", inputs=[docs])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st["out"], 20_000)
        self.assertGreaterEqual(st["retries"], 5)
        self.assertGreater(st["item_retries"], 0)
        self.es.fault(reset=True)
        self.es.fault(status=503, count=4, path="_bulk", drop_connections=1, mode="half")
        docs2 = make_docs(os.path.join(self.tmp, "faults2.ndjson"), 10_000, start=20_000, pad=40)
        r, st = self.ship("--batch-docs", "1000", "--retry-delay", "0.02", "--compress", inputs=[docs2])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(st["out"], 10_000)
        self.assertEqual(self.es.count(self.name + "-*"), 30_000)
        self.assertEqual(read_ndjson(self.dl), [])
        faults = self.es.stats()["faults"]
        self.assertTrue(faults, "no fault fired")

    def test_server_gone_after_retries_dead_letters_every_unacknowledged_document_then_replay(self):
        docs = make_docs(os.path.join(self.tmp, "gone.ndjson"), 5000)
        self.es.fault(status=200, count=0)
        self.es.fault(status=503, count=-1, path="_bulk")
        r, st = self.ship("--batch-docs", "500", "--max-retries", "2", "--retry-delay", "0.01", inputs=[docs])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn(b"gave up after 2 retries", r.stderr)
        dl = read_ndjson(self.dl)
        self.assertEqual(st["out"], 0)
        self.assertEqual(len(dl), st["in"])
        self.assertEqual(len(dl), st["rejected"])
        self.assertTrue(all(d["reason"].startswith("not delivered") for d in dl))
        self.es.fault(reset=True)
        first = self.dl
        self.dl = first + ".replay"
        r, st2 = self.ship("--from-dead-letter", inputs=[first])
        self.assertEqual(r.returncode, 0, r.stderr)
        # the rest of the input, which was never read, follows
        self.assertEqual(self.es.count(self.name + "-*"), len(dl))
        r, _ = self.ship(inputs=[docs])
        self.assertEqual(self.es.count(self.name + "-*"), 5000)

    def test_per_item_429_that_never_clears_is_dead_lettered_after_retries(self):
        docs = make_docs(os.path.join(self.tmp, "i429.ndjson"), 1000)
        self.es.fault(item_429_fraction=1.0, seed=1)
        r, st = self.ship("--max-retries", "2", "--retry-delay", "0.01", inputs=[docs])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertEqual(st["rejected"], 1000)
        dl = read_ndjson(self.dl)
        self.assertIn("es_rejected_execution_exception", dl[0]["reason"])


class Signals(Base):
    def test_sigterm_stops_reading_delivers_what_was_read_and_exits_130(self):
        self.need_test_server()
        docs = make_docs(os.path.join(self.tmp, "term.ndjson"), 50_000, pad=40)
        self.es.fault(latency_ms=200)
        p = subprocess.Popen([SHIP, "--es", self.es.url, "--index", self.name + "-{@timestamp:%Y.%m.%d}",
                              "--batch-docs", "500", "--stats", "--dead-letter", self.dl, docs],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)
        p.send_signal(signal.SIGTERM)
        err = p.communicate(timeout=120)[1]
        self.es.fault(reset=True)
        self.assertEqual(p.returncode, 130, err)
        st = stats_of(err)
        self.assertConserved(st)
        self.assertLess(st["in"], 50_000)
        self.assertEqual(st["rejected"], 0)
        self.assertEqual(self.es.count(self.name + "-*"), st["out"])


class BodyLimit(Base):
    server_args = ("--max-body-bytes", "200000")

    def setUp(self):
        self.need_test_server()
        super().setUp()

    def test_413_splits_the_batch_and_a_too_large_document_is_dead_lettered(self):
        docs = make_docs(os.path.join(self.tmp, "big.ndjson"), 3000, pad=300)
        with open(docs, "a") as f:
            f.write(json.dumps({"@timestamp": "2024-03-01T00:00:00Z", "event": {"id": "huge", "dataset": "x"},
                                "message": "h" * 300_000}) + "\n")
        r, st = self.ship("--batch-bytes", "2MiB", inputs=[docs])
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertGreater(st["splits"], 0)
        self.assertEqual((st["out"], st["rejected"]), (3000, 1))
        self.assertEqual(self.es.count(self.name + "-*"), 3000)
        dl = read_ndjson(self.dl)
        self.assertIn("413", dl[0]["reason"])


if __name__ == "__main__":
    main()
