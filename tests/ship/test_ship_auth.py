"""sds-ship authentication and --setup idempotence against the test server (real clusters:
SDS_TEST_ES_URL does not apply; these need a server configured with known credentials)."""
import os
import tempfile
import time

from sds_test import ToolTest, run, stats_of, tool, main
from ship_env import Cluster, make_docs, read_ndjson, unique, basic

SHIP = tool("sds-ship")


class Auth(ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.es = Cluster("--user", "loader:s3cret-pw", "--api-key", "kid:kkey-secret", real_ok=False,
                         auth=basic("loader", "s3cret-pw"))
        cls.tmp = tempfile.mkdtemp(prefix="sds-auth-")
        cls.docs = make_docs(os.path.join(cls.tmp, "d.ndjson"), 500)

    @classmethod
    def tearDownClass(cls):
        cls.es.close()

    def secret(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text + "\n")
        return p

    def ship(self, *args, env=None):
        name = unique()
        r = run([SHIP, "--es", self.es.url, "--index", name + "-{@timestamp:%Y.%m.%d}", "--stats",
                 "--dead-letter", os.path.join(self.tmp, name + ".dl"), *args, self.docs], env=env)
        return name, r

    def test_basic_auth_password_from_file_or_environment(self):
        name, r = self.ship("--user", "loader", "--password-file", self.secret("pw", "s3cret-pw"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.es.count(name + "-*"), 500)
        name, r = self.ship("--user", "loader", env={"SDS_ES_PASSWORD": "s3cret-pw"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.es.count(name + "-*"), 500)
        self.assertNotIn(b"s3cret", r.stderr)

    def test_api_key_in_id_colon_key_form(self):
        name, r = self.ship("--api-key-file", self.secret("key", "kid:kkey-secret"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.es.count(name + "-*"), 500)

    def test_wrong_password_exits_3_at_once_without_reading_input_and_never_prints_it(self):
        t0 = time.time()
        name, r = self.ship("--user", "loader", "--password-file", self.secret("bad", "wrong-pw-123"))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertLess(time.time() - t0, 10)
        self.assertIn(b"authentication failed", r.stderr)
        self.assertIn(b"401", r.stderr)
        self.assertNotIn(b"wrong-pw-123", r.stderr)
        self.assertEqual(stats_of(r.stderr)["in"], 0)

    def test_no_credentials_exits_3(self):
        _, r = self.ship()
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_missing_password_is_a_usage_error(self):
        _, r = self.ship("--user", "loader", env={"SDS_ES_PASSWORD": ""})
        self.assertEqual(r.returncode, 2, r.stderr)

    def test_setup_installs_templates_idempotently(self):
        tn = unique("tmpl")
        for _ in range(2):
            name, r = self.ship("--setup", "--template-name", tn, "--user", "loader", "--password-file",
                                self.secret("pw", "s3cret-pw"))
            self.assertEqual(r.returncode, 0, r.stderr)
        _, t = self.es.request("GET", "/_index_template/" + tn, expect=(200,))
        tmpl = t["index_templates"][0]["index_template"]
        self.assertEqual(tmpl["composed_of"], [tn + "-ecs-mappings"])
        self.assertIn("data_stream", tmpl)
        _, c = self.es.request("GET", "/_component_template/%s-ecs-mappings" % tn, expect=(200,))
        props = c["component_templates"][0]["component_template"]["template"]["mappings"]["properties"]
        self.assertEqual(props["source"]["properties"]["ip"]["type"], "ip")
        self.assertEqual(props["source"]["properties"]["geo"]["properties"]["location"]["type"], "geo_point")

    def test_usage_errors(self):
        r = run([SHIP, "--stats"])
        self.assertEqual(r.returncode, 2)
        r = run([SHIP, "--es", self.es.url, "--to", "x.ndjson"])
        self.assertEqual(r.returncode, 2)
        r = run([SHIP, "--es", self.es.url, "--index", "bad-{x"], stdin=b"")
        self.assertEqual(r.returncode, 2)

    def test_insecure_warns(self):
        _, r = self.ship("--insecure", "--user", "loader", env={"SDS_ES_PASSWORD": "s3cret-pw"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"NOT verified", r.stderr)

    def test_unreachable_cluster_exits_3_before_reading(self):
        r = run([SHIP, "--es", "http://127.0.0.1:9", "--stats", self.docs])
        self.assertEqual(r.returncode, 3)
        self.assertEqual(stats_of(r.stderr)["in"], 0)


if __name__ == "__main__":
    main()
