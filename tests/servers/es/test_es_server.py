#!/usr/bin/env python3
"""Tests for es_server.py, the Elasticsearch-compatible test server (unittest, standard library).

    python3 tests/servers/es/test_es_server.py [-v]

ElasticsearchBehaviour checks documented Elasticsearch behaviour only, so it can also be run
against a real cluster to check the server against the real thing:

    SDS_TEST_ES_URL=http://127.0.0.1:9200 python3 tests/servers/es/test_es_server.py ElasticsearchBehaviour

(it creates and deletes its own uniquely named indices, templates and data streams). The other
classes test the server's own features (fault injection, stats, limits, auth, CLI) and always
start local servers on free ports.
"""
import base64
import gzip
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "es_server.py")
PARSE_ERRORS = ("mapper_parsing_exception", "document_parsing_exception")


class LocalServer:
    """es_server.py started as a subprocess on a free port (--port 0 --port-file)."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="es-test-")
        self.port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", self.port_file,
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                out, err = self.proc.communicate(timeout=5)
                raise RuntimeError(f"es_server did not start: {err.decode()}")
            time.sleep(0.02)
        with open(self.port_file) as fh:
            self.port = int(fh.read())
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.proc.terminate()
        try:
            out, err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)
        return self.proc.returncode, out, err


class Client:
    """A keep-alive HTTP client returning (status, headers, parsed JSON or raw bytes)."""

    def __init__(self, url, auth=None):
        u = urlsplit(url)
        self.host, self.port = u.hostname, u.port or 9200
        self.auth = auth
        self.conn = None

    def _connect(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        return self.conn

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, gz=False, raw=False):
        hdrs = {}
        if self.auth:
            hdrs["Authorization"] = self.auth
        if body is not None:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                hdrs["Content-Type"] = "application/json"
            elif isinstance(body, str):
                body = body.encode()
            hdrs.setdefault("Content-Type", "application/x-ndjson")
            if gz:
                body = gzip.compress(body)
                hdrs["Content-Encoding"] = "gzip"
        hdrs.update(headers or {})
        for attempt in (1, 2):
            conn = self._connect()
            try:
                conn.request(method, path, body=body, headers=hdrs)
                resp = conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt == 2:
                    raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        if resp.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        if raw or not data:
            return resp.status, resp, data
        try:
            return resp.status, resp, json.loads(data)
        except ValueError:
            return resp.status, resp, data

    def bulk(self, lines, path="/_bulk", **kw):
        body = "".join((json.dumps(x) if not isinstance(x, str) else x) + "\n" for x in lines)
        return self.request("POST", path, body, **kw)


def items_of(resp_json):
    return [next(iter(it.values())) for it in resp_json["items"]]


class ElasticsearchBehaviour(unittest.TestCase):
    """Documented Elasticsearch REST behaviour; runs against SDS_TEST_ES_URL when set."""

    server = None

    @classmethod
    def setUpClass(cls):
        url = os.environ.get("SDS_TEST_ES_URL")
        if not url:
            cls.server = LocalServer()
            url = cls.server.url
        cls.es = Client(url)
        cls.p = f"sdstest-{uuid.uuid4().hex[:8]}"
        cls.templates = []

    @classmethod
    def tearDownClass(cls):
        if cls.server is None:    # a real cluster: clean up what the tests created
            cls.es.request("DELETE", f"/_data_stream/{cls.p}-*")
            cls.es.request("DELETE", f"/{cls.p}-*")
            for t in cls.templates:
                cls.es.request("DELETE", f"/_index_template/{t}")
            for t in ("ct-a", "ct-b"):
                cls.es.request("DELETE", f"/_component_template/{cls.p}-{t}")
        cls.es.close()
        if cls.server:
            cls.server.stop()

    def put_template(self, name, body):
        name = f"{self.p}-{name}"
        st, _, res = self.es.request("PUT", f"/_index_template/{name}", body)
        self.assertEqual(st, 200, res)
        self.templates.append(name)
        return name

    def count(self, target, query=None):
        st, _, res = self.es.request("POST" if query else "GET", f"/{target}/_count",
                                     {"query": query} if query else None)
        self.assertEqual(st, 200, res)
        return res["count"]

    # --- root and keep-alive ------------------------------------------------------------------
    def test_root_reports_a_version(self):
        st, resp, res = self.es.request("GET", "/")
        self.assertEqual(st, 200)
        self.assertIn("number", res["version"])
        self.assertIn("tagline", res)
        if "distribution" not in res["version"]:
            self.assertEqual(resp.getheader("X-elastic-product"), "Elasticsearch")
            if self.server:
                self.assertEqual(res["version"]["number"], "8.13.0")
                self.assertEqual(res["tagline"], "You Know, for Search")

    def test_keep_alive_reuses_one_connection(self):
        c = Client(self.es_url())
        try:
            c.request("GET", "/")
            sock = c.conn.sock
            for _ in range(5):
                st, _, _ = c.request("GET", "/")
                self.assertEqual(st, 200)
            self.assertIs(c.conn.sock, sock)
        finally:
            c.close()

    def es_url(self):
        return f"http://{self.es.host}:{self.es.port}"

    # --- bulk basics -----------------------------------------------------------------------------
    def test_bulk_actions_statuses_and_versions(self):
        idx = f"{self.p}-basic"
        st, _, res = self.es.bulk([
            {"index": {"_index": idx, "_id": "1"}}, {"n": 1, "s": "one"},
            {"create": {"_index": idx, "_id": "2"}}, {"n": 2},
            {"index": {"_index": idx, "_id": "1"}}, {"n": 10},
            {"update": {"_index": idx, "_id": "2"}}, {"doc": {"extra": True}},
            {"delete": {"_index": idx, "_id": "1"}},
            {"create": {"_index": idx}}, {"n": 3},
        ])
        self.assertEqual(st, 200, res)
        self.assertFalse(res["errors"], res)
        self.assertIsInstance(res["took"], int)
        its = items_of(res)
        self.assertEqual([next(iter(i)) for i in res["items"]], ["index", "create", "index", "update", "delete",
                                                                  "create"])
        self.assertEqual([i["status"] for i in its], [201, 201, 200, 200, 200, 201])
        self.assertEqual([i["result"] for i in its], ["created", "created", "updated", "updated", "deleted",
                                                      "created"])
        self.assertEqual([i["_version"] for i in its], [1, 1, 2, 2, 3, 1])
        for i in its:
            self.assertEqual(i["_index"], idx)
            self.assertEqual(i["_shards"]["failed"], 0)
            self.assertIn("_seq_no", i)
            self.assertEqual(i["_primary_term"], 1)
        auto_id = its[5]["_id"]
        self.assertTrue(auto_id and len(auto_id) >= 16, auto_id)
        st, _, doc = self.es.request("GET", f"/{idx}/_doc/2")
        self.assertEqual(st, 200)
        self.assertEqual(doc["_source"], {"n": 2, "extra": True})
        self.assertEqual(doc["_version"], 2)
        self.assertTrue(doc["found"])
        st, _, doc = self.es.request("GET", f"/{idx}/_doc/1")
        self.assertEqual(st, 404)
        self.assertFalse(doc["found"])
        st, _, doc = self.es.request("GET", f"/{idx}/_doc/{auto_id}")
        self.assertEqual(doc["_source"], {"n": 3})

    def test_index_in_path_and_pipeline_param(self):
        idx = f"{self.p}-pathidx"
        st, _, res = self.es.bulk([{"index": {"_id": "a"}}, {"x": 1}, {"create": {}}, {"x": 2}],
                                  path=f"/{idx}/_bulk?refresh=true")
        self.assertEqual(st, 200, res)
        self.assertEqual([i["_index"] for i in items_of(res)], [idx, idx])
        self.assertEqual(self.count(idx), 2)
        if self.server:   # a real cluster rejects pipelines that do not exist
            st, _, res = self.es.bulk([{"index": {"_id": "b", "pipeline": "p1"}}, {"x": 3}],
                                      path=f"/{idx}/_bulk?pipeline=p2")
            self.assertEqual(st, 200)
            self.assertFalse(res["errors"], res)

    def test_create_existing_id_is_409(self):
        idx = f"{self.p}-conflict"
        self.es.bulk([{"create": {"_index": idx, "_id": "x"}}, {"a": 1}])
        st, _, res = self.es.bulk([{"create": {"_index": idx, "_id": "x"}}, {"a": 2},
                                   {"create": {"_index": idx, "_id": "y"}}, {"a": 3}])
        self.assertEqual(st, 200)
        self.assertTrue(res["errors"])
        bad, good = items_of(res)
        self.assertEqual(bad["status"], 409)
        self.assertEqual(bad["error"]["type"], "version_conflict_engine_exception")
        self.assertEqual(bad["error"]["reason"], "[x]: version conflict, document already exists (current version [1])")
        self.assertEqual(bad["error"]["index"], idx)
        self.assertEqual(bad["_id"], "x")
        self.assertEqual(good["status"], 201)
        st, _, doc = self.es.request("GET", f"/{idx}/_doc/x")
        self.assertEqual(doc["_source"], {"a": 1})

    def test_update_and_delete_of_missing_documents(self):
        idx = f"{self.p}-missing"
        self.es.bulk([{"index": {"_index": idx, "_id": "present"}}, {"a": 1}])
        st, _, res = self.es.bulk([
            {"update": {"_index": idx, "_id": "nope"}}, {"doc": {"a": 1}},
            {"delete": {"_index": idx, "_id": "nope"}},
            {"update": {"_index": idx, "_id": "up"}}, {"doc": {"b": 2}, "doc_as_upsert": True},
            {"update": {"_index": idx, "_id": "up2"}}, {"doc": {"c": 1}, "upsert": {"c": 0}},
            {"update": {"_index": idx, "_id": "present"}}, {"doc": {"a": 1}},
        ])
        self.assertEqual(st, 200)
        self.assertTrue(res["errors"])
        upd, dele, ups, ups2, noop = items_of(res)
        self.assertEqual(upd["status"], 404)
        self.assertEqual(upd["error"]["type"], "document_missing_exception")
        self.assertEqual(upd["error"]["reason"], "[nope]: document missing")
        self.assertEqual(dele["status"], 404)
        self.assertEqual(dele["result"], "not_found")
        self.assertNotIn("error", dele)
        self.assertEqual((ups["status"], ups["result"]), (201, "created"))
        self.assertEqual((ups2["status"], ups2["result"]), (201, "created"))
        self.assertEqual((noop["status"], noop["result"]), (200, "noop"))
        self.assertEqual(self.es.request("GET", f"/{idx}/_doc/up2")[2]["_source"], {"c": 0})
        # A delete of a missing document alone is not an error.
        st, _, res = self.es.bulk([{"delete": {"_index": idx, "_id": "nope2"}}])
        self.assertFalse(res["errors"])

    def test_gzip_request_body(self):
        idx = f"{self.p}-gzip"
        lines = []
        for i in range(500):
            lines += [{"index": {"_index": idx, "_id": str(i)}}, {"i": i, "msg": "compressible " * 10}]
        st, _, res = self.es.bulk(lines, gz=True)
        self.assertEqual(st, 200, res)
        self.assertFalse(res["errors"])
        self.assertEqual(len(res["items"]), 500)
        self.es.request("POST", f"/{idx}/_refresh")
        self.assertEqual(self.count(idx), 500)

    def test_gzip_response_when_accepted(self):
        idx = f"{self.p}-gzresp"
        lines = []
        for i in range(100):
            lines += [{"index": {"_index": idx}}, {"i": i}]
        st, resp, res = self.es.bulk(lines, headers={"Accept-Encoding": "gzip"})
        self.assertEqual(st, 200)
        self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
        self.assertEqual(len(res["items"]), 100)

    # --- mappings ------------------------------------------------------------------------------
    def test_dynamic_mapping_types(self):
        idx = f"{self.p}-dyn"
        st, _, res = self.es.bulk([{"index": {"_index": idx, "_id": "1"}},
                                   {"l": 5, "f": 1.5, "b": True, "d": "2024-05-01T12:00:00Z", "s": "hello",
                                    "o": {"inner": "x"}, "dotted.path": 1, "nothing": None, "arr": [1, 2]}])
        self.assertFalse(res["errors"], res)
        st, _, m = self.es.request("GET", f"/{idx}/_mapping")
        props = m[idx]["mappings"]["properties"]
        self.assertEqual(props["l"]["type"], "long")
        self.assertEqual(props["f"]["type"], "float")
        self.assertEqual(props["b"]["type"], "boolean")
        self.assertEqual(props["d"]["type"], "date")
        self.assertEqual(props["s"]["type"], "text")
        self.assertEqual(props["s"]["fields"]["keyword"], {"type": "keyword", "ignore_above": 256})
        self.assertEqual(props["o"]["properties"]["inner"]["type"], "text")
        self.assertEqual(props["dotted"]["properties"]["path"]["type"], "long")
        self.assertEqual(props["arr"]["type"], "long")
        self.assertNotIn("nothing", props)
        # The first value fixed the type: a non-numeric string into "l" now fails.
        st, _, res = self.es.bulk([{"index": {"_index": idx, "_id": "2"}}, {"l": "abc"},
                                   {"index": {"_index": idx, "_id": "3"}}, {"l": "42", "s": 7},
                                   {"index": {"_index": idx, "_id": "4"}}, {"o": "flat"}])
        bad, ok, obj = items_of(res)
        self.assertEqual(bad["status"], 400)
        self.assertIn(bad["error"]["type"], PARSE_ERRORS)
        self.assertIn("failed to parse field [l] of type [long] in document with id '2'. "
                      "Preview of field's value: 'abc'", bad["error"]["reason"])
        self.assertEqual(ok["status"], 201)
        self.assertEqual(obj["status"], 400)
        self.assertIn("object mapping for [o] tried to parse field [o] as object, but found a concrete value",
                      obj["error"]["reason"])

    def test_failed_document_adds_no_mapping(self):
        idx = f"{self.p}-nomap"
        self.put_template("nomap", {"index_patterns": [idx], "priority": 500,
                                    "template": {"mappings": {"properties": {"ip": {"type": "ip"}}}}})
        st, _, res = self.es.bulk([{"index": {"_index": idx}}, {"ip": "bad", "newfield": 1}])
        self.assertTrue(res["errors"])
        st, _, m = self.es.request("GET", f"/{idx}/_mapping")
        self.assertNotIn("newfield", m[idx]["mappings"]["properties"])

    def test_template_mapping_conflicts(self):
        idx = f"{self.p}-typed-1"
        self.put_template("typed", {
            "index_patterns": [f"{self.p}-typed-*"], "priority": 500,
            "template": {"settings": {"number_of_shards": 1},
                         "mappings": {"properties": {
                             "src": {"properties": {"ip": {"type": "ip"}}},
                             "bytes": {"type": "long"}, "tag": {"type": "keyword"},
                             "ts": {"type": "date"}, "flag": {"type": "boolean"}}}}})
        st, _, res = self.es.bulk([
            {"index": {"_index": idx, "_id": "ok"}},
            {"src": {"ip": "2001:db8::1"}, "bytes": "123", "tag": 5, "ts": "2024-05-01", "flag": "true"},
            {"index": {"_index": idx, "_id": "ip"}}, {"src": {"ip": "not-an-ip"}},
            {"index": {"_index": idx, "_id": "long"}}, {"bytes": "many"},
            {"index": {"_index": idx, "_id": "kw"}}, {"tag": {"nested": 1}},
            {"index": {"_index": idx, "_id": "date"}}, {"ts": "yesterday"},
            {"index": {"_index": idx, "_id": "bool"}}, {"flag": "maybe"},
        ])
        self.assertEqual(st, 200)
        self.assertTrue(res["errors"])
        ok, ip, lng, kw, date, boolean = items_of(res)
        self.assertEqual(ok["status"], 201, ok)
        for it in (ip, lng, kw, date, boolean):
            self.assertEqual(it["status"], 400, it)
            self.assertIn(it["error"]["type"], PARSE_ERRORS)
        self.assertIn("failed to parse field [src.ip] of type [ip] in document with id 'ip'. "
                      "Preview of field's value: 'not-an-ip'", ip["error"]["reason"])
        self.assertEqual(ip["error"]["caused_by"], {"type": "illegal_argument_exception",
                                                    "reason": "'not-an-ip' is not an IP string literal."})
        self.assertIn("failed to parse field [bytes] of type [long] in document with id 'long'. "
                      "Preview of field's value: 'many'", lng["error"]["reason"])
        self.assertEqual(lng["error"]["caused_by"]["reason"], 'For input string: "many"')
        self.assertIn("failed to parse field [tag] of type [keyword] in document with id 'kw'. "
                      "Preview of field's value: '{nested=1}'", kw["error"]["reason"])
        self.assertIn("failed to parse field [ts] of type [date]", date["error"]["reason"])
        self.assertIn("failed to parse field [flag] of type [boolean]", boolean["error"]["reason"])
        self.assertIn("Failed to parse value [maybe] as only [true] or [false] are allowed.",
                      boolean["error"]["caused_by"]["reason"])

    def test_component_templates_are_composed(self):
        pa, pb = f"{self.p}-ct-a", f"{self.p}-ct-b"
        self.assertEqual(self.es.request("PUT", f"/_component_template/{pa}", {
            "template": {"mappings": {"properties": {"client": {"properties": {"ip": {"type": "ip"}}}}}}})[0], 200)
        self.assertEqual(self.es.request("PUT", f"/_component_template/{pb}", {
            "template": {"mappings": {"properties": {"port": {"type": "integer"}}}}})[0], 200)
        idx = f"{self.p}-composed"
        self.put_template("composed", {"index_patterns": [idx], "priority": 500, "composed_of": [pa, pb],
                                       "template": {"mappings": {"properties": {"name": {"type": "keyword"}}}}})
        st, _, res = self.es.bulk([{"index": {"_index": idx}}, {"client": {"ip": "1.2.3.4"}, "port": 80},
                                   {"index": {"_index": idx}}, {"client": {"ip": "300.1.1.1"}},
                                   {"index": {"_index": idx}}, {"port": 99999999999}])
        a, b, c = items_of(res)
        self.assertEqual(a["status"], 201, a)
        self.assertEqual(b["status"], 400)
        self.assertIn("[client.ip] of type [ip]", b["error"]["reason"])
        self.assertEqual(c["status"], 400)
        self.assertIn("[port] of type [integer]", c["error"]["reason"])
        st, _, m = self.es.request("GET", f"/{idx}/_mapping")
        props = m[idx]["mappings"]["properties"]
        self.assertEqual(props["name"]["type"], "keyword")
        self.assertEqual(props["port"]["type"], "integer")

    def test_index_template_get_head_and_missing(self):
        name = self.put_template("gethead", {"index_patterns": [f"{self.p}-gh-*"], "priority": 321,
                                             "template": {"mappings": {"properties": {"a": {"type": "keyword"}}}}})
        st, _, res = self.es.request("GET", f"/_index_template/{name}")
        self.assertEqual(st, 200)
        self.assertEqual(res["index_templates"][0]["name"], name)
        self.assertEqual(res["index_templates"][0]["index_template"]["priority"], 321)
        self.assertEqual(self.es.request("HEAD", f"/_index_template/{name}")[0], 200)
        self.assertEqual(self.es.request("HEAD", f"/_index_template/{self.p}-absent")[0], 404)
        st, _, res = self.es.request("GET", f"/_index_template/{self.p}-absent")
        self.assertEqual(st, 404)
        self.assertEqual(res["error"]["type"], "resource_not_found_exception")
        st, _, res = self.es.request("PUT", f"/_index_template/{self.p}-badref",
                                     {"index_patterns": ["zzz-none-*"], "composed_of": [f"{self.p}-nosuch"]})
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "invalid_index_template_exception")

    def test_strict_dynamic_and_dynamic_templates(self):
        idx = f"{self.p}-strict"
        self.put_template("strict", {"index_patterns": [idx], "priority": 500, "template": {"mappings": {
            "dynamic": "strict", "properties": {"known": {"type": "keyword"}}}}})
        st, _, res = self.es.bulk([{"index": {"_index": idx}}, {"known": "a"}, {"index": {"_index": idx}},
                                   {"unknown": 1}])
        ok, bad = items_of(res)
        self.assertEqual(ok["status"], 201)
        self.assertEqual(bad["status"], 400)
        self.assertEqual(bad["error"]["type"], "strict_dynamic_mapping_exception")
        self.assertIn("mapping set to strict, dynamic introduction of [unknown] within [_doc] is not allowed",
                      bad["error"]["reason"])
        idx2 = f"{self.p}-dyntpl"
        self.put_template("dyntpl", {"index_patterns": [idx2], "priority": 500, "template": {"mappings": {
            "dynamic_templates": [{"ips": {"match": "*_ip", "mapping": {"type": "ip"}}},
                                  {"strings": {"match_mapping_type": "string",
                                               "mapping": {"type": "keyword"}}}]}}})
        st, _, res = self.es.bulk([{"index": {"_index": idx2}}, {"src_ip": "10.0.0.1", "name": "n"},
                                   {"index": {"_index": idx2}}, {"dst_ip": "nope"}])
        ok, bad = items_of(res)
        self.assertEqual(ok["status"], 201, ok)
        self.assertEqual(bad["status"], 400)
        st, _, m = self.es.request("GET", f"/{idx2}/_mapping")
        props = m[idx2]["mappings"]["properties"]
        self.assertEqual(props["src_ip"]["type"], "ip")
        self.assertEqual(props["name"]["type"], "keyword")

    def test_put_index_and_mapping(self):
        idx = f"{self.p}-explicit"
        st, _, res = self.es.request("PUT", f"/{idx}", {"mappings": {"properties": {"n": {"type": "long"}}}})
        self.assertEqual(st, 200, res)
        self.assertEqual(res, {"acknowledged": True, "shards_acknowledged": True, "index": idx})
        st, _, res = self.es.request("PUT", f"/{idx}", {})
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "resource_already_exists_exception")
        st, _, res = self.es.request("PUT", f"/{self.p}-UPPER", {})
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "invalid_index_name_exception")
        st, _, m = self.es.request("GET", f"/{idx}/_mapping")
        self.assertEqual(m[idx]["mappings"]["properties"]["n"], {"type": "long"})
        self.assertEqual(self.es.request("HEAD", f"/{idx}")[0], 200)
        st, _, res = self.es.bulk([{"index": {"_index": f"{self.p}-BadName"}}, {"a": 1}])
        self.assertEqual(items_of(res)[0]["status"], 400)
        self.assertEqual(items_of(res)[0]["error"]["type"], "invalid_index_name_exception")

    # --- data streams ----------------------------------------------------------------------------
    def test_data_stream_accepts_create_only(self):
        ds = f"{self.p}-ds-web"
        self.put_template("ds", {"index_patterns": [f"{self.p}-ds-*"], "priority": 500, "data_stream": {},
                                 "template": {"mappings": {"properties": {"client": {"properties": {
                                     "ip": {"type": "ip"}}}}}}})
        st, _, res = self.es.bulk([
            {"create": {"_index": ds}}, {"@timestamp": "2024-05-01T00:00:00Z", "client": {"ip": "1.1.1.1"}},
            {"index": {"_index": ds}}, {"@timestamp": "2024-05-01T00:00:01Z"},
            {"create": {"_index": ds}}, {"@timestamp": "2024-05-01T00:00:02Z", "client": {"ip": "x"}},
            {"create": {"_index": ds}}, {"no_timestamp": True},
        ], path="/_bulk?refresh=true")
        self.assertEqual(st, 200)
        created, indexed, bad_ip, no_ts = items_of(res)
        self.assertEqual(created["status"], 201, created)
        self.assertTrue(created["_index"].startswith(f".ds-{ds}-"), created["_index"])
        self.assertEqual(indexed["status"], 400)
        self.assertEqual(indexed["error"]["type"], "illegal_argument_exception")
        self.assertIn("only write ops with an op_type of create are allowed in data streams",
                      indexed["error"]["reason"])
        self.assertEqual(bad_ip["status"], 400)
        self.assertEqual(no_ts["status"], 400)
        self.assertIn("@timestamp", no_ts["error"]["reason"])
        self.assertEqual(self.count(ds), 1)
        st, _, res = self.es.request("GET", f"/_data_stream/{ds}")
        self.assertEqual(st, 200)
        self.assertEqual(res["data_streams"][0]["name"], ds)
        st, _, res = self.es.request("PUT", f"/{self.p}-ds-direct", {})
        self.assertEqual(st, 400)

    # --- malformed requests ---------------------------------------------------------------------
    def test_malformed_ndjson_fails_the_whole_request(self):
        idx = f"{self.p}-malformed"
        st, _, res = self.es.request("POST", "/_bulk", '{"index":{"_index":"%s"}}\n{"a":1}\n{not json}\n' % idx)
        self.assertEqual(st, 400, res)
        self.assertIn(res["error"]["type"], ("x_content_parse_exception", "json_parse_exception",
                                             "illegal_argument_exception"))
        self.assertEqual(res["status"], 400)
        self.assertEqual(res["error"]["root_cause"][0]["type"], res["error"]["type"])
        st, _, res = self.es.request("POST", "/_bulk", '{"index":{"_index":"%s"}}\n{"a":1}' % idx)
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "illegal_argument_exception")
        self.assertIn("must be terminated by a newline", res["error"]["reason"])
        st, _, res = self.es.request("POST", "/_bulk", '{"upsert_all":{"_index":"%s"}}\n{"a":1}\n' % idx)
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "illegal_argument_exception")
        self.assertIn("Malformed action/metadata line [1]", res["error"]["reason"])
        st, _, res = self.es.request("POST", "/_bulk", '{"index":{"_index":"%s","bogus":1}}\n{"a":1}\n' % idx)
        self.assertEqual(st, 400)
        self.assertIn("unknown parameter [bogus]", res["error"]["reason"])
        st, _, res = self.es.request("POST", "/_bulk", '{"index":{}}\n{"a":1}\n')
        self.assertEqual(st, 400)
        self.assertEqual(res["error"]["type"], "action_request_validation_exception")
        self.assertIn("index is missing", res["error"]["reason"])
        # Nothing of a rejected request is stored.
        self.assertEqual(self.es.request("HEAD", f"/{idx}")[0], 404)

    def test_malformed_document_fails_only_its_item(self):
        idx = f"{self.p}-baddoc"
        st, _, res = self.es.request("POST", "/_bulk",
                                     '{"index":{"_index":"%s"}}\n{"a":1}\n{"index":{"_index":"%s"}}\n{"a":\n' % (idx, idx))
        self.assertEqual(st, 200, res)
        ok, bad = items_of(res)
        self.assertEqual(ok["status"], 201)
        self.assertEqual(bad["status"], 400)
        self.assertIn(bad["error"]["type"], PARSE_ERRORS)

    # --- refresh, count, search -------------------------------------------------------------------
    def test_count_and_search_after_refresh(self):
        idx = f"{self.p}-logs-a"
        idx2 = f"{self.p}-logs-b"
        self.put_template("norefresh", {"index_patterns": [f"{self.p}-logs-*"], "priority": 500,
                                        "template": {"settings": {"refresh_interval": "-1"},
                                                     "mappings": {"properties": {"user": {"properties": {
                                                         "name": {"type": "keyword"}}}}}}})
        lines = []
        for i in range(30):
            lines += [{"index": {"_index": idx if i % 3 else idx2, "_id": f"d{i}"}},
                      {"user": {"name": f"u{i % 5}"}, "msg": f"event number {i}", "n": i}]
        st, _, res = self.es.bulk(lines)
        self.assertFalse(res["errors"], res)
        self.assertEqual(self.count(idx), 0)       # not visible before a refresh
        st, _, res = self.es.request("POST", f"/{idx}/_refresh")
        self.assertEqual(st, 200)
        self.assertIn("_shards", res)
        self.assertEqual(self.count(idx), 20)
        self.assertEqual(self.es.request("POST", "/_refresh")[0], 200)
        self.assertEqual(self.count(f"{self.p}-logs-*"), 30)
        self.assertEqual(self.count(f"{idx},{idx2}"), 30)
        self.assertEqual(self.count(f"{self.p}-logs-*", {"term": {"user.name": "u1"}}), 6)
        self.assertEqual(self.count(f"{self.p}-logs-*", {"match_all": {}}), 30)
        st, _, res = self.es.request("POST", f"/{self.p}-logs-*/_search",
                                     {"query": {"match": {"msg": "number 7"}}, "size": 50})
        self.assertEqual(st, 200)
        self.assertEqual(res["hits"]["total"], {"value": 30, "relation": "eq"})   # "or" of the two words
        st, _, res = self.es.request("POST", f"/{self.p}-logs-*/_search",
                                     {"query": {"match": {"msg": {"query": "number 7", "operator": "and"}}}})
        self.assertEqual([h["_id"] for h in res["hits"]["hits"]], ["d7"])
        self.assertEqual(res["hits"]["hits"][0]["_source"]["n"], 7)
        st, _, res = self.es.request("POST", f"/{idx}/_search", {"query": {"term": {"user.name": "u2"}}, "size": 2})
        self.assertEqual(res["hits"]["total"]["value"], 4)
        self.assertEqual(len(res["hits"]["hits"]), 2)
        st, _, res = self.es.request("POST", f"/{self.p}-logs-*/_search", {"query": {"ids": {"values": ["d4", "d9"]}}})
        self.assertEqual(sorted(h["_id"] for h in res["hits"]["hits"]), ["d4", "d9"])
        st, _, res = self.es.request("GET", f"/{self.p}-logs-*/_search?size=3")
        self.assertEqual(len(res["hits"]["hits"]), 3)
        st, _, res = self.es.request("POST", f"/{self.p}-logs-*/_search", {"query": {"bool": {
            "filter": [{"range": {"n": {"gte": 10, "lt": 20}}}], "must_not": [{"term": {"user.name": "u0"}}]}}})
        self.assertEqual(res["hits"]["total"]["value"], 8)
        st, _, res = self.es.request("GET", f"/{self.p}-nosuchindex/_count")
        self.assertEqual(st, 404)
        self.assertEqual(res["error"]["type"], "index_not_found_exception")
        self.assertEqual(self.count(f"{self.p}-nomatch-*"), 0)

    def test_cat_indices_and_delete_index(self):
        idx = f"{self.p}-cat"
        self.es.bulk([{"index": {"_index": idx}}, {"a": 1}, {"index": {"_index": idx}}, {"a": 2}],
                     path="/_bulk?refresh=wait_for")
        st, _, rows = self.es.request("GET", f"/_cat/indices/{idx}?format=json")
        self.assertEqual(st, 200)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["index"], idx)
        self.assertEqual(rows[0]["docs.count"], "2")
        self.assertIn(rows[0]["health"], ("green", "yellow"))
        st, _, res = self.es.request("DELETE", f"/{idx}")
        self.assertEqual((st, res), (200, {"acknowledged": True}))
        st, _, res = self.es.request("DELETE", f"/{idx}")
        self.assertEqual(st, 404)
        self.assertEqual(res["error"]["type"], "index_not_found_exception")
        self.assertEqual(self.es.request("GET", f"/{idx}/_doc/1")[0], 404)

    def test_filter_path(self):
        idx = f"{self.p}-fp"
        st, _, res = self.es.bulk([{"create": {"_index": idx, "_id": "1"}}, {"a": 1},
                                   {"create": {"_index": idx, "_id": "1"}}, {"a": 1}],
                                  path="/_bulk?filter_path=errors,items.*.error.type,items.*.status")
        self.assertEqual(res, {"errors": True, "items": [
            {"create": {"status": 201}},
            {"create": {"status": 409, "error": {"type": "version_conflict_engine_exception"}}}]})

    def test_wrong_content_type_is_406(self):
        st, _, res = self.es.request("POST", "/_bulk", '{"index":{"_index":"%s-ct"}}\n{"a":1}\n' % self.p,
                                     headers={"Content-Type": "text/plain"})
        self.assertEqual(st, 406)


class ServerFeatures(unittest.TestCase):
    """Fault injection, stats, body limit, auth and CLI of es_server.py itself."""

    @classmethod
    def setUpClass(cls):
        cls.server = LocalServer()
        cls.es = Client(cls.server.url)

    @classmethod
    def tearDownClass(cls):
        cls.es.close()
        rc, out, err = cls.server.stop()
        assert out == b"", out           # silent without -v
        assert err == b"", err

    def setUp(self):
        self.assertEqual(self.es.request("POST", "/_sds_fault", {"reset": True})[0], 200)

    def tearDown(self):
        self.es.request("POST", "/_sds_fault", {"reset": True})

    def docs(self, idx, n, op="index", start=0):
        lines = []
        for i in range(start, start + n):
            lines += [{op: {"_index": idx, "_id": str(i)}}, {"i": i}]
        return lines

    def test_status_fault_for_next_requests(self):
        for status in (429, 503, 502, 504):
            self.es.request("POST", "/_sds_fault", {"status": status, "count": 2})
            for _ in range(2):
                st, resp, res = self.es.bulk(self.docs("f-status", 1))
                self.assertEqual(st, status)
                if status == 429:
                    self.assertEqual(res["error"]["type"], "es_rejected_execution_exception")
                    self.assertEqual(res["status"], 429)
            st, _, res = self.es.bulk(self.docs("f-status", 1))
            self.assertEqual(st, 200, res)
        # Control endpoints are never faulted; "path" limits a fault to matching requests.
        self.es.request("POST", "/_sds_fault", {"status": 503, "count": 1, "path": "_bulk"})
        self.assertEqual(self.es.request("GET", "/")[0], 200)
        self.assertEqual(self.es.request("GET", "/_sds_stats")[0], 200)
        self.assertEqual(self.es.bulk(self.docs("f-status", 1))[0], 503)
        self.assertEqual(self.es.bulk(self.docs("f-status", 1))[0], 200)

    def test_item_429_fraction(self):
        idx = "f-items"
        self.es.request("POST", "/_sds_fault", {"item_429_fraction": 0.2, "seed": 1})
        st, _, res = self.es.bulk(self.docs(idx, 1000), path="/_bulk?refresh=true")
        self.assertEqual(st, 200)
        self.assertTrue(res["errors"])
        its = items_of(res)
        rejected = [i for i in its if i["status"] == 429]
        self.assertTrue(150 <= len(rejected) <= 250, len(rejected))
        self.assertTrue(all(i["error"]["type"] == "es_rejected_execution_exception" for i in rejected))
        self.assertTrue(all(i["status"] == 201 for i in its if i["status"] != 429))
        st, _, c = self.es.request("GET", f"/{idx}/_count")
        self.assertEqual(c["count"], 1000 - len(rejected))    # rejected items are not stored
        # Same seed, same choice of items.
        self.es.request("DELETE", f"/{idx}")
        self.es.request("POST", "/_sds_fault", {"item_429_fraction": 0.2, "seed": 1})
        st, _, res2 = self.es.bulk(self.docs(idx, 1000))
        self.assertEqual([i["status"] for i in items_of(res2)], [i["status"] for i in its])
        # Retrying the rejected ones succeeds once the fault is cleared.
        self.es.request("POST", "/_sds_fault", {"reset": True})
        retry = []
        for i in rejected:
            retry += [{"index": {"_index": idx, "_id": i["_id"]}}, {"retry": True}]
        st, _, res3 = self.es.bulk(retry, path="/_bulk?refresh=true")
        self.assertFalse(res3["errors"])
        self.assertEqual(self.es.request("GET", f"/{idx}/_count")[2]["count"], 1000)

    def test_drop_connections(self):
        for mode in ("close", "half"):
            self.es.request("POST", "/_sds_fault", {"drop_connections": 1, "mode": mode})
            c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
            body = "".join(json.dumps(x) + "\n" for x in self.docs("f-drop", 3))
            c.request("POST", "/_bulk", body, {"Content-Type": "application/x-ndjson"})
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                r = c.getresponse()
                r.read()
            c.close()
            st, _, res = self.es.bulk(self.docs("f-drop", 3))
            self.assertEqual(st, 200, res)
        st, _, stats = self.es.request("GET", "/_sds_stats")
        self.assertEqual(stats["faults"]["dropped"], 2)

    def test_latency(self):
        self.es.request("POST", "/_sds_fault", {"latency_ms": 300})
        t = time.monotonic()
        self.assertEqual(self.es.request("GET", "/")[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.29)
        self.es.request("POST", "/_sds_fault", {"latency_ms": 0})
        t = time.monotonic()
        self.es.request("GET", "/")
        self.assertLess(time.monotonic() - t, 0.25)

    def test_mapping_conflict_field(self):
        self.es.request("POST", "/_sds_fault", {"mapping_conflict_field": "bad"})
        st, _, res = self.es.bulk([{"index": {"_index": "f-mc"}}, {"good": 1}, {"index": {"_index": "f-mc"}},
                                   {"bad": 1}])
        ok, bad = items_of(res)
        self.assertEqual(ok["status"], 201)
        self.assertEqual(bad["status"], 400)
        self.assertEqual(bad["error"]["type"], "mapper_parsing_exception")

    def test_fault_api_validation_and_state(self):
        st, _, res = self.es.request("POST", "/_sds_fault", {"nonsense": 1})
        self.assertEqual(st, 400)
        self.es.request("POST", "/_sds_fault", {"status": 429, "count": 3})
        st, _, res = self.es.request("GET", "/_sds_fault")
        self.assertEqual(res["status"], {"status": 429, "remaining": 3, "path": ""})
        self.es.request("POST", "/_sds_fault", {"reset": True})
        self.assertIsNone(self.es.request("GET", "/_sds_fault")[2]["status"])

    def test_stats(self):
        self.es.request("POST", "/_sds_stats/_reset")
        self.es.bulk(self.docs("f-stats", 10))
        self.es.bulk(self.docs("f-stats", 10, op="create"), gz=True)
        st, _, s = self.es.request("GET", "/_sds_stats")
        self.assertEqual(s["bulk_requests"], 2)
        self.assertEqual(s["bulk_items"], 20)
        self.assertEqual(s["bulk_item_status"], {"201": 10, "409": 10})
        self.assertEqual(s["bulk_ops"], {"index": 10, "create": 10})
        self.assertEqual(s["gzip_requests"], 1)
        self.assertGreater(s["bytes_in_decoded"], s["bytes_in"] - 1)
        self.assertEqual(s["status_counts"], {"200": 2})     # control requests are not counted
        self.assertEqual(s["requests"], 2)
        self.assertEqual(s["requests_by_endpoint"], {"bulk": 2})
        self.assertIn("bulk_seconds", s)

    def test_reset_everything(self):
        self.es.bulk(self.docs("f-reset", 2))
        self.assertEqual(self.es.request("POST", "/_sds_reset")[0], 200)
        self.assertEqual(self.es.request("HEAD", "/f-reset")[0], 404)

    def test_index_op_on_builtin_logs_data_stream(self):
        # Like a default Elasticsearch 8 install, logs-*-* names are data streams.
        st, _, res = self.es.bulk([{"index": {"_index": "logs-sds-test"}}, {"@timestamp": "2024-01-01T00:00:00Z"},
                                   {"create": {"_index": "logs-sds-test"}}, {"@timestamp": "2024-01-01T00:00:00Z"}])
        bad, ok = items_of(res)
        self.assertEqual(bad["status"], 400)
        self.assertEqual(ok["status"], 201)

    def test_single_document_apis(self):
        st, _, res = self.es.request("PUT", "/f-single/_doc/1?refresh=true", {"a": 1})
        self.assertEqual((st, res["result"]), (201, "created"))
        st, _, res = self.es.request("PUT", "/f-single/_create/1", {"a": 1})
        self.assertEqual(st, 409)
        self.assertEqual(res["error"]["type"], "version_conflict_engine_exception")
        st, _, res = self.es.request("POST", "/f-single/_update/1", {"doc": {"b": 2}})
        self.assertEqual((st, res["result"]), (200, "updated"))
        st, _, res = self.es.request("DELETE", "/f-single/_doc/1")
        self.assertEqual((st, res["result"]), (200, "deleted"))


class Limits(unittest.TestCase):
    """--max-body-bytes (413) and authentication (--user, --api-key)."""

    @classmethod
    def setUpClass(cls):
        cls.server = LocalServer("--max-body-bytes", "4096", "--user", "elastic:s3cret", "--api-key", "kid:kval")
        basic = "Basic " + base64.b64encode(b"elastic:s3cret").decode()
        cls.es = Client(cls.server.url, auth=basic)

    @classmethod
    def tearDownClass(cls):
        cls.es.close()
        cls.server.stop()

    def test_413_above_the_limit(self):
        small = '{"index":{"_index":"lim"}}\n{"a":1}\n'
        self.assertEqual(self.es.request("POST", "/_bulk", small)[0], 200)
        big = '{"index":{"_index":"lim"}}\n{"a":"%s"}\n' % ("x" * 5000)
        st, _, _ = self.es.request("POST", "/_bulk", big)
        self.assertEqual(st, 413)
        # Expect: 100-continue gets the 413 before the body is sent.
        s = socket.create_connection(("127.0.0.1", self.server.port))
        s.sendall(b"POST /_bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  b"Content-Length: 100000\r\nExpect: 100-continue\r\n\r\n")
        self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 413"))
        s.close()
        # The limit applies to the decompressed body too.
        st, _, _ = self.es.request("POST", "/_bulk", big, gz=True)
        self.assertEqual(st, 413)

    def test_auth(self):
        anon = Client(self.server.url)
        st, resp, res = anon.request("GET", "/")
        self.assertEqual(st, 401)
        self.assertEqual(res["error"]["type"], "security_exception")
        self.assertIn("missing authentication credentials", res["error"]["reason"])
        challenges = resp.headers.get_all("WWW-Authenticate")
        self.assertTrue(any(c.startswith("Basic") for c in challenges), challenges)
        self.assertIn("ApiKey", challenges)
        anon.close()
        wrong = Client(self.server.url, auth="Basic " + base64.b64encode(b"elastic:nope").decode())
        st, _, res = wrong.request("POST", "/_bulk", '{"index":{"_index":"a"}}\n{"a":1}\n')
        self.assertEqual(st, 401)
        self.assertIn("unable to authenticate user [elastic]", res["error"]["reason"])
        wrong.close()
        key = Client(self.server.url, auth="ApiKey " + base64.b64encode(b"kid:kval").decode())
        st, _, res = key.request("POST", "/_bulk", '{"index":{"_index":"a"}}\n{"a":1}\n')
        self.assertEqual(st, 200, res)
        self.assertEqual(key.request("GET", "/_security/_authenticate")[2]["authentication_type"], "api_key")
        key.close()
        badkey = Client(self.server.url, auth="ApiKey " + base64.b64encode(b"kid:wrong").decode())
        self.assertEqual(badkey.request("GET", "/")[0], 401)
        badkey.close()
        st, _, res = self.es.request("GET", "/_security/_authenticate")
        self.assertEqual(res["username"], "elastic")


class Cli(unittest.TestCase):
    def test_port_zero_prints_port_without_port_file(self):
        p = subprocess.Popen([sys.executable, SERVER, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            port = int(p.stdout.readline())
            c = Client(f"http://127.0.0.1:{port}")
            self.assertEqual(c.request("GET", "/")[0], 200)
            c.close()
        finally:
            p.terminate()
            p.communicate(timeout=10)

    def test_verbose_logs_to_stderr_and_opensearch_flavour(self):
        s = LocalServer("-v", "--distribution", "opensearch")
        try:
            c = Client(s.url)
            st, resp, res = c.request("GET", "/")
            self.assertEqual(res["version"]["distribution"], "opensearch")
            self.assertIsNone(resp.getheader("X-elastic-product"))
            # No built-in data-stream templates on OpenSearch: index ops into logs-*-* work.
            st, _, res = c.bulk([{"index": {"_index": "logs-a-b"}}, {"a": 1}])
            self.assertFalse(res["errors"], res)
            c.close()
        finally:
            rc, out, err = s.stop()
        self.assertIn(b"GET / HTTP/1.1", err)


if __name__ == "__main__":
    unittest.main()
