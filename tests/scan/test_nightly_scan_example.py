#!/usr/bin/env python3
"""examples/nightly-scan.sh runs as documented on loopback: a host list -> sds-scan -> sds-ship
into the project's test Elasticsearch (es_server.py, never a real cluster), one document per open
port, the bad host-list line in the day's rejected file (exit 1); without ES_URL the NDJSON goes to
the day's file instead, with the same open ports."""
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "ship"))
sys.path.insert(0, os.path.dirname(__file__))
import sds_test  # noqa: E402
from scan_helpers import V4, Listener, closed_ports  # noqa: E402
from ship_env import Cluster  # noqa: E402

SCRIPT = os.path.join(sds_test.SOURCE_DIR, "examples", "nightly-scan.sh")


class NightlyScan(sds_test.ToolTest):
    def setUp(self):
        for t in ("sds-scan", "sds-ship"):
            if not os.path.exists(sds_test.tool(t)):
                self.skipTest(t + " is not built")
        self.dir = tempfile.mkdtemp(prefix="sds-nightly-scan-")
        self.listeners = [Listener(V4, banner=b"") for _ in range(3)]  # accept, then close: TLS fails fast
        self.open = sorted(l.port for l in self.listeners)
        self.shut = closed_ports(V4, 5, avoid=self.open)
        with open(os.path.join(self.dir, "hosts.txt"), "w") as f:
            f.write(f"# our hosts\n{V4}\nnot_a_host!\n")

    def tearDown(self):
        for l in self.listeners:
            l.close()

    def run_script(self, **env):
        e = {k: v for k, v in os.environ.items() if not k.startswith("SDS_") or k in ("SDS_BIN_DIR", "SDS_SOURCE_DIR")}
        e.update(PATH=os.path.abspath(sds_test.BIN_DIR) + os.pathsep + os.environ.get("PATH", ""),
                 HOSTS=os.path.join(self.dir, "hosts.txt"), OUT_DIR=os.path.join(self.dir, "scans"), RATE="0",
                 PORTS=",".join(map(str, self.open + self.shut)), SDS_TLS_TIMEOUT="2s")
        e.pop("ES_URL", None)
        e.update(env)
        return subprocess.run(["bash", SCRIPT], env=e, capture_output=True, timeout=300)

    def day(self):
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")

    def rejected(self):
        with open(os.path.join(self.dir, "scans", f"rejected-{self.day()}.ndjson")) as f:
            return [json.loads(l)["record"] for l in f if l.strip()]

    def test_ships_one_document_per_open_port(self):
        es = Cluster(real_ok=False)
        try:
            r = self.run_script(ES_URL=es.url)
            self.assertEqual(r.returncode, 1, r.stderr)  # the bad line of hosts.txt
            self.assertEqual(self.rejected(), ["not_a_host!"])
            st = sds_test.stats_of(r.stderr)
            self.assertEqual(st["tool"], "sds-scan")
            self.assertEqual(st["in"], len(self.open) + len(self.shut) + 1)
            self.assertEqual(st["out"], len(self.open))
            self.assertConserved(st)
            self.assertEqual(es.count("logs-sds.scan-*"), len(self.open))
            _, res = es.request("POST", "/logs-sds.scan-*/_search", {"size": 100, "query": {"match_all": {}}},
                                expect=(200,))
            docs = [h["_source"] for h in res["hits"]["hits"]]
            self.assertEqual(sorted(d["destination"]["port"] for d in docs), self.open)
            for d in docs:
                self.assertEqual(d["destination"]["ip"], V4)
                self.assertIn("tls", d)  # the script asks for --tls on every open port
        finally:
            es.close()

    def test_without_es_url_writes_the_days_file(self):
        r = self.run_script()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn(b"writing NDJSON to", r.stderr)
        with open(os.path.join(self.dir, "scans", f"scan-{self.day()}.ndjson")) as f:
            recs = [json.loads(l) for l in f if l.strip()]
        self.assertEqual(sorted(d["destination"]["port"] for d in recs), self.open)
        self.assertEqual(self.rejected(), ["not_a_host!"])


if __name__ == "__main__":
    sds_test.main()
