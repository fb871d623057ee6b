#!/usr/bin/env python3
"""Agreement with Elastic's own ingest pipelines, measured.

Feeds every pipeline-test input of ../shared/testdata/ecs-pipeline (Elastic License 2.0: read in
place, never copied) through sds-normalize and then sds-enrich with MaxMind's test databases
(tests/data/mmdb: GeoIP2-City-Test.mmdb, GeoLite2-ASN-Test.mmdb, the ones Elastic's geoip
processor tests use too) and compares the leaf fields of each document with
the `*-expected.json` document Elastic's pipeline produced. Prints per format: expected fields,
matched, missing, different, extra, and fails when a format's agreement drops below its floor in
tests/conformance/floors.json (so agreement can only go up).

  python3 test_conformance.py [-v]      -v lists every missing/different field
  SDS_CONFORMANCE_UPDATE=1              rewrites floors.json with the current figures

Each input event is wrapped as {"message": <the event>, "@source": {"uri": "<case>", "line": N}}:
sds-normalize unwraps JSON carried in `message`, text lines are read from it, and log.offset ties
every output document to its input event even when some are rejected.
"""
import ipaddress
import json
import math
import os
import re
import subprocess
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import sds_test  # noqa: E402

ECS_DIR = os.path.join(sds_test.SHARED_TESTDATA, "ecs-pipeline")
FLOORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "floors.json")
GEOIP_DB = os.path.join(sds_test.DATA_DIR, "mmdb", "GeoIP2-City-Test.mmdb")
ASN_DB = os.path.join(sds_test.DATA_DIR, "mmdb", "GeoLite2-ASN-Test.mmdb")

# Folder of ecs-pipeline -> sds-normalize format.
FORMATS = {
    "aws-cloudtrail": "cloudtrail",
    "aws-elb_logs": "alb",
    "aws-vpcflow": "vpcflow",
    "aws-waf": "waf",
    "suricata-eve": "suricata",
    "nginx-access": "nginx",
    "apache-access": "apache",
    "squid-log": "squid",
}

# Fields left out of the comparison: artefacts of Elastic's machinery, each with its reason.
EXCLUDED_EXACT = {
    "event.ingested": "time the document reached Elasticsearch: differs on every run",
    "event.created": "copied from the test harness's fixed Filebeat @timestamp (fields: in test-common-config.yml)",
    "ecs.version": "the pipeline's release constant; sds writes its own ECS version",
    "tags": "added by the test harness (preserve_original_event) and pipeline-internal markers",
    "aws.cloudtrail.request_parameters": "Java Map.toString() rendering ({a=b, ...}, hash order); sds writes compact JSON",
    "aws.cloudtrail.response_elements": "Java Map.toString() rendering; sds writes compact JSON",
    "aws.cloudtrail.additional_eventdata": "Java Map.toString() rendering; sds writes compact JSON",
    "aws.cloudtrail.service_event_details": "Java Map.toString() rendering; sds writes compact JSON",
}
EXCLUDED_PATTERNS = [
    (re.compile(r"^user_agent\.(?!original$).+"), "parsed by Elasticsearch's user-agent database (uap-core regexes), not a log field"),
]
# GeoIP/ASN fields (written by sds-enrich) of these addresses are not compared, with the reason.
GEO_FIELD = re.compile(r"^(?:(.+)\.)?(?:geo\..+|as\.(?:number|organization\.name))$")
DOC_NETS = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")]
EXCLUDED_GEO = ("geo/as of documentation addresses (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32): "
                "Elastic's newer bundled test database maps them (Las Vegas, Amsterdam, Madrid, AS64500-64502); "
                "MaxMind-DB's test databases do not, and sds-enrich leaves reserved addresses alone by design")


def geo_excluded(path, doc):
    """True for <parent>.geo.* / <parent>.as.* when <parent>.ip is a documentation address."""
    m = GEO_FIELD.match(path)
    if not m:
        return False
    node = doc
    for part in (m.group(1).split(".") if m.group(1) else []):
        node = node.get(part) if isinstance(node, dict) else None
    ip = node.get("ip") if isinstance(node, dict) else None
    if isinstance(ip, list):
        ip = ip[0] if ip else None
    try:
        addr = ipaddress.ip_address(ip)
    except (TypeError, ValueError):
        return False
    return any(addr in n for n in DOC_NETS if n.version == addr.version)


# Our own bookkeeping, never in Elastic's documents: not counted as extra.
OURS = re.compile(r"^(log\.file\.path|log\.offset|event\.ingested|event\.dataset|event\.module|ecs\.version|sds\..*)$")


def excluded(path):
    if path in EXCLUDED_EXACT:
        return True
    return any(p.match(path) for p, _ in EXCLUDED_PATTERNS)


def leaves(o, prefix=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from leaves(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix, o


def as_instant(v):
    if not isinstance(v, str) or not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", v):
        return None
    s = v.replace("Z", "+00:00")
    m = re.match(r"^(.*T\d\d:\d\d:\d\d)(\.\d+)?(.*)$", s)
    frac = (m.group(2) or ".0")[1:]
    try:
        base = datetime.fromisoformat(m.group(1) + (m.group(3) or "+00:00"))
    except ValueError:
        return None
    if base.tzinfo is None:
        base = base.replace(tzinfo=timezone.utc)
    return (int(base.timestamp()), int((frac + "000000000")[:9]))


def canon(v):
    """A comparable form: arrays as sorted multisets (Elasticsearch fields are multi-valued), a
    one-element array equals its element, numbers by value, date strings by instant."""
    if isinstance(v, list):
        if len(v) == 1:
            return canon(v[0])
        return sorted(json.dumps(canon(x), sort_keys=True) for x in v)
    if isinstance(v, bool) or v is None:
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return json.dumps(float(v)) if not (isinstance(v, float) and math.isnan(v)) else "nan"
    if isinstance(v, dict):
        return json.dumps(v, sort_keys=True)
    t = as_instant(v)
    if t is not None:
        return f"instant:{t}"
    return json.dumps(v)


def events_of(folder, name):
    with open(os.path.join(folder, name), encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if os.path.basename(folder) == "nginx-access":
        # multiline.first_line_pattern: a line not starting with an IPv4 address continues the last event.
        events = []
        for l in lines:
            if events and not re.match(r"^(?:[0-9]{1,3}\.){3}[0-9]{1,3}", l):
                events[-1] += "\n" + l
            else:
                events.append(l)
        return events
    return [l for l in lines if l.strip()]


def run_case(folder, name):
    events = events_of(folder, name)
    with open(os.path.join(folder, name + "-expected.json"), encoding="utf-8") as f:
        expected = json.load(f)["expected"]
    payload = "".join(json.dumps({"message": e, "@source": {"uri": name, "line": i + 1}}) + "\n"
                      for i, e in enumerate(events))
    p = subprocess.run([sds_test.tool("sds-normalize"), "--keep-original", "--dead-letter", "/dev/null", "--stats"],
                       input=payload.encode(), capture_output=True)
    if p.returncode not in (0, 1):
        raise AssertionError(f"sds-normalize failed on {name}: {p.returncode} {p.stderr.decode()[-500:]}")
    stats = sds_test.stats_of(p.stderr)
    assert stats["in"] == stats["out"] + stats["rejected"] + stats["filtered"], stats
    e = subprocess.run([sds_test.tool("sds-enrich"), "--geoip", GEOIP_DB, "--asn", ASN_DB, "--stats"],
                       input=p.stdout, capture_output=True)
    if e.returncode != 0:
        raise AssertionError(f"sds-enrich failed on {name}: {e.returncode} {e.stderr.decode()[-500:]}")
    estats = sds_test.stats_of(e.stderr)
    assert estats["in"] == estats["out"] == stats["out"], (stats, estats)
    got = {}
    for line in e.stdout.decode().splitlines():
        d = json.loads(line)
        got[d["log"]["offset"]] = d
    return events, expected, got


def compare(expected, got, tally, details, where):
    exp = {k: v for k, v in leaves(expected) if not excluded(k) and not geo_excluded(k, expected)}
    out = {k: v for k, v in leaves(got)} if got is not None else {}
    for k, v in exp.items():
        tally["expected"] += 1
        if k not in out:
            tally["missing"] += 1
            details.append(f"{where}: missing   {k} = {json.dumps(v)[:120]}")
        elif canon(out[k]) == canon(v):
            tally["matched"] += 1
        else:
            tally["different"] += 1
            details.append(f"{where}: different {k}: want {json.dumps(v)[:100]} got {json.dumps(out[k])[:100]}")
    for k, v in out.items():
        if k not in exp and not excluded(k) and not geo_excluded(k, got) and not OURS.match(k):
            tally["extra"] += 1
            details.append(f"{where}: extra     {k} = {json.dumps(v)[:120]}")


def measure():
    results = {}
    details = {}
    for folder_name in sorted(os.listdir(ECS_DIR)):
        folder = os.path.join(ECS_DIR, folder_name)
        if folder_name not in FORMATS or not os.path.isdir(folder):
            continue
        fmt = FORMATS[folder_name]
        tally = results.setdefault(fmt, {"docs": 0, "expected": 0, "matched": 0, "missing": 0, "different": 0, "extra": 0})
        notes = details.setdefault(fmt, [])
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".log") or not os.path.exists(os.path.join(folder, name + "-expected.json")):
                continue
            events, expected, got = run_case(folder, name)
            if len(events) != len(expected):
                raise AssertionError(f"{name}: {len(events)} events but {len(expected)} expected documents")
            for i, exp in enumerate(expected):
                tally["docs"] += 1
                compare(exp, got.get(i + 1), tally, notes, f"{name}:{i + 1}")
    return results, details


def pct(t):
    return 100.0 * t["matched"] / t["expected"] if t["expected"] else 100.0


class Conformance(sds_test.ToolTest):
    def test_agreement_with_elastic_pipelines(self):
        if not os.path.isdir(ECS_DIR):
            self.skipTest(f"Elastic pipeline test data not found at {ECS_DIR} (shared/testdata is not in this checkout)")
        results, details = measure()
        verbose = "-v" in sys.argv or os.environ.get("SDS_CONFORMANCE_VERBOSE") == "1"
        print(f"\n{'format':<12}{'docs':>6}{'expected':>10}{'matched':>9}{'missing':>9}{'different':>11}{'extra':>7}{'agree':>9}")
        for fmt, t in sorted(results.items()):
            print(f"{fmt:<12}{t['docs']:>6}{t['expected']:>10}{t['matched']:>9}{t['missing']:>9}{t['different']:>11}"
                  f"{t['extra']:>7}{pct(t):>8.1f}%")
            if verbose:
                for d in details[fmt]:
                    print("   " + d)
        print("exclusions:")
        for k, why in EXCLUDED_EXACT.items():
            print(f"  {k}: {why}")
        for p, why in EXCLUDED_PATTERNS:
            print(f"  /{p.pattern}/: {why}")
        print(f"  /{GEO_FIELD.pattern}/ when <parent>.ip is a documentation address: {EXCLUDED_GEO}")
        floors = {}
        if os.path.exists(FLOORS):
            with open(FLOORS) as f:
                floors = json.load(f)
        if os.environ.get("SDS_CONFORMANCE_UPDATE") == "1":
            new = {fmt: math.floor(pct(t) * 10) / 10 for fmt, t in sorted(results.items())}
            with open(FLOORS, "w") as f:
                json.dump(new, f, indent=2, sort_keys=True)
                f.write("\n")
            print(f"floors rewritten: {FLOORS}")
            return
        for fmt, t in results.items():
            self.assertIn(fmt, floors, f"{fmt} has no floor yet: run with SDS_CONFORMANCE_UPDATE=1")
            self.assertGreaterEqual(round(pct(t), 1), floors[fmt],
                                    f"{fmt}: agreement {pct(t):.1f}% fell below its floor {floors[fmt]}% (-v for details)")


if __name__ == "__main__":
    sds_test.main()
