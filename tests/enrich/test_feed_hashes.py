#!/usr/bin/env python3
"""sds-enrich and a MISP feed's hashes.csv: values of events whose file is absent still match
through their md5, with the event uuid as reference; events that are loaded are not reported
twice. The hashes.csv is written here the way MISP's feed generators (PyMISP's
feed_meta_generator, MISP's tools/misp_feed_generator) write it, from the real Infoblox events
in tests/data/intel/misp/feed-infoblox (CC BY 4.0, © Infoblox, see tests/data/intel/README.md):
one "<md5 of the value>,<event uuid>" line per attribute of every event and of its objects,
composite types ("filename|sha256") hashed part by part, values as UTF-8, lower-case hex."""
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

ENRICH = sds_test.tool("sds-enrich")
FEED = os.path.join(sds_test.DATA_DIR, "intel", "misp", "feed-infoblox")
# Events removed from the copy: between them every attribute type the feed uses.
REMOVED = ("68f58844-4aa6-4e1c-8ee5-cfb58eb6665e", "2dc45085-7f6b-48ee-b726-400a326ad9b5",
           "6c1c6c4f-5cde-474f-bb69-8e5b8b041f81")


def attributes(event):
    out = list(event.get("Attribute", []))
    for o in event.get("Object", []) or []:
        out += o.get("Attribute", [])
    return out


def value_parts(a):
    if "|" in a["type"] or a["type"] == "malware-sample":
        return a["value"].split("|")
    return [str(a["value"])]


def hashes_csv_lines(folder):
    """What MISP's feed generator writes for the event files of `folder`."""
    lines = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json") or name == "manifest.json":
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            ev = json.load(f)["Event"]
        for a in attributes(ev):
            for part in value_parts(a):
                lines.append(f"{hashlib.md5(part.encode('utf-8')).hexdigest()},{ev['uuid']}")
    return lines


def values_by_event(folder):
    out = {}
    for name in os.listdir(folder):
        if name.endswith(".json") and name != "manifest.json":
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                ev = json.load(f)["Event"]
            out[ev["uuid"]] = [(a["type"], p) for a in attributes(ev) for p in value_parts(a)]
    return out


rec = sds_test.nested_record


def enrich(args, lines):
    return sds_test.run([ENRICH, "--stats"] + args, stdin="".join(l + "\n" for l in lines))


class FeedHashes(sds_test.ToolTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.feed = os.path.join(self.tmp.name, "feed-infoblox")
        shutil.copytree(FEED, self.feed)
        self.lines = hashes_csv_lines(self.feed)
        with open(os.path.join(self.feed, "hashes.csv"), "w") as f:
            f.write("".join(l + "\n" for l in self.lines))
        by_event = values_by_event(self.feed)
        with open(os.path.join(self.feed, "manifest.json")) as f:
            self.manifest = json.load(f)
        self.tlp = {u: next(t["name"][4:].upper() for t in m["Tag"] if t["name"].startswith("tlp:"))
                    for u, m in self.manifest.items()}
        kept = {v for u, vals in by_event.items() if u not in REMOVED for _, v in vals}
        kept_domains = {v for u, vals in by_event.items() if u not in REMOVED for t, v in vals if t == "domain"}
        removed_values = {v for u in REMOVED for _, v in by_event[u]}

        def no_parent_kept(d):
            labels = d.split(".")
            return not any(".".join(labels[i:]) in kept_domains for i in range(1, len(labels) - 1))

        # Per kind, the values only removed events hold (found in the data, not assumed), with
        # the removed events that hold each.
        cands = {}
        for u in REMOVED:
            for t, v in by_event[u]:
                kind = {"domain": "domain", "ip-dst": "ip", "url": "url"}.get(t)
                if t in ("sha256", "filename|sha256") and re.fullmatch("[0-9a-f]{64}", v):
                    kind = "sha256"
                if kind and v not in kept and (kind != "domain" or no_parent_kept(v)):
                    cands.setdefault(kind, {}).setdefault(v, set()).add(u)
        # The most widely shared one of each kind (an address is in two of them), then the first.
        self.only_removed = {k: min(c.items(), key=lambda kv: (-len(kv[1]), kv[0])) for k, c in cands.items()}
        self.in_kept = sorted(v for v in kept_domains if v not in removed_values)[0]
        for u in REMOVED:
            os.remove(os.path.join(self.feed, u + ".json"))

    def tearDown(self):
        self.tmp.cleanup()

    def records(self):
        o = self.only_removed
        return [
            rec(dns__question__name=o["domain"][0].upper() + "."),     # 0: via hashes.csv (normalised)
            rec(destination__ip=o["ip"][0]),                            # 1: via hashes.csv
            rec(url__full="http://" + o["url"][0]),                     # 2: via hashes.csv, scheme-less
            rec(file__hash__sha256=o["sha256"][0].upper()),             # 3: via hashes.csv
            rec(dns__question__name=self.in_kept),                      # 4: loaded event, once
            rec(source__ip="192.0.2.77", dns__question__name="nothing.example"),  # 5: nothing
        ]

    def check_matches(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        out = sds_test.ndjson(r.stdout)
        o = self.only_removed
        expect = [("domain", "dns.question.name", "domain-name"), ("ip", "destination.ip", "ipv4-addr"),
                  ("url", "url.full", "url"), ("sha256", "file.hash.sha256", "file")]
        for k, (kind, field, ecs_type) in enumerate(expect):
            value, uuids = o[kind]
            e = out[k]["threat"]["enrichments"]
            # One element per removed event holding the value, naming it.
            self.assertEqual(sorted(x["indicator"]["reference"] for x in e),
                             sorted(f"misp:event/{u}" for u in uuids), e)
            for x in e:
                self.assertEqual(x["indicator"]["provider"], "Infoblox")
                self.assertEqual(x["indicator"]["type"], ecs_type)
                self.assertEqual(x["indicator"]["name"], value)
                uuid = x["indicator"]["reference"].split("/")[-1]
                self.assertEqual(x["indicator"]["marking"]["tlp"], self.tlp[uuid])
                self.assertEqual(x["indicator"]["description"], self.manifest[uuid]["info"])
                self.assertNotIn("first_seen", x["indicator"])
                self.assertEqual(x["matched"]["field"], field)
                self.assertEqual(x["matched"]["type"], "indicator_match_rule")
        self.assertGreater(len(o["ip"][1]), 1)  # an address two removed events share: two elements
        self.assertEqual(out[0]["threat"]["enrichments"][0]["matched"]["atomic"], o["domain"][0].upper() + ".")
        self.assertEqual(out[0]["threat"]["enrichments"][0]["indicator"]["url"]["domain"], o["domain"][0])
        self.assertEqual(out[1]["threat"]["enrichments"][0]["indicator"]["ip"], o["ip"][0])
        self.assertEqual(out[3]["threat"]["enrichments"][0]["indicator"]["file"]["hash"]["sha256"], o["sha256"][0])
        # A value of a loaded event: its full indicator, and not a second time from hashes.csv.
        e = out[4]["threat"]["enrichments"]
        self.assertEqual(len(e), 1, e)
        self.assertIn("first_seen", e[0]["indicator"])
        self.assertNotIn("threat", out[5])
        st = sds_test.stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual(st["matches"] - st["records_matched"] + 5,
                         1 + sum(len(u) for _, u in o.values()))
        return st

    def expected_counts(self):
        kept_lines = [l for l in self.lines if l.split(",")[1] not in REMOVED]
        removed = {l for l in self.lines if l.split(",")[1] in REMOVED}
        return len(self.lines), len(removed), len(self.lines) - len(removed), len(kept_lines)

    def test_values_of_absent_events_match_through_hashes_csv(self):
        r = enrich(["--intel", self.feed], self.records())
        st = self.check_matches(r)
        self.assertEqual(st["records_matched"], 5)
        loaded, used, redundant, _ = self.expected_counts()
        self.assertEqual(st["intel_hashes_loaded"], loaded)
        self.assertEqual(st["intel_hashes_used"], used)
        self.assertEqual(st["intel_hashes_redundant"], redundant)
        self.assertEqual(st["intel_hashes_loaded"],
                         st["intel_hashes_used"] + st["intel_hashes_redundant"] + st["intel_hashes_expired"])
        self.assertEqual(st["intel_missing_events"], 17 + len(REMOVED))
        self.assertEqual(st["intel_bad_entries"], 0)

    def test_with_other_sources_loaded_beside_it(self):
        # Several local sources are parsed on threads into stores of their own, then merged.
        other = os.path.join(self.tmp.name, "list.txt")
        with open(other, "w") as f:
            f.write("198.51.100.200\n")
        r = enrich(["--intel", other, "--intel", self.feed], self.records() + [rec(source__ip="198.51.100.200")])
        st = self.check_matches(r)
        self.assertEqual(st["records_matched"], 6)
        self.assertEqual(st["intel_hashes_used"], self.expected_counts()[1])

    def test_without_hashes_csv_the_absent_events_do_not_match(self):
        os.remove(os.path.join(self.feed, "hashes.csv"))
        r = enrich(["--intel", self.feed], self.records())
        out = sds_test.ndjson(r.stdout)
        for k in range(4):
            self.assertNotIn("threat", out[k])
        st = sds_test.stats_of(r.stderr)
        self.assertEqual(st["intel_hashes_loaded"], 0)
        self.assertEqual(st["records_matched"], 1)

    def test_malformed_lines_are_skipped_and_counted(self):
        with open(os.path.join(self.feed, "hashes.csv"), "a") as f:
            f.write("not-a-hash,68f58844-4aa6-4e1c-8ee5-cfb58eb6665e\nd41d8cd98f00b204e9800998ecf8427e\n")
        r = enrich(["--intel", self.feed], self.records())
        st = self.check_matches(r)
        self.assertEqual(st["intel_bad_entries"], 2)
        self.assertEqual(st["intel_hashes_loaded"], len(self.lines))
        self.assertIn(b"hashes.csv:" + str(len(self.lines) + 1).encode(), r.stderr)

    def test_unparseable_hashes_csv_is_an_error_naming_file_and_line(self):
        path = os.path.join(self.feed, "hashes.csv")
        with open(path, "wb") as f:
            f.write(b"\n\x00\x01binary\n")
        r = enrich(["--intel", self.feed], self.records())
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"cannot parse feed: {path}:2 ".encode(), r.stderr)
        self.assertEqual(r.stdout, b"")

    def test_unreadable_hashes_csv_is_an_error_naming_the_file(self):
        path = os.path.join(self.feed, "hashes.csv")
        os.remove(path)
        os.mkdir(path)
        r = enrich(["--intel", self.feed], self.records())
        self.assertEqual(r.returncode, 2)
        self.assertIn(f"cannot open feed: {path} (".encode(), r.stderr)

    def test_warninglisted_values_do_not_match_through_hashes(self):
        wl = os.path.join(self.tmp.name, "wl")
        os.mkdir(wl)
        with open(os.path.join(wl, "list.json"), "w") as f:
            json.dump({"name": "test", "type": "hostname", "list": [self.only_removed["domain"][0]],
                       "version": 1, "description": "t", "matching_attributes": ["domain"]}, f)
        r = enrich(["--intel", self.feed, "--warninglists", wl], self.records()[:2])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = sds_test.ndjson(r.stdout)
        self.assertNotIn("threat", out[0])
        self.assertIn("threat", out[1])

    def test_feed_over_http_uses_its_hashes_csv(self):
        forbidden = set()

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                # As S3 answers for a missing key when the reader may not list the bucket.
                if self.path.rsplit("/", 1)[-1] in forbidden:
                    self.send_error(403)
                    return
                super().do_GET()

        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=self.tmp.name))
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            with tempfile.TemporaryDirectory() as cache:
                url = f"http://127.0.0.1:{srv.server_address[1]}/feed-infoblox/manifest.json"
                r = enrich(["--intel", url, "--intel-cache", cache], self.records())
                st = self.check_matches(r)
                loaded, used, redundant, _ = self.expected_counts()
                self.assertEqual((st["intel_hashes_loaded"], st["intel_hashes_used"], st["intel_hashes_redundant"]),
                                 (loaded, used, redundant))
                # A feed without hashes.csv (404) loads as before.
                os.remove(os.path.join(self.feed, "hashes.csv"))
                with tempfile.TemporaryDirectory() as cache2:
                    r = enrich(["--intel", url, "--intel-cache", cache2], self.records())
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertEqual(sds_test.stats_of(r.stderr)["intel_hashes_loaded"], 0)
                # ... and one that answers 403 for it (S3 without list permission) too, with a warning.
                forbidden.add("hashes.csv")
                with tempfile.TemporaryDirectory() as cache3:
                    r = enrich(["--intel", url, "--intel-cache", cache3], self.records())
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertIn(b"no readable hashes.csv (HTTP 403)", r.stderr)
                    self.assertEqual(sds_test.stats_of(r.stderr)["intel_hashes_loaded"], 0)
        finally:
            srv.shutdown()
            srv.server_close()


if __name__ == "__main__":
    sds_test.main()
