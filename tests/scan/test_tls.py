#!/usr/bin/env python3
"""sds-scan --tls against `openssl s_server` instances on 127.0.0.1 (loopback only) with
certificates this test generates: a valid chain from a test CA, expired, expiring, self-signed,
SAN mismatch, RSA-1024, SHA-1 signed, and a TLS 1.0-accepting server. Every finding must be
reported, and the certificate facts must equal what `openssl x509` says of the same files."""
import datetime
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import sds_test  # noqa: E402
from scan_helpers import V4  # noqa: E402

SCAN = sds_test.tool("sds-scan")
OPENSSL = shutil.which("openssl")
WEAK = "DEFAULT:@SECLEVEL=0"


def ossl(*args, cwd):
    r = subprocess.run([OPENSSL] + list(args), cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")
    return r.stdout


class Pki:
    """A test CA and leaf certificates signed by it (or by themselves)."""

    def __init__(self, d):
        self.d = d
        ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "30",
             "-subj", "/C=DE/O=sds test CA/CN=sds test root", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)

    def leaf(self, name, cn="localhost", san="DNS:localhost,IP:127.0.0.1", days=365, bits=2048, digest="sha256",
             self_signed=False):
        with open(os.path.join(self.d, name + ".ext"), "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
        ossl("req", "-new", "-newkey", f"rsa:{bits}", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
             "-subj", f"/C=DE/O=sds test/CN={cn}", cwd=self.d)
        sign = ["-signkey", name + ".key"] if self_signed else ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"]
        ossl("x509", "-req", "-in", name + ".csr", *sign, "-days", str(days), f"-{digest}", "-extfile", name + ".ext",
             "-out", name + ".pem", cwd=self.d)
        return os.path.join(self.d, name + ".pem"), os.path.join(self.d, name + ".key")


class Server:
    """openssl s_server on a free port of `host` (127.0.0.1 unless given)."""

    def __init__(self, cert, key, extra=(), host=V4):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        s.bind((host, 0))
        self.port = s.getsockname()[1]
        s.close()
        self.err = tempfile.TemporaryFile()  # a file, not a pipe: a chatty server never blocks on it
        self.p = subprocess.Popen([OPENSSL, "s_server", "-accept", f"{host}:{self.port}", "-cert", cert, "-key", key,
                                   "-quiet", "-naccept", "1000"] + list(extra),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.err)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.p.poll() is not None:
                self.err.seek(0)
                raise RuntimeError("s_server did not start: " + self.err.read().decode(errors="replace"))
            try:
                socket.create_connection((host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("s_server did not listen")

    def close(self):
        self.p.kill()
        self.p.wait()
        self.err.close()


def openssl_facts(pem):
    """What openssl x509 says of a certificate file, in the shape sds-scan reports it."""
    out = subprocess.run([OPENSSL, "x509", "-in", pem, "-noout", "-subject", "-issuer", "-serial", "-startdate",
                          "-enddate", "-fingerprint", "-sha256", "-nameopt", "sep_comma_plus_space,sname,esc_2253,utf8"],
                         capture_output=True, text=True, check=True).stdout
    kv = dict(l.split("=", 1) for l in out.splitlines())
    text = subprocess.run([OPENSSL, "x509", "-in", pem, "-noout", "-text"], capture_output=True, text=True,
                          check=True).stdout
    san = subprocess.run([OPENSSL, "x509", "-in", pem, "-noout", "-ext", "subjectAltName"], capture_output=True,
                         text=True, check=True).stdout
    names = []
    for part in "".join(san.splitlines()[1:]).split(","):
        part = part.strip()
        if ":" in part:
            names.append(part.split(":", 1)[1])

    def when(s):
        d = datetime.datetime.strptime(s.replace("  ", " "), "%b %d %H:%M:%S %Y %Z")
        return d.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return {
        "subject": kv["subject"], "issuer": kv["issuer"], "serial": kv["serial"].upper(),
        "not_before": when(kv["notBefore"]), "not_after": when(kv["notAfter"]),
        "sha256": [v for k, v in kv.items() if k.endswith("Fingerprint")][0].replace(":", ""),
        "sig": re.search(r"Signature Algorithm: (\S+)", text).group(1),
        "bits": int(re.search(r"Public-Key: \((\d+) bit\)", text).group(1)),
        "key": "RSA" if "rsaEncryption" in text else "?",
        "sans": names,
    }


@unittest.skipIf(OPENSSL is None, "openssl not installed")
class Tls(sds_test.ToolTest):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.pki = Pki(d)
        p = cls.pki
        cls.certs = {
            "good": p.leaf("good"),
            "expired": p.leaf("expired", days=-1),
            "expiring": p.leaf("expiring", days=5),
            "selfsigned": p.leaf("selfsigned", self_signed=True),
            "mismatch": p.leaf("mismatch", cn="www.other.test", san="DNS:www.other.test"),
            "rsa1024": p.leaf("rsa1024", bits=1024),
            "sha1": p.leaf("sha1", digest="sha1"),
        }
        cls.servers = {}
        for name, (cert, key) in cls.certs.items():
            extra = ["-cipher", WEAK, "-no_tls1", "-no_tls1_1"] if name in ("rsa1024", "sha1") else []
            cls.servers[name] = Server(cert, key, ["-cert_chain", os.path.join(d, "ca.pem")] + extra)
        try:
            cls.servers["tls10"] = Server(*cls.certs["good"], ["-cipher", WEAK, "-tls1"])
        except RuntimeError:
            pass  # OpenSSL built without TLS 1.0 support: that case is skipped
        ports = ",".join(str(s.port) for s in cls.servers.values())
        cls.run_ = sds_test.run([SCAN, "--stats", "--tls", "--cacert", os.path.join(d, "ca.pem"), "--warn-days", "30",
                                 "--banner-timeout", "200ms", "-p", ports, "localhost"], timeout=120)
        recs = sds_test.ndjson(cls.run_.stdout)
        by_port = {r["destination"]["port"]: r for r in recs}
        cls.rec = {name: by_port.get(s.port) for name, s in cls.servers.items()}

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.close()
        cls.tmp.cleanup()

    def findings(self, name):
        r = self.rec[name]
        self.assertIsNotNone(r, f"no record for {name}")
        return {f["id"] for f in r["sds"]["scan"]["findings"]}

    def test_run_is_clean_and_conserved(self):
        self.assertEqual(self.run_.returncode, 0, self.run_.stderr)
        st = sds_test.stats_of(self.run_.stderr)
        self.assertConserved(st)
        self.assertEqual(st["out"], len(self.servers))
        self.assertEqual(st["tls_endpoints"], len(self.servers))

    def test_valid_chain_has_no_findings(self):
        r = self.rec["good"]
        self.assertEqual(self.findings("good"), set())
        self.assertTrue(r["tls"]["established"])
        self.assertTrue(r["sds"]["scan"]["tls"]["chain_trusted"])
        self.assertTrue(r["sds"]["scan"]["tls"]["name_match"])
        self.assertEqual(r["destination"]["domain"], "localhost")
        self.assertIn(r["tls"]["version"], ("1.2", "1.3"))
        self.assertIn(r["tls"]["version"], r["sds"]["scan"]["tls"]["accepted_versions"])
        self.assertTrue(r["tls"]["cipher"].startswith("TLS_"))
        self.assertEqual(len(r["sds"]["scan"]["tls"]["chain"]), 2)  # leaf + the CA sent with -cert_chain

    def test_certificate_facts_equal_openssl_x509(self):
        for name, (pem, _) in self.certs.items():
            with self.subTest(name):
                want = openssl_facts(pem)
                x = self.rec[name]["tls"]["server"]["x509"]
                srv = self.rec[name]["tls"]["server"]
                self.assertEqual(x["subject"]["distinguished_name"], want["subject"])
                self.assertEqual(x["issuer"]["distinguished_name"], want["issuer"])
                self.assertEqual(x["serial_number"], want["serial"])
                self.assertEqual(x["not_before"], want["not_before"])
                self.assertEqual(x["not_after"], want["not_after"])
                self.assertEqual(srv["not_after"], want["not_after"])
                self.assertEqual(srv["hash"]["sha256"], want["sha256"])
                self.assertEqual(x["signature_algorithm"], want["sig"])
                self.assertEqual(x["public_key_size"], want["bits"])
                self.assertEqual(x["public_key_algorithm"], want["key"])
                self.assertEqual(x["alternative_names"], want["sans"])

    def test_expired(self):
        self.assertIn("tls.certificate_expired", self.findings("expired"))
        self.assertLess(self.rec["expired"]["sds"]["scan"]["tls"]["days_to_expiry"], 0)

    def test_expiring_within_warn_days(self):
        self.assertEqual(self.findings("expiring"), {"tls.certificate_expiring"})
        self.assertIn(self.rec["expiring"]["sds"]["scan"]["tls"]["days_to_expiry"], (4, 5))

    def test_self_signed(self):
        f = self.findings("selfsigned")
        self.assertIn("tls.self_signed", f)
        self.assertIn("tls.untrusted_chain", f)
        self.assertTrue(self.rec["selfsigned"]["sds"]["scan"]["tls"]["self_signed"])

    def test_name_mismatch(self):
        self.assertEqual(self.findings("mismatch"), {"tls.name_mismatch"})
        self.assertFalse(self.rec["mismatch"]["sds"]["scan"]["tls"]["name_match"])

    def test_rsa_1024(self):
        self.assertEqual(self.findings("rsa1024"), {"tls.weak_key"})

    def test_sha1_signature(self):
        self.assertEqual(self.findings("sha1"), {"tls.sha1_signature"})

    def test_tls10_accepted(self):
        if "tls10" not in self.servers:
            self.skipTest("this OpenSSL cannot serve TLS 1.0")
        r = self.rec["tls10"]
        self.assertEqual(r["sds"]["scan"]["tls"]["accepted_versions"], ["1.0"])
        self.assertEqual(r["tls"]["version"], "1.0")
        self.assertIn("tls.protocol_tls1_0_accepted", self.findings("tls10"))

    def test_modern_server_does_not_accept_old_versions(self):
        self.assertNotIn("1.0", self.rec["good"]["sds"]["scan"]["tls"]["accepted_versions"])
        self.assertNotIn("1.1", self.rec["good"]["sds"]["scan"]["tls"]["accepted_versions"])

    def test_system_store_does_not_trust_the_test_ca(self):
        s = self.servers["good"]
        r = sds_test.run([SCAN, "--tls", "--banner-timeout", "0", "-p", str(s.port), "localhost"])
        rec = sds_test.ndjson(r.stdout)[0]
        self.assertFalse(rec["sds"]["scan"]["tls"]["chain_trusted"])
        self.assertIn("tls.untrusted_chain", {f["id"] for f in rec["sds"]["scan"]["findings"]})

    def test_second_stage_reads_first_stage_output(self):
        s = self.servers["mismatch"]
        first = sds_test.run([SCAN, "--no-tls", "--banner-timeout", "0", "-p", str(s.port), "localhost"])
        self.assertEqual(len(sds_test.ndjson(first.stdout)), 1)
        self.assertNotIn(b'"tls"', first.stdout)
        second = sds_test.run([SCAN, "--stats", "--tls", "--banner-timeout", "0", "--cacert",
                               os.path.join(self.tmp.name, "ca.pem")], stdin=first.stdout)
        recs = sds_test.ndjson(second.stdout)
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["destination"]["domain"], "localhost")
        self.assertIn("tls.name_mismatch", {f["id"] for f in recs[0]["sds"]["scan"]["findings"]})
        self.assertConserved(sds_test.stats_of(second.stderr))

    def test_non_tls_port_with_tls_reports_the_failure(self):
        plain = socket.socket()
        plain.bind((V4, 0))
        plain.listen(8)
        try:
            r = sds_test.run([SCAN, "--tls", "--tls-timeout", "500ms", "--banner-timeout", "0", "-p",
                              str(plain.getsockname()[1]), V4])
            rec = sds_test.ndjson(r.stdout)[0]
            self.assertFalse(rec["tls"]["established"])
            self.assertTrue(rec["sds"]["scan"]["tls"]["error"])
        finally:
            plain.close()


if __name__ == "__main__":
    sds_test.main()
