#!/usr/bin/env python3
"""Throughput of es_server.py: POST pre-built ~5 MiB _bulk bodies of CloudTrail-like documents
over keep-alive connections and report documents per second.

    python3 bench_es_server.py [--body-mib 5] [--requests 20] [--connections 1] [--gzip]
                               [--template] [--url http://127.0.0.1:9200]

Without --url it starts its own server on a free port (and stops it afterwards). The body is
built before timing starts, so the figure is the server's cost (plus loopback I/O), which is what
a fast C++ client would see.
"""
import argparse
import gzip
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))


def cloudtrail_doc(i):
    return {
        "@timestamp": f"2024-05-01T12:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z",
        "eventVersion": "1.08",
        "eventTime": "2024-05-01T12:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": ["GetObject", "PutObject", "ListBuckets", "AssumeRole"][i % 4],
        "awsRegion": "eu-west-1",
        "sourceIPAddress": f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}",
        "userAgent": "aws-sdk-go/1.44.0 (go1.20; linux; amd64)",
        "userIdentity": {"type": "AssumedRole", "principalId": f"AROAEXAMPLE{i % 97}:session",
                         "arn": f"arn:aws:sts::123456789012:assumed-role/role-{i % 13}/session",
                         "accountId": "123456789012",
                         "sessionContext": {"attributes": {"mfaAuthenticated": "false",
                                                           "creationDate": "2024-05-01T11:00:00Z"}}},
        "requestParameters": {"bucketName": f"bucket-{i % 31}", "key": f"logs/{i}.json.gz"},
        "responseElements": None,
        "requestID": f"REQ{i:012d}",
        "eventID": f"8f1d2c3b-{i:08x}-4e5f-9a0b-1c2d3e4f5a6b",
        "readOnly": i % 2 == 0,
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "123456789012",
        "bytesTransferred": {"in": i % 5000, "out": (i * 7) % 100000},
        "sds": {"ingest_seq": i, "score": (i % 100) / 7.0},
    }


def build_body(target_bytes, start, index):
    parts, n, size = [], 0, 0
    action = json.dumps({"create": {"_index": index}}).encode() + b"\n"
    while size < target_bytes:
        line = action + json.dumps(cloudtrail_doc(start + n), separators=(",", ":")).encode() + b"\n"
        parts.append(line)
        size += len(line)
        n += 1
    return b"".join(parts), n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--body-mib", type=float, default=5.0)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--template", action="store_true", help="install an index template with typed fields")
    ap.add_argument("--index", default="bench-cloudtrail")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra es_server.py argument for the server this script starts, e.g. "
                         "--server-arg=--skip-doc-parsing")
    a = ap.parse_args()
    proc = None
    url = a.url
    if not url:
        pf = tempfile.mktemp(prefix="es-bench-port-")
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, "es_server.py"), "--port", "0",
                                 "--port-file", pf, "--no-source"] + a.server_arg)
        for _ in range(100):
            if os.path.exists(pf):
                break
            time.sleep(0.05)
        url = f"http://127.0.0.1:{open(pf).read().strip()}"
        os.unlink(pf)
    u = urlsplit(url)
    try:
        if a.template:
            c = http.client.HTTPConnection(u.hostname, u.port)
            c.request("PUT", "/_index_template/bench", json.dumps({
                "index_patterns": [a.index + "*"], "priority": 500,
                "template": {"mappings": {"properties": {
                    "sourceIPAddress": {"type": "ip"}, "eventTime": {"type": "date"},
                    "eventName": {"type": "keyword"}, "awsRegion": {"type": "keyword"},
                    "bytesTransferred": {"properties": {"in": {"type": "long"}, "out": {"type": "long"}}}}}}}),
                {"Content-Type": "application/json"})
            assert c.getresponse().read() and True
        bodies = []
        docs_per_body = 0
        for k in range(min(a.requests, 4)):
            b, docs_per_body = build_body(int(a.body_mib * 1024 * 1024), k * 1_000_000, a.index)
            bodies.append(gzip.compress(b, 1) if a.gzip else b)
        raw_len = len(build_body(int(a.body_mib * 1024 * 1024), 0, a.index)[0])
        per_conn = [a.requests // a.connections + (1 if i < a.requests % a.connections else 0)
                    for i in range(a.connections)]
        errors = []
        latencies = []

        def worker(ci, n):
            c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
            hdr = {"Content-Type": "application/x-ndjson"}
            if a.gzip:
                hdr["Content-Encoding"] = "gzip"
            for r in range(n):
                t = time.perf_counter()
                c.request("POST", "/_bulk", bodies[(ci + r) % len(bodies)], hdr)
                resp = c.getresponse()
                data = resp.read()
                latencies.append(time.perf_counter() - t)
                if resp.status != 200 or data[:20].find(b'"errors":false') < 0 and b'"errors":false' not in data[:40]:
                    errors.append((resp.status, data[:300]))
            c.close()
        t0 = time.perf_counter()
        ts = [threading.Thread(target=worker, args=(i, n)) for i, n in enumerate(per_conn)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.perf_counter() - t0
        docs = docs_per_body * a.requests
        res = {"docs": docs, "requests": a.requests, "body_bytes": raw_len, "docs_per_body": docs_per_body,
               "wire_bytes": len(bodies[0]), "connections": a.connections, "gzip": a.gzip,
               "template": a.template, "server_args": " ".join(a.server_arg), "seconds": round(wall, 3), "docs_per_s": round(docs / wall),
               "mib_per_s": round(raw_len * a.requests / wall / 1048576, 1),
               "p50_request_ms": round(sorted(latencies)[len(latencies) // 2] * 1000, 1),
               "errors": len(errors)}
        c = http.client.HTTPConnection(u.hostname, u.port)
        c.request("GET", "/_sds_stats")
        r = c.getresponse()
        if r.status == 200:
            st = json.loads(r.read())
            if st.get("bulk_requests"):
                res["server_ms_per_bulk"] = round(st["bulk_seconds"] * 1000 / st["bulk_requests"], 1)
                res["server_docs_per_s"] = round(st["bulk_items"] / st["bulk_seconds"]) if st["bulk_seconds"] else None
        if errors:
            res["first_error"] = repr(errors[0])[:300]
        print(json.dumps(res) if a.json else "\n".join(f"{k}: {v}" for k, v in res.items()))
    finally:
        if proc:
            proc.terminate()
            proc.wait(5)


if __name__ == "__main__":
    main()
