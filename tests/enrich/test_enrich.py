#!/usr/bin/env python3
"""sds-enrich end to end: GeoIP/ASN on the MaxMind test databases and a flat-layout database,
intel matches from real MISP/STIX/CSV feeds, warninglists, the Unix manners (conservation,
garbage, usage and I/O errors)."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
import mmdb_writer  # noqa: E402
import sds_test  # noqa: E402

ENRICH = sds_test.tool("sds-enrich")
MMDB = os.path.join(sds_test.DATA_DIR, "mmdb")
INTEL = os.path.join(sds_test.DATA_DIR, "intel")
CITY = os.path.join(MMDB, "GeoIP2-City-Test.mmdb")
ASN = os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")


rec = sds_test.nested_record


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def enrich(args, lines, **kw):
    stdin = "".join(l + "\n" for l in lines)
    return sds_test.run([ENRICH, "--stats"] + args, stdin=stdin, **kw)


class Geo(sds_test.ToolTest):
    def test_city_and_asn_fill_ecs_geo_and_as(self):
        r = enrich(["--geoip", CITY, "--asn", ASN],
                   [rec(source__ip="89.160.20.128", destination__ip="2a02:cf40::1", client__ip="81.2.69.142",
                        server__ip="1.128.0.1")])
        self.assertEqual(r.returncode, 0, r.stderr)
        d = sds_test.ndjson(r.stdout)[0]
        g = d["source"]["geo"]
        self.assertEqual(g["city_name"], "Linköping")
        self.assertEqual(g["country_iso_code"], "SE")
        self.assertEqual(g["region_iso_code"], "SE-E")
        self.assertEqual(g["continent_code"], "EU")
        self.assertAlmostEqual(g["location"]["lat"], 58.4167)
        self.assertEqual(d["source"]["as"], {"number": 29518, "organization": {"name": "Bredband2 AB"}})
        self.assertEqual(d["destination"]["geo"]["country_iso_code"], "NO")
        self.assertEqual(d["client"]["geo"]["city_name"], "London")
        self.assertEqual(d["server"]["as"]["number"], 1221)
        self.assertConserved(sds_test.stats_of(r.stderr))

    def test_private_and_reserved_addresses_are_left_alone(self):
        lines = [rec(source__ip=ip) for ip in ("10.1.2.3", "192.168.1.1", "127.0.0.1", "fe80::1", "::1")]
        r = enrich(["--geoip", CITY, "--asn", ASN], lines)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.decode().splitlines(), lines)  # byte for byte

    def test_untouched_bytes_are_kept(self):
        line = '{"z":1.50,"source":{"ip":"89.160.20.128","port":443},"msg":"caf\\u00e9"}'
        r = enrich(["--geoip", CITY], [line])
        out = r.stdout.decode().rstrip("\n")
        self.assertTrue(out.startswith('{"z":1.50,"source":{"ip":"89.160.20.128","port":443,"geo":{'), out)
        self.assertTrue(out.endswith(',"msg":"caf\\u00e9"}'), out)

    def test_ip_fields_choose_the_fields_and_dotted_keys_work(self):
        line = '{"source.ip":"89.160.20.128","aws":{"src":"81.2.69.142"}}'
        r = enrich(["--geoip", CITY, "--ip-fields", "aws.src"], [line])
        d = sds_test.ndjson(r.stdout)[0]
        self.assertNotIn("source", d)
        self.assertEqual(d["aws"]["geo"]["city_name"], "London")
        r = enrich(["--geoip", CITY], [line])
        self.assertEqual(sds_test.ndjson(r.stdout)[0]["source"]["geo"]["country_iso_code"], "SE")

    def test_repeated_addresses_hit_the_cache(self):
        r = enrich(["--geoip", CITY], [rec(source__ip="89.160.20.128")] * 50)
        st = sds_test.stats_of(r.stderr)
        self.assertEqual(st["geo_lookups"], 50)
        self.assertEqual(st["geo_cache_hits"], 49)

    def test_flat_ip_location_db_layout_is_detected(self):
        with tempfile.TemporaryDirectory() as tmp:
            for dbtype in ("ip-location-db-city", "some-custom-geo"):
                db = os.path.join(tmp, dbtype + ".mmdb")
                mmdb_writer.write(db, mmdb_writer.FLAT_CITY, dbtype)
                r = enrich(["--geoip", db], [rec(source__ip="89.160.20.7", destination__ip="2a02:cf40::2")])
                self.assertEqual(r.returncode, 0, r.stderr)
                d = sds_test.ndjson(r.stdout)[0]
                self.assertEqual(d["source"]["geo"]["city_name"], "Linköping", dbtype)
                self.assertEqual(d["source"]["geo"]["region_name"], "Östergötland County")
                self.assertEqual(d["source"]["geo"]["location"], {"lat": 58.4167, "lon": 15.6167})
                self.assertEqual(d["destination"]["geo"]["country_iso_code"], "NO")

    def test_bad_or_missing_database_is_a_usage_error(self):
        for db in (os.path.join(MMDB, "GeoIP2-City-Test-Invalid-Node-Count.mmdb"), os.path.join(MMDB, "nope.mmdb"),
                   os.path.join(MMDB, "README.md")):
            r = enrich(["--geoip", db], [rec(source__ip="89.160.20.128")])
            if r.returncode == 0:  # libmaxminddb accepts some damage at open; lookups must still be clean
                continue
            self.assertEqual(r.returncode, 2, (db, r.stderr))
            self.assertIn(b"sds-enrich: error: cannot open database: ", r.stderr)


class Intel(sds_test.ToolTest):
    def test_feed_folder_stix_and_csv_matches_go_to_threat_enrichments(self):
        lines = [
            rec(source__ip="10.0.0.5", destination__ip="113.10.246.30"),        # poisonivy (STIX)
            rec(dns__question__name="x.aaaaa655.com"),                          # Infoblox MISP feed (parent)
            rec(url__domain="claudfront.net"),                                  # Infoblox CSV (defanged)
            rec(source__ip="223.167.0.9"),                                      # apt1 CIDR
            rec(file__hash__md5="001DD76872D80801692FF942308C64E6"),            # apt1 md5
            rec(source__ip="8.8.8.8"),                                          # nothing
        ]
        r = enrich(["--intel", os.path.join(INTEL, "misp", "feed-infoblox"),
                    "--intel", os.path.join(INTEL, "stix", "poisonivy.json"),
                    "--intel", os.path.join(INTEL, "stix", "apt1.json"),
                    "--intel", os.path.join(INTEL, "misp", "csv-infoblox", "c2_beacon_20230414_iocs.csv")], lines)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = sds_test.ndjson(r.stdout)
        e = out[0]["threat"]["enrichments"]
        self.assertEqual(len(e), 1)
        self.assertEqual(e[0]["matched"], {"atomic": "113.10.246.30", "field": "destination.ip",
                                           "type": "indicator_match_rule"})
        self.assertEqual(e[0]["indicator"]["type"], "ipv4-addr")
        self.assertEqual(e[0]["indicator"]["ip"], "113.10.246.30")
        e = out[1]["threat"]["enrichments"][0]
        self.assertEqual(e["indicator"]["url"]["domain"], "aaaaa655.com")
        self.assertEqual(e["indicator"]["provider"], "Infoblox")
        self.assertEqual(e["indicator"]["marking"]["tlp"], "WHITE")
        self.assertEqual(e["matched"]["atomic"], "x.aaaaa655.com")
        self.assertIn("claudfront.net", json.dumps(out[2]["threat"]))
        self.assertEqual(out[3]["threat"]["enrichments"][0]["indicator"]["name"], "223.166.0.0/15")
        self.assertEqual(out[4]["threat"]["enrichments"][0]["indicator"]["file"]["hash"]["md5"],
                         "001dd76872d80801692ff942308c64e6")
        self.assertNotIn("threat", out[5])
        st = sds_test.stats_of(r.stderr)
        self.assertConserved(st)
        self.assertEqual(st["records_matched"], 5)
        self.assertEqual(st["intel_missing_events"], 17)
        self.assertIn(b"17 of 46 events", r.stderr)

    def test_same_indicator_in_two_feeds_is_one_match_with_both_providers(self):
        with tempfile.TemporaryDirectory() as tmp:
            a, b = os.path.join(tmp, "feed-a.txt"), os.path.join(tmp, "feed-b.txt")
            write(a, "# a\n203.0.113.66\n")
            write(b, "203.0.113.66\n")
            r = enrich(["--intel", a, "--intel", b], [rec(source__ip="203.0.113.66")])
            e = sds_test.ndjson(r.stdout)[0]["threat"]["enrichments"]
            self.assertEqual(len(e), 1)
            self.assertEqual(e[0]["indicator"]["provider"], ["feed-a", "feed-b"])
            self.assertEqual(sds_test.stats_of(r.stderr)["intel_duplicates"], 1)

    def test_feed_files_read_side_by_side_merge_in_command_line_order(self):
        # Several files are parsed on threads; the result must be the sequential one.
        with tempfile.TemporaryDirectory() as tmp:
            a, b, c = (os.path.join(tmp, n) for n in ("feed-a.txt", "feed-b.txt", "feed-c.txt"))
            write(a, "evil.example\nD41D8CD98F00B204E9800998ECF8427E\nhttp://evil.example/x\n198.51.100.0/24\n")
            write(b, "da39a3ee5e6b4b0d3255bfef95601890afd80709\nd41d8cd98f00b204e9800998ecf8427e\n198.51.100.0/24\n")
            write(c, "EVIL.example\nother.example\nhttp://EVIL.example:80/x\n")
            r = enrich(["--intel", a, "--intel", b, "--intel", c, "--intel", a],
                       [rec(dns__question__name="www.evil.example", file__hash__md5="d41d8cd98f00b204e9800998ecf8427e",
                            file__hash__sha1="DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
                            url__full="http://evil.example/x", source__ip="198.51.100.9")])
            self.assertEqual(r.returncode, 0, r.stderr)
            e = sds_test.ndjson(r.stdout)[0]["threat"]["enrichments"]
            providers = {x["matched"]["field"]: x["indicator"]["provider"] for x in e}
            self.assertEqual(providers, {
                "source.ip": ["feed-a", "feed-b"],
                "dns.question.name": ["feed-a", "feed-c"],
                "url.full": ["feed-a", "feed-c"],
                "file.hash.md5": ["feed-a", "feed-b"],
                "file.hash.sha1": "feed-b",
            })
            self.assertEqual(e[0]["matched"]["field"], "source.ip")
            st = sds_test.stats_of(r.stderr)
            self.assertEqual(st["indicators"], 6)
            self.assertEqual(st["intel_duplicates"], 4 + 4)  # 4 across b and c, 4 for a again
            self.assertEqual(st["in"], st["out"])
            # The first bad file in command-line order is the one reported.
            bad = os.path.join(tmp, "broken.json")
            write(bad, '{"type": "bundle",\n "objects": [\n  {"type": "indicator",, }\n]}\n')
            r = enrich(["--intel", a, "--intel", os.path.join(tmp, "missing.txt"), "--intel", bad],
                       [rec(source__ip="1.2.3.4")])
            self.assertEqual(r.returncode, 2)
            self.assertIn(b"missing.txt", r.stderr)
            self.assertNotIn(b"broken.json", r.stderr)

    def test_feed_folder_parsed_on_threads_reports_the_first_broken_event(self):
        import shutil
        with tempfile.TemporaryDirectory() as tmp:
            feed = os.path.join(tmp, "feed")
            shutil.copytree(os.path.join(INTEL, "misp", "feed-infoblox"), feed)
            events = sorted(f for f in os.listdir(feed) if f != "manifest.json")
            for victim in (events[20], events[4]):  # manifest (uuid) order: events[4] comes first
                write(os.path.join(feed, victim), '{"Event": {"info": "x", "Attribute": [,]}}')
            r = enrich(["--intel", feed], [rec(source__ip="1.2.3.4")])
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"cannot parse feed: {os.path.join(feed, events[4])}:1 ".encode(), r.stderr)
            self.assertNotIn(events[20].encode(), r.stderr)

    def test_existing_enrichments_are_appended_to(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = os.path.join(tmp, "l.txt")
            write(a, "203.0.113.66\n")
            line = '{"source":{"ip":"203.0.113.66"},"threat":{"enrichments":[{"x":1}]}}'
            r = enrich(["--intel", a], [line])
            self.assertEqual(len(sds_test.ndjson(r.stdout)[0]["threat"]["enrichments"]), 2)

    def test_warninglists_remove_benign_values_and_are_counted(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = os.path.join(tmp, "l.txt")
            write(a, "10.0.0.1\n45.154.244.193\n2014.hack.lu\n")
            r = enrich(["--intel", a, "--warninglists", os.path.join(INTEL, "misp", "warninglists")],
                       [rec(source__ip="10.0.0.1"), rec(dns__question__name="2014.hack.lu"),
                        rec(source__ip="45.154.244.193")])
            out = sds_test.ndjson(r.stdout)
            self.assertNotIn("threat", out[0])
            self.assertNotIn("threat", out[1])
            self.assertIn("threat", out[2])
            st = sds_test.stats_of(r.stderr)
            self.assertEqual(st["intel_warninglisted"], 2)
            self.assertEqual(st["indicators"], 1)

    def test_unparseable_feed_exits_2_naming_file_and_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "broken.json")
            write(bad, '{"type": "bundle",\n "objects": [\n  {"type": "indicator",, }\n]}\n')
            r = enrich(["--intel", bad], [rec(source__ip="1.2.3.4")])
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"sds-enrich: error: cannot parse feed: {bad}:3 ".encode(), r.stderr)
            self.assertEqual(r.stdout, b"")

    def test_bad_entry_is_skipped_and_counted(self):
        with tempfile.TemporaryDirectory() as tmp:
            a = os.path.join(tmp, "l.txt")
            write(a, "203.0.113.66\nthis is no indicator\n")
            r = enrich(["--intel", a], [rec(source__ip="203.0.113.66")])
            self.assertEqual(r.returncode, 0)
            self.assertEqual(sds_test.stats_of(r.stderr)["intel_bad_entries"], 1)

    def test_missing_intel_file_is_a_usage_error(self):
        r = enrich(["--intel", "/nonexistent/feed.txt"], [rec(source__ip="1.2.3.4")])
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"/nonexistent/feed.txt", r.stderr)

    def test_misp_feed_over_http_with_missing_events(self):
        import functools
        import http.server
        import threading
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

        handler = functools.partial(Quiet, directory=os.path.join(INTEL, "misp"))
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                url = f"http://127.0.0.1:{srv.server_address[1]}/feed-infoblox/manifest.json"
                r = enrich(["--intel", url, "--intel-cache", tmp], [rec(dns__question__name="x.aaaaa655.com")])
                self.assertEqual(r.returncode, 0, r.stderr)
                e = sds_test.ndjson(r.stdout)[0]["threat"]["enrichments"][0]
                self.assertEqual(e["indicator"]["provider"], "Infoblox")
                st = sds_test.stats_of(r.stderr)
                self.assertEqual(st["intel_missing_events"], 17)
                self.assertGreater(st["indicators"], 1000)
        finally:
            srv.shutdown()


class Manners(sds_test.ToolTest):
    def test_garbage_lines_are_dead_lettered_and_counted(self):
        lines = [rec(source__ip="89.160.20.128"), "not json", "[1,2]", '{"a":', rec(source__ip="8.8.8.8")]
        r = enrich(["--geoip", CITY], lines)
        self.assertEqual(r.returncode, 1)
        st = sds_test.stats_of(r.stderr)
        self.assertEqual((st["in"], st["out"], st["rejected"]), (5, 2, 3))
        self.assertConserved(st)
        dead = [json.loads(l) for l in r.stderr.decode().splitlines() if l.startswith('{"@timestamp"')]
        self.assertEqual([d["line"] for d in dead], [2, 3, 4])

    def test_usage_error_exits_2(self):
        r = sds_test.run([ENRICH, "--no-such-option"])
        self.assertEqual(r.returncode, 2)

    def test_missing_input_exits_3(self):
        r = sds_test.run([ENRICH, "/nonexistent/input.ndjson"])
        self.assertEqual(r.returncode, 3)

    def test_dev_full_exits_3(self):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([ENRICH, "--geoip", CITY], input=(rec(source__ip="89.160.20.128") + "\n").encode() * 1000,
                               stdout=full, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 3)

    def test_closed_pipe_is_quiet(self):
        data = (rec(source__ip="89.160.20.128") + "\n") * 200000
        p = subprocess.run(f"'{ENRICH}' --geoip '{CITY}' | head -1", shell=True, input=data.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.stderr, b"")
        self.assertEqual(len(p.stdout.splitlines()), 1)


if __name__ == "__main__":
    sds_test.main()
