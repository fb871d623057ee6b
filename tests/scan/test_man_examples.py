#!/usr/bin/env python3
"""The EXAMPLES of man/sds-scan.1.in, read from the page and run as written (bash, sds-scan and
jq on PATH) against loopback fixtures: listeners on 127.0.0.1 and 127.0.0.2, an `openssl s_server`
with a certificate from a test CA, host lists holding loopback addresses only. What a command
cannot do on loopback as written is changed by the substitutions below, each of which must still
match the page. Every example must have a case here: a new or edited one fails until it has."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import sds_test  # noqa: E402
from scan_helpers import V4, Listener  # noqa: E402
from test_tls import Pki, Server  # noqa: E402

MAN = os.path.join(sds_test.SOURCE_DIR, "man", "sds-scan.1.in")
OPENSSL = shutil.which("openssl")
V4B = "127.0.0.2"  # also loopback (127.0.0.0/8), and nobody else's listeners bound to 127.0.0.1


def unescape(s):
    return s.replace("\\-", "-").replace("\\(aq", "'").replace("\\&", "").replace("\\e", "\\")


def examples():
    """The commands of the EXAMPLES section: one per .nf/.fi block, groff escapes undone."""
    with open(MAN) as f:
        text = f.read()
    section = text.split("\n.SH EXAMPLES\n", 1)[1].split("\n.SH ", 1)[0]
    out = []
    for block in re.findall(r"^\.nf\n(.*?)^\.fi$", section, re.M | re.S):
        lines = [l.strip() for l in block.splitlines() if l.strip() and not l.startswith(".")]
        out.append(unescape(" ".join(lines)))
    return out


TOP100 = "sds-scan -p top100 127.0.0.1 ::1"
FULL = "sds-scan -p - --rate 500 --dead-letter rejects.ndjson -i hosts.txt > ports.ndjson"
AGAIN = "sds-scan --all < ports.ndjson | jq -c '[.destination.port, .sds.scan.state]'"
CERTS = "sds-scan -p 443,8443 --cacert corp-ca.pem -i web-hosts.txt | jq -c '.sds.scan.findings'"
STAGES = "sds-scan --no-tls -p - 10.0.0.0/24 | sds-scan --tls > tls.ndjson"
PLAN = "sds-scan plan --seed 1 -i hosts.txt > plan.ndjson"

# (text on the page, text run instead, why)
SUBSTITUTIONS = {
    FULL: [("--rate 500", "--rate 0", "all 65,535 ports at 500 a second take over two minutes")],
    STAGES: [("10.0.0.0/24", V4B + "/32", "loopback only")],
}
# Environment (documented SDS_<OPTION> variables) a case runs with.
ENVIRONMENT = {
    TOP100: {"SDS_STATS": "true"},
    FULL: {"SDS_STATS": "true"},
    # The test CA's server listens on a free port (pinned by web-hosts.txt), not on 443/8443.
    CERTS: {"SDS_TLS": "true"},
    STAGES: {"SDS_RATE": "0"},
}


class ManExamples(sds_test.ToolTest):
    def test_every_example_has_a_case(self):
        self.assertEqual(sorted(examples()), sorted([TOP100, FULL, AGAIN, CERTS, STAGES, PLAN]),
                         "man/sds-scan.1.in EXAMPLES changed: give the new example a case in this test")
        for cmd, subs in SUBSTITUTIONS.items():
            for old, _, _ in subs:
                self.assertIn(old, cmd)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sds-scan-man-")
        self.env = dict(os.environ, PATH=os.path.abspath(sds_test.BIN_DIR) + os.pathsep + os.environ.get("PATH", ""))
        for k in list(self.env):
            if k.startswith("SDS_") and k not in ("SDS_BIN_DIR", "SDS_SOURCE_DIR"):
                del self.env[k]
        self.closers = []

    def tearDown(self):
        for c in reversed(self.closers):
            c()
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_example(self, example):
        self.assertIn(example, examples(), "not on the page")
        env = dict(self.env, **ENVIRONMENT.get(example, {}))
        cmd = example
        for old, new, _ in SUBSTITUTIONS.get(example, []):
            cmd = cmd.replace(old, new)
        return subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=self.dir, env=env, capture_output=True,
                              text=True, timeout=300)

    def write(self, name, text):
        with open(os.path.join(self.dir, name), "w") as f:
            f.write(text)

    def read_ndjson(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return [json.loads(l) for l in f if l.strip()]

    def listener(self, host=V4, banner=None):
        l = Listener(host, banner=banner)
        self.closers.append(l.close)
        return l

    def test_examples_run_as_documented(self):
        if not OPENSSL or not shutil.which("jq"):
            self.skipTest("openssl and jq are needed")
        pki = Pki(self.dir)
        cert, key = pki.leaf("web")
        shutil.copy(os.path.join(self.dir, "ca.pem"), os.path.join(self.dir, "corp-ca.pem"))
        a, b = self.listener(), self.listener()
        self.write("hosts.txt", f"# loopback only\n{V4}\nnot_a_host!\n")

        # The 100 most common ports of this machine: 100 probes per address.
        r = self.run_example(TOP100)
        self.assertEqual(r.returncode, 0, r.stderr)
        st = sds_test.stats_of(r.stderr.encode())
        self.assertEqual(st["in"], 200)
        self.assertEqual(st["addresses"], 2)
        self.assertConserved(st)
        for d in sds_test.ndjson(r.stdout.encode()):
            self.assertIn(d["destination"]["ip"], (V4, "::1"))
            self.assertEqual(d["sds"]["scan"]["state"], "open")

        # Every port of a host list; the bad line goes to rejects.ndjson (exit 1).
        r = self.run_example(FULL)
        self.assertEqual(r.returncode, 1, r.stderr)
        st = sds_test.stats_of(r.stderr.encode())
        self.assertEqual(st["in"], 65535 + 1)
        self.assertEqual(st["rejected"], 1)
        self.assertConserved(st)
        rejects = self.read_ndjson("rejects.ndjson")
        self.assertEqual([(d["record"], d["source"], d["line"]) for d in rejects], [("not_a_host!", "hosts.txt", 3)])
        ports = self.read_ndjson("ports.ndjson")
        found = {d["destination"]["port"] for d in ports}
        self.assertLessEqual({a.port, b.port}, found)
        self.assertEqual({d["destination"]["ip"] for d in ports}, {V4})
        self.assertEqual(len(found), len(ports))

        # Look again: one listener has gone since.
        b.close()
        r = self.run_example(AGAIN)
        self.assertEqual(r.returncode, 0, r.stderr)
        again = {p: s for p, s in (json.loads(l) for l in r.stdout.splitlines())}
        self.assertEqual(len(again), len(ports))
        self.assertEqual(again[a.port], "open")
        self.assertEqual(again[b.port], "closed")

        # Certificates checked against the internal CA: trusted, so no untrusted_chain finding.
        srv = Server(cert, key, host=V4)
        self.closers.append(srv.close)
        self.write("web-hosts.txt", json.dumps({"destination": {"ip": V4, "port": srv.port}}) + "\n")
        r = self.run_example(CERTS)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        findings = json.loads(lines[0])
        self.assertIsInstance(findings, list)  # null: no TLS inspection happened
        self.assertNotIn("tls.untrusted_chain", [f["id"] for f in findings])
        self.assertNotIn("tls.self_signed", [f["id"] for f in findings])

        # Two stages on 127.0.0.2: the open ports, then TLS on each of them.
        srv2 = Server(cert, key, host=V4B)
        self.closers.append(srv2.close)
        plain = self.listener(V4B, banner=b"")
        r = self.run_example(STAGES)
        self.assertEqual(r.returncode, 0, r.stderr)
        by_port = {d["destination"]["port"]: d for d in self.read_ndjson("tls.ndjson")}
        self.assertTrue(by_port[srv2.port]["tls"]["established"])
        self.assertEqual(by_port[srv2.port]["tls"]["server"]["x509"]["subject"]["common_name"], ["localhost"])
        self.assertFalse(by_port[plain.port]["tls"]["established"])
        self.assertEqual({d["destination"]["ip"] for d in by_port.values()}, {V4B})

        # A plan for the host list: the good line scheduled, the bad one dead-lettered (exit 1).
        r = self.run_example(PLAN)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("not_a_host!", r.stderr)
        plan = self.read_ndjson("plan.ndjson")
        self.assertEqual([d["target"] for d in plan], [V4])
        self.assertRegex(plan[0]["scheduled_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


if __name__ == "__main__":
    sds_test.main()
