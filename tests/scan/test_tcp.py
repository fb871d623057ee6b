#!/usr/bin/env python3
"""sds-scan TCP: the exact open set among listeners and closed ports on 127.0.0.1 and ::1,
banners and service guesses, garbage targets dead-lettered, NDJSON targets (including sds-scan's
own output), the Unix manners. Loopback only."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import sds_test  # noqa: E402
from scan_helpers import V4, V6, Listener, closed_ports  # noqa: E402

SCAN = sds_test.tool("sds-scan")
FAST = ["--banner-timeout", "300ms", "--timeout", "1s", "--rate", "0"]


def scan(args, stdin=None):
    r = sds_test.run([SCAN, "--stats"] + FAST + args, stdin=stdin)
    return r, sds_test.ndjson(r.stdout), sds_test.stats_of(r.stderr)


class Tcp(sds_test.ToolTest):
    def exact_open_set(self, host):
        listeners = [Listener(host) for _ in range(6)]
        try:
            open_ports = sorted(l.port for l in listeners)
            shut = closed_ports(host, 30, avoid=open_ports)
            ports = ",".join(str(p) for p in open_ports + shut)
            r, recs, st = scan(["-p", ports, host])
            self.assertEqual(r.returncode, 0, r.stderr)
            found = sorted(d["destination"]["port"] for d in recs)
            self.assertEqual(found, open_ports)
            for d in recs:
                self.assertEqual(d["destination"]["ip"], host)
                self.assertEqual(d["network"]["transport"], "tcp")
                self.assertEqual(d["network"]["type"], "ipv6" if ":" in host else "ipv4")
                self.assertEqual(d["event"]["kind"], "state")
                self.assertEqual(d["event"]["category"], ["network"])
                self.assertEqual(d["sds"]["scan"]["state"], "open")
                self.assertRegex(d["@timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertEqual(st["in"], 36)
            self.assertEqual(st["out"], 6)
            self.assertEqual(st["filtered"], 30)
            self.assertEqual(st["ports_closed"], 30)
            self.assertConserved(st)
        finally:
            for l in listeners:
                l.close()

    def test_exact_open_set_ipv4(self):
        self.exact_open_set(V4)

    def test_exact_open_set_ipv6(self):
        self.exact_open_set(V6)

    def test_all_reports_closed_ports_too(self):
        l = Listener(V4)
        try:
            shut = closed_ports(V4, 3, avoid=[l.port])
            r, recs, st = scan(["--all", "-p", ",".join(map(str, [l.port] + shut)), V4])
            states = {d["destination"]["port"]: d["sds"]["scan"]["state"] for d in recs}
            self.assertEqual(states, {l.port: "open", **{p: "closed" for p in shut}})
            self.assertEqual(st["out"], 4)
            self.assertConserved(st)
        finally:
            l.close()

    def test_banner_and_service_guess(self):
        ssh = Listener(V4, banner=b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
        smtp = Listener(V4, banner=b"220 mail.test ESMTP Postfix\r\n")
        silent = Listener(V4)
        try:
            r, recs, st = scan(["-p", f"{ssh.port},{smtp.port},{silent.port}", V4])
            by = {d["destination"]["port"]: d for d in recs}
            self.assertEqual(by[ssh.port]["sds"]["scan"]["banner"], "SSH-2.0-OpenSSH_9.2p1 Debian-2")
            self.assertEqual(by[ssh.port]["service"]["name"], "ssh")
            self.assertEqual(by[smtp.port]["service"]["name"], "smtp")
            self.assertEqual(by[smtp.port]["sds"]["scan"]["service"]["method"], "banner")
            self.assertNotIn("banner", by[silent.port]["sds"]["scan"])
        finally:
            for l in (ssh, smtp, silent):
                l.close()

    def test_garbage_targets_dead_lettered_rest_scanned(self):
        l = Listener(V4)
        try:
            bad = ["10.0.0.0/33", "300.1.2.3", "no-such-host.invalid", "bad_name!", "127.0.0.0/8"]
            stdin = "\n".join(bad + [V4, "# a comment", ""]) + "\n"
            r = sds_test.run([SCAN, "--stats", "--max-targets", "1000", "-p", str(l.port)] + FAST, stdin=stdin)
            self.assertEqual(r.returncode, 1, r.stderr)
            recs = sds_test.ndjson(r.stdout)
            self.assertEqual([(d["destination"]["ip"], d["destination"]["port"]) for d in recs], [(V4, l.port)])
            dead = [json.loads(x) for x in r.stderr.decode().splitlines() if x.startswith('{"@timestamp"')]
            self.assertEqual(sorted(d["record"] for d in dead), sorted(bad))
            reasons = {d["record"]: d["reason"] for d in dead}
            self.assertIn("invalid CIDR", reasons["10.0.0.0/33"])
            self.assertIn("invalid IP address", reasons["300.1.2.3"])
            self.assertIn("cannot resolve: no-such-host.invalid", reasons["no-such-host.invalid"])
            self.assertIn("invalid host name", reasons["bad_name!"])
            self.assertIn("over --max-targets", reasons["127.0.0.0/8"])
            for d in dead:
                self.assertEqual(d["tool"], "sds-scan")
                self.assertEqual(d["source"], "stdin")
                self.assertGreater(d["line"], 0)
            st = sds_test.stats_of(r.stderr)
            self.assertEqual(st["rejected"], 5)
            self.assertEqual(st["out"], 1)
            self.assertConserved(st)
        finally:
            l.close()

    def test_names_resolve_and_each_address_is_scanned_once(self):
        l = Listener(V4)
        try:
            r, recs, st = scan(["-p", str(l.port), "localhost", V4, V4 + "/32"])
            v4 = [d for d in recs if d["destination"]["ip"] == V4]
            self.assertEqual(len(v4), 1)
            self.assertEqual(v4[0]["destination"]["domain"], "localhost")
            self.assertConserved(st)
        finally:
            l.close()

    def test_ndjson_targets_and_own_output_as_input(self):
        a, b = Listener(V4), Listener(V4)
        try:
            lines = [json.dumps({"host": {"ip": V4}}), json.dumps({"nothing": 1}), "{broken"]
            r = sds_test.run([SCAN, "--stats", "-p", f"{a.port},{b.port}"] + FAST, stdin="\n".join(lines) + "\n")
            self.assertEqual(r.returncode, 1)
            first = sds_test.ndjson(r.stdout)
            self.assertEqual(sorted(d["destination"]["port"] for d in first), sorted([a.port, b.port]))
            st = sds_test.stats_of(r.stderr)
            self.assertEqual(st["rejected"], 2)
            self.assertConserved(st)
            # A second stage reads the first one's records: only the pinned (ip, port) pairs.
            b.close()
            r2 = sds_test.run([SCAN, "--stats", "--all"] + FAST, stdin=r.stdout)
            self.assertEqual(r2.returncode, 0, r2.stderr)
            second = {d["destination"]["port"]: d["sds"]["scan"]["state"] for d in sds_test.ndjson(r2.stdout)}
            self.assertEqual(second, {a.port: "open", b.port: "closed"})
            st2 = sds_test.stats_of(r2.stderr)
            self.assertEqual(st2["in"], 2)
            self.assertConserved(st2)
            # --target-field picks another field.
            r3 = sds_test.run([SCAN, "--target-field", "x.addr", "-p", str(a.port)] + FAST,
                              stdin=json.dumps({"x": {"addr": V4}}) + "\n")
            self.assertEqual([d["destination"]["port"] for d in sds_test.ndjson(r3.stdout)], [a.port])
        finally:
            a.close()

    def test_usage_errors_exit_2(self):
        for args in (["-p", "0", V4], ["-p", "http", V4], ["--timeout", "soon", V4], ["--nope"]):
            r = sds_test.run([SCAN] + args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(b"sds-scan: error:", r.stderr)

    def test_closed_pipe_ends_quietly(self):
        ls = [Listener(V4) for _ in range(20)]
        try:
            cmd = f"{SCAN} --rate 0 --banner-timeout 0 -p {','.join(str(l.port) for l in ls)} {V4} | head -1"
            r = sds_test.run(["bash", "-o", "pipefail", "-c", cmd])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(r.stderr, b"")
            self.assertEqual(len(r.stdout.splitlines()), 1)
        finally:
            for l in ls:
                l.close()


if __name__ == "__main__":
    sds_test.main()
