#!/usr/bin/env python3
"""sds-enrich against the MISP REST test server (misp_server.py, same folder): restSearch with
the automation key, to_ids/type/age filters, the on-disk TTL cache and the stale-cache
fallback when MISP is unreachable; the server's own filter behaviour."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
import sds_test  # noqa: E402

ENRICH = sds_test.tool("sds-enrich")
INTEL = os.path.join(sds_test.DATA_DIR, "intel", "misp")
FEED = os.path.join(INTEL, "feed-infoblox")
REGIN = os.path.join(INTEL, "circl-osint-events", "MISP-tests-event.json")
KEY = "sds-test-automation-key-0123456789abcdef0123"


class Server:
    def __init__(self, events, fail_with=0, port=0, tls=None):
        self.tmp = tempfile.mkdtemp()
        self.log = os.path.join(self.tmp, "requests.log")
        args = [sys.executable, os.path.join(HERE, "misp_server.py"), "--key", KEY, "--log", self.log,
                "--port", str(port)]
        if fail_with:
            args += ["--fail-with", str(fail_with)]
        if tls:
            args += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        self.proc = subprocess.Popen(args + events, stdout=subprocess.PIPE, text=True)
        self.port = int(self.proc.stdout.readline())
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def recent_event(path, ip, to_ids=True):
    now = int(time.time())
    ev = {"Event": {"id": "9001", "uuid": "5e1f0000-0000-4000-8000-000000000001", "info": "sds test: recent C2",
                    "timestamp": str(now), "publish_timestamp": str(now), "threat_level_id": "1",
                    "Orgc": {"name": "SDS-TEST"}, "Tag": [{"name": "tlp:amber"}],
                    "Attribute": [{"type": "ip-dst", "value": ip, "to_ids": to_ids, "timestamp": str(now),
                                   "uuid": "5e1f0000-0000-4000-8000-000000000002", "category": "Network activity",
                                   "comment": "beacon"}]}}
    with open(path, "w") as f:
        json.dump(ev, f)


rec = sds_test.nested_record


def test_ca_and_server_cert(d):
    """A test CA and a server certificate for 127.0.0.1 signed by it (openssl CLI)."""
    def ossl(*a):
        subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=d)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=sds test MISP CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem",
         "-days", "2", "-extfile", "ext.cnf")
    return [os.path.join(d, n) for n in ("ca.pem", "srv.pem", "srv.key")]


class Misp(sds_test.ToolTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.cache = os.path.join(self.tmp.name, "cache")
        self.keyfile = os.path.join(self.tmp.name, "misp.key")
        with open(self.keyfile, "w") as f:
            f.write(KEY + "\n")

    def tearDown(self):
        self.tmp.cleanup()

    def enrich(self, url, lines, extra=(), keyfile=None):
        args = [ENRICH, "--stats", "--misp-url", url, "--misp-key-file", keyfile or self.keyfile,
                "--intel-cache", self.cache] + list(extra)
        return sds_test.run(args, stdin="".join(l + "\n" for l in lines))

    def test_tls_is_verified_against_misp_cacert(self):
        ca, cert, key = test_ca_and_server_cert(self.tmp.name)
        recent = os.path.join(self.tmp.name, "recent.json")
        recent_event(recent, "45.154.244.193")
        with Server([recent], tls=(cert, key)) as srv:
            # The system store does not know the test CA: refused, nothing read, no cache to fall back on.
            r = self.enrich(srv.url, [rec(destination__ip="45.154.244.193")])
            self.assertEqual(r.returncode, 3, r.stderr)
            self.assertIn(b"127.0.0.1", r.stderr)
            self.assertEqual(r.stdout, b"")
            # With the CA given, the same server is trusted and matched.
            r = self.enrich(srv.url, [rec(destination__ip="45.154.244.193")], extra=["--misp-cacert", ca])
            self.assertEqual(r.returncode, 0, r.stderr)
            out = sds_test.ndjson(r.stdout)
            self.assertEqual(out[0]["threat"]["enrichments"][0]["indicator"]["ip"], "45.154.244.193")

    def test_rest_search_matches_with_event_context(self):
        recent = os.path.join(self.tmp.name, "recent.json")
        recent_event(recent, "45.154.244.193")
        with Server([FEED, recent]) as srv:
            r = self.enrich(srv.url, [rec(destination__ip="45.154.244.193"), rec(dns__question__name="aaaaa655.com"),
                                      rec(source__ip="8.8.8.8")])
            self.assertEqual(r.returncode, 0, r.stderr)
            out = sds_test.ndjson(r.stdout)
            ind = out[0]["threat"]["enrichments"][0]["indicator"]
            self.assertEqual(ind["provider"], "MISP")  # restSearch events carry no Orgc name
            self.assertEqual(ind["description"], "beacon")
            self.assertEqual(ind["marking"]["tlp"], "AMBER")
            self.assertEqual(ind["reference"], f"{srv.url}/events/view/5e1f0000-0000-4000-8000-000000000001")
            self.assertEqual(out[1]["threat"]["enrichments"][0]["indicator"]["url"]["domain"], "aaaaa655.com")
            self.assertNotIn("threat", out[2])
            self.assertConserved(sds_test.stats_of(r.stderr))
            reqs = srv.requests()
            self.assertEqual(len(reqs), 1)
            self.assertEqual(reqs[0]["path"], "/attributes/restSearch")
            self.assertTrue(reqs[0]["authorization_ok"])
            body = json.loads(reqs[0]["body"])
            self.assertEqual(body["returnFormat"], "json")
            self.assertIs(body["to_ids"], True)
            self.assertIn("ip-dst", body["type"])

    def test_to_ids_false_attributes_only_with_include_non_ids(self):
        recent = os.path.join(self.tmp.name, "recent.json")
        recent_event(recent, "45.154.244.193", to_ids=False)
        with Server([recent]) as srv:
            r = self.enrich(srv.url, [rec(source__ip="45.154.244.193")], ["--intel-ttl", "0s"])
            self.assertNotIn("threat", sds_test.ndjson(r.stdout)[0])
            r = self.enrich(srv.url, [rec(source__ip="45.154.244.193")], ["--include-non-ids", "--intel-ttl", "0s"])
            self.assertIn("threat", sds_test.ndjson(r.stdout)[0])
            self.assertNotIn("to_ids", json.loads(srv.requests()[-1]["body"]))

    def test_max_age_is_sent_as_last_and_honoured(self):
        recent = os.path.join(self.tmp.name, "recent.json")
        recent_event(recent, "45.154.244.193")
        with Server([FEED, recent]) as srv:
            r = self.enrich(srv.url, [rec(source__ip="45.154.244.193"), rec(dns__question__name="aaaaa655.com")],
                            ["--intel-max-age", "1d"])
            out = sds_test.ndjson(r.stdout)
            self.assertIn("threat", out[0])      # published now
            self.assertNotIn("threat", out[1])   # Infoblox events of 2023/2024
            self.assertEqual(json.loads(srv.requests()[-1]["body"])["last"], "1d")
            self.assertEqual(sds_test.stats_of(r.stderr)["indicators"], 1)

    def test_wrong_key_is_an_auth_failure(self):
        bad = os.path.join(self.tmp.name, "bad.key")
        with open(bad, "w") as f:
            f.write("not-the-key")
        with Server([REGIN]) as srv:
            r = self.enrich(srv.url, [rec(source__ip="1.2.3.4")], keyfile=bad)
            self.assertEqual(r.returncode, 3)
            self.assertIn(b"authentication failed", r.stderr)
            self.assertNotIn(b"not-the-key", r.stderr)
            self.assertFalse(srv.requests()[0]["authorization_ok"])

    def test_cache_is_used_within_ttl_and_stale_cache_when_unreachable(self):
        recent = os.path.join(self.tmp.name, "recent.json")
        recent_event(recent, "45.154.244.193")
        port = free_port()
        with Server([recent], port=port) as srv:
            url = srv.url
            r = self.enrich(url, [rec(source__ip="45.154.244.193")])
            self.assertEqual(r.returncode, 0, r.stderr)
            r = self.enrich(url, [rec(source__ip="45.154.244.193")])
            self.assertEqual(len(srv.requests()), 1)  # second run served from the cache
            self.assertIn("threat", sds_test.ndjson(r.stdout)[0])
        # The server is gone: with the TTL passed, the stale copy is used with a warning.
        r = self.enrich(url, [rec(source__ip="45.154.244.193")], ["--intel-ttl", "0s"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"warning: misp unreachable, using a cached copy", r.stderr)
        self.assertIn("threat", sds_test.ndjson(r.stdout)[0])
        # A 503 from MISP falls back the same way.
        with Server([recent], fail_with=503, port=port) as srv:
            r = self.enrich(url, [rec(source__ip="45.154.244.193")], ["--intel-ttl", "0s"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"HTTP 503", r.stderr)
            self.assertIn("threat", sds_test.ndjson(r.stdout)[0])
            self.assertEqual(len(srv.requests()), 1)

    def test_unreachable_without_cache_fails_with_3(self):
        r = self.enrich(f"http://127.0.0.1:{free_port()}", [rec(source__ip="1.2.3.4")])
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"sds-enrich: error:", r.stderr)

    def test_missing_key_file_is_a_usage_error(self):
        r = self.enrich("http://127.0.0.1:1", [rec(source__ip="1.2.3.4")], keyfile="/nonexistent/key")
        self.assertEqual(r.returncode, 2)


class ServerFilters(sds_test.ToolTest):
    """The test server itself answers as MISP documents restSearch."""

    def post(self, url, body, key=KEY):
        req = urllib.request.Request(url + "/attributes/restSearch", data=json.dumps(body).encode(),
                                     headers={"Authorization": key, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.load(r)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    def test_filters(self):
        with Server([REGIN, FEED]) as srv:
            code, all_ = self.post(srv.url, {"returnFormat": "json"})
            self.assertEqual(code, 200)
            attrs = all_["response"]["Attribute"]
            self.assertGreater(len(attrs), 1000)
            _, md5 = self.post(srv.url, {"returnFormat": "json", "type": "md5"})
            self.assertTrue(md5["response"]["Attribute"])
            self.assertEqual({a["type"] for a in md5["response"]["Attribute"]}, {"md5"})
            _, ids = self.post(srv.url, {"returnFormat": "json", "to_ids": 0})
            self.assertTrue(all(not a["to_ids"] for a in ids["response"]["Attribute"]))
            _, last = self.post(srv.url, {"returnFormat": "json", "last": "1d"})
            self.assertEqual(last["response"]["Attribute"], [])
            _, ts = self.post(srv.url, {"returnFormat": "json", "timestamp": 1700000000})
            self.assertTrue(all(int(a["timestamp"]) >= 1700000000 for a in ts["response"]["Attribute"]))
            self.assertLess(len(ts["response"]["Attribute"]), len(attrs))
            code, _ = self.post(srv.url, {"returnFormat": "json"}, key="wrong")
            self.assertEqual(code, 403)
            code, _ = self.post(srv.url, {"returnFormat": "stix2"})
            self.assertEqual(code, 400)


if __name__ == "__main__":
    sds_test.main()
