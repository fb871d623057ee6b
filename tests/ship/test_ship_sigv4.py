"""--aws-sigv4 es|aoss: every request carries a SigV4 Authorization for the right service and
region, the payload hash of the exact body sent (also gzip bodies), and the session token;
credentials come from the AWS chain (here: the environment) and are never printed. A local
responder records the requests and answers like a bulk endpoint."""
import gzip
import hashlib
import http.server
import json
import os
import tempfile
import threading

from sds_test import ToolTest, run, stats_of, tool, main
from ship_env import make_docs

SHIP = tool("sds-ship")


class Recorder(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *a):
        pass

    def reply(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        Recorder.seen.append((self.command, self.path, dict(self.headers), b""))
        self.reply({"version": {"number": "2.13.0", "distribution": "opensearch"}})

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.seen.append((self.command, self.path, dict(self.headers), body))
        raw = gzip.decompress(body) if self.headers.get("Content-Encoding") == "gzip" else body
        n = raw.count(b"\n") // 2
        self.reply({"took": 1, "errors": False, "items": [{"create": {"status": 201}}] * n})


class SigV4(ToolTest):
    def setUp(self):
        Recorder.seen = []
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.tmp = tempfile.mkdtemp(prefix="sds-sigv4-")
        self.docs = make_docs(os.path.join(self.tmp, "d.ndjson"), 2000)
        self.env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                    "AWS_SESSION_TOKEN": "session-token-xyz", "AWS_CONFIG_FILE": os.devnull,
                    "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true"}

    def tearDown(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def check(self, service, *extra):
        r = run([SHIP, "--es", self.url, "--aws-sigv4", service, "--region", "eu-west-1", "--stats",
                 "--batch-docs", "500", *extra, self.docs], env=self.env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(stats_of(r.stderr)["out"], 2000)
        self.assertNotIn(b"wJalrXUtnFEMI", r.stderr)
        posts = [s for s in Recorder.seen if s[0] == "POST"]
        self.assertEqual(len(posts), 4)
        for method, path, headers, body in Recorder.seen:
            h = {k.lower(): v for k, v in headers.items()}
            self.assertRegex(h["authorization"],
                             r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/eu-west-1/%s/aws4_request, "
                             r"SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-content-sha256[a-z0-9;-]*, Signature=[0-9a-f]{64}$"
                             % service)
            self.assertEqual(h["x-amz-content-sha256"], hashlib.sha256(body).hexdigest())
            self.assertEqual(h["x-amz-security-token"], "session-token-xyz")
        return posts

    def test_es_service_signs_every_request_with_payload_hash(self):
        self.check("es")

    def test_aoss_with_gzip_bodies_signs_the_compressed_bytes(self):
        posts = self.check("aoss", "--compress")
        self.assertTrue(all(p[2].get("Content-Encoding") == "gzip" for p in posts))

    def test_sigv4_without_region_is_a_usage_error(self):
        env = dict(self.env, AWS_REGION="", AWS_DEFAULT_REGION="")
        r = run([SHIP, "--es", self.url, "--aws-sigv4", "es", self.docs], env=env)
        self.assertEqual(r.returncode, 2, r.stderr)


if __name__ == "__main__":
    main()
