"""Elasticsearch for the sds-ship tests: the project's es_server.py started on a free port, or a
real cluster when SDS_TEST_ES_URL is set (then tests that need fault injection or a specially
configured server skip, and every test uses its own uniquely named indices)."""
import base64
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from sds_test import SOURCE_DIR

REAL_URL = os.environ.get("SDS_TEST_ES_URL", "").rstrip("/")
SERVER = os.path.join(SOURCE_DIR, "tests", "servers", "es", "es_server.py")


class Cluster:
    def __init__(self, *server_args, real_ok=True, auth=None):
        self.proc = None
        self.auth = auth  # value of an Authorization header for our own requests
        self.real = bool(REAL_URL) and real_ok and not server_args
        if self.real:
            self.url = REAL_URL
            return
        self.dir = tempfile.mkdtemp(prefix="sds-es-")
        port_file = os.path.join(self.dir, "port")
        self.proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--port-file", port_file, *server_args])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("es_server.py did not start")
        with open(port_file) as f:
            self.url = "http://127.0.0.1:%s" % f.read().strip()

    def close(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def request(self, method, path, body=None, expect=None):
        data = None
        headers = {}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.auth:
            headers["Authorization"] = self.auth
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                status = r.status
        except urllib.error.HTTPError as e:
            raw = e.read()
            status = e.code
        if expect is not None and status not in expect:
            raise AssertionError("%s %s -> %d %s" % (method, path, status, raw[:300]))
        return status, (json.loads(raw) if raw.strip() else None)

    def count(self, target, query=None):
        self.request("POST", "/%s/_refresh" % target)
        body = {"query": query} if query else None
        _, r = self.request("POST" if body else "GET", "/%s/_count" % target, body, expect=(200,))
        return r["count"]

    def fault(self, **kw):
        self.request("POST", "/_sds_fault", kw, expect=(200,))

    def stats(self):
        return self.request("GET", "/_sds_stats", expect=(200,))[1]

    def delete_index(self, pattern):
        self.request("DELETE", "/" + pattern)


def unique(prefix="sds-test"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def make_docs(path, n, dataset="aws.cloudtrail", start=0, bad=(), pad=120):
    """n ECS-like documents with event.id e<i>; indices in `bad` get a source.ip that is no IP."""
    bad = set(bad)
    with open(path, "w") as f:
        for i in range(start, start + n):
            d = {
                "@timestamp": "2024-03-%02dT%02d:%02d:00.000Z" % (1 + i % 3, i % 24, i % 60),
                "event": {"id": "e%d" % i, "dataset": dataset, "kind": "event", "action": "ConsoleLogin"},
                "source": {"ip": "bad-ip-%d" % i if i in bad else "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)},
                "user": {"name": "user%d" % (i % 50)},
                "message": "m" * pad,
            }
            f.write(json.dumps(d, separators=(",", ":")) + "\n")
    return path


def read_ndjson(path):
    if not os.path.exists(path):
        return []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(l) for l in f if l.strip()]


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
