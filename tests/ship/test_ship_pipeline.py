"""The whole pipeline over the bundled samples: sds-fetch | sds-normalize | sds-ship, then every
document is searchable by its event.id (the test server, or SDS_TEST_ES_URL)."""
import json
import os
import subprocess
import tempfile

from sds_test import ToolTest, SOURCE_DIR, run, stats_of, tool, main
from ship_env import Cluster, unique


class Pipeline(ToolTest):
    def test_bundled_samples_fetch_normalize_ship_searchable_by_event_id(self):
        for t in ("sds-fetch", "sds-normalize"):
            if not os.path.exists(tool(t)):
                self.skipTest(t + " is not built")
        es = Cluster()
        name = unique()
        tmp = tempfile.mkdtemp(prefix="sds-pipe-")
        try:
            samples = os.path.join(SOURCE_DIR, "examples", "data", "cloudtrail")
            normalized = os.path.join(tmp, "norm.ndjson")
            with open(normalized, "wb") as out:
                fetch = subprocess.Popen([tool("sds-fetch"), "--annotate", samples], stdout=subprocess.PIPE)
                norm = subprocess.run([tool("sds-normalize")], stdin=fetch.stdout, stdout=out, stderr=subprocess.PIPE)
                fetch.wait()
            self.assertIn(norm.returncode, (0, 1), norm.stderr)
            docs = [json.loads(l) for l in open(normalized)]
            self.assertGreater(len(docs), 10)
            dl = os.path.join(tmp, "dead")
            r = run([tool("sds-ship"), "--es", es.url, "--setup", "--template-name", name,
                     "--index", name + "-{event.dataset}-{@timestamp:%Y.%m.%d}", "--stats", "--dead-letter", dl,
                     normalized])
            self.assertEqual(r.returncode, 0, r.stderr + open(dl).read().encode() if os.path.exists(dl) else r.stderr)
            st = stats_of(r.stderr)
            self.assertConserved(st)
            self.assertEqual(st["out"], len(docs))
            es.request("POST", "/%s-*/_refresh" % name)
            ids = [d["event"]["id"] for d in docs]
            self.assertEqual(len(set(ids)), len(ids), "event.id must be unique in the samples")
            for eid in ids[:: max(1, len(ids) // 25)]:
                _, res = es.request("POST", "/%s-*/_search" % name, {"query": {"term": {"event.id": eid}}}, expect=(200,))
                self.assertEqual(res["hits"]["total"]["value"], 1, eid)
                self.assertEqual(res["hits"]["hits"][0]["_source"]["event"]["id"], eid)
            self.assertEqual(es.count(name + "-*"), len(docs))
            # --setup mapped source.ip as ip in the created indices
            _, m = es.request("GET", "/%s-*/_mapping" % name, expect=(200,))
            some = next(iter(m.values()))["mappings"]["properties"]
            self.assertEqual(some["source"]["properties"]["ip"]["type"], "ip")
            self.assertEqual(some["@timestamp"]["type"], "date")
        finally:
            es.request("DELETE", "/_data_stream/%s-*" % name)
            es.request("DELETE", "/%s-*" % name)
            es.request("DELETE", "/_index_template/%s" % name)
            es.request("DELETE", "/_component_template/%s-ecs-mappings" % name)
            es.close()


if __name__ == "__main__":
    main()
