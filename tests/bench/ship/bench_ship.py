#!/usr/bin/env python3
"""sds-ship vs elasticdump (npm) vs curl posting pre-built bulk bodies (the ceiling), against
the same server in the same run: es_bench_server (C++, built with the tests; ids and versions
only, action lines parsed, sources not) or, with --server python, es_server.py
--skip-doc-parsing --no-source.

    python3 tests/bench/ship/bench_ship.py [--docs 1000000] [--concurrency 2] [--build DIR]

Prints docs/s for each and the ratios. elasticdump is installed with npm into --npm-prefix (a
temporary folder by default; reused when already there). Whether the server is the bottleneck
is measured, not assumed: for each run the server's own CPU time (from /proc) is divided by the
wall time (its share of a core) and by the documents (its CPU cost per document, hence its
capacity in docs/s per core). The curl ceiling is only a ceiling of the client side when it is
well below that capacity and the server is far from a whole core."""
import argparse
import hashlib
import resource
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(parts[11]) + int(parts[12])) / tick  # utime + stime


def http(url, method="GET", body=None):
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read() or b"null")


class Server:
    def __init__(self, tmp, kind, build):
        pf = os.path.join(tmp, "port")
        if kind == "cxx":
            argv = [os.path.join(build, "es_bench_server")]
        else:
            argv = [sys.executable, os.path.join(SRC, "tests/servers/es/es_server.py"), "--skip-doc-parsing", "--no-source",
                    "--no-builtin-templates"]
        self.name = os.path.basename(argv[-1] if kind == "cxx" else argv[1])
        self.proc = subprocess.Popen(argv + ["--port", "0", "--port-file", pf])
        while not os.path.exists(pf):
            time.sleep(0.05)
        self.url = "http://127.0.0.1:" + open(pf).read().strip()

    def reset(self):
        http(self.url + "/_sds_reset", "POST")

    def count(self):
        http(self.url + "/_refresh", "POST")
        return http(self.url + "/bench/_count")["count"]

    def stats(self):
        return http(self.url + "/_sds_stats")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def make_docs(path, n):
    """ECS documents shaped like sds-normalize's CloudTrail output (~600 bytes each)."""
    with open(path, "w") as f:
        for i in range(n):
            d = {"@timestamp": "2024-08-%02dT%02d:%02d:%02d.000Z" % (1 + i % 28, i % 24, i % 60, i % 59),
                 "event": {"id": "%08x-9898-433f-b10d-%012x" % (i, i * 7919), "dataset": "aws.cloudtrail", "kind": "event",
                           "category": ["iam"], "type": ["admin", "creation"], "outcome": "success",
                           "action": "CreateRole", "provider": "iam.amazonaws.com", "module": "aws"},
                 "source": {"ip": "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)},
                 "user": {"name": "user%d" % (i % 997), "id": "AIDAK4TRC24VBN0JX8JX"},
                 "related": {"user": ["user%d" % (i % 997)], "ip": ["10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)]},
                 "cloud": {"account": {"id": "609418236337"}, "region": "eu-west-1", "provider": "aws"},
                 "user_agent": {"original": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64"},
                 "aws": {"cloudtrail": {"event_version": "1.09", "event_type": "AwsApiCall", "read_only": False,
                                        "request_id": "105d4d57-6f6d-43ce-b6a4-%012x" % i}}}
            f.write(json.dumps(d, separators=(",", ":")) + "\n")


def build_bodies(docs, outdir, batch_bytes):
    """The same bulk bodies sds-ship would send (create, 32-hex ids), pre-built for curl."""
    files = []
    buf = []
    size = 0
    with open(docs) as f:
        for line in f:
            line = line.rstrip("\n")
            d = json.loads(line)
            _id = hashlib.md5((d["event"]["dataset"] + "\x1f" + d["event"]["id"]).encode()).hexdigest()
            action = '{"create":{"_index":"bench","_id":"%s"}}' % _id
            buf.append(action + "\n" + line + "\n")
            size += len(action) + len(line) + 2
            if size >= batch_bytes:
                files.append(os.path.join(outdir, "body%05d" % len(files)))
                with open(files[-1], "w") as o:
                    o.write("".join(buf))
                buf, size = [], 0
    if buf:
        files.append(os.path.join(outdir, "body%05d" % len(files)))
        with open(files[-1], "w") as o:
            o.write("".join(buf))
    return files


def to_elasticdump_format(docs, path):
    with open(docs) as f, open(path, "w") as o:
        for line in f:
            d = json.loads(line)
            _id = hashlib.md5((d["event"]["dataset"] + "\x1f" + d["event"]["id"]).encode()).hexdigest()
            o.write(json.dumps({"_index": "bench", "_id": _id, "_source": d}, separators=(",", ":")) + "\n")


def measure(server, name, cmd, n, **kw):
    server.reset()
    cpu0 = cpu_seconds(server.proc.pid)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    wall = time.time() - t0
    cpu = cpu_seconds(server.proc.pid) - cpu0
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    client_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    st = server.stats()
    got = server.count()
    if r.returncode != 0:
        print("%s failed (%d): %s" % (name, r.returncode, r.stderr.decode()[-500:]), file=sys.stderr)
    res = {"name": name, "docs": got, "expected": n, "seconds": wall, "docs_per_s": got / wall if wall else 0,
           "server_cpu_seconds": cpu, "server_cpu_share": cpu / wall, "server_bulk_share": st.get("bulk_seconds", 0) / wall,
           "server_us_per_doc": 1e6 * cpu / got if got else 0, "requests": st.get("bulk_requests"),
           "client_cpu_seconds": client_cpu, "client_us_per_doc": 1e6 * client_cpu / got if got else 0}
    print("%-12s %9d docs %8.2f s %10.0f docs/s   client CPU %6.2f s (%5.2f us/doc)   server CPU %5.2f s "
          "(%4.2f us/doc, %3.0f%% of a core)"
          % (name, got, wall, res["docs_per_s"], client_cpu, res["client_us_per_doc"], cpu, res["server_us_per_doc"],
             100 * res["server_cpu_share"]))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--elasticdump-docs", type=int, default=0, help="docs for elasticdump (default: all; it is slow)")
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--batch-bytes", type=int, default=5 << 20)
    ap.add_argument("--build", default=os.path.join(SRC, "build", "release"))
    ap.add_argument("--npm-prefix", default=os.path.join(tempfile.gettempdir(), "sds-bench-elasticdump"))
    ap.add_argument("--skip-elasticdump", action="store_true")
    ap.add_argument("--server", choices=("cxx", "python"), default="cxx",
                    help="es_bench_server (default) or es_server.py --skip-doc-parsing --no-source")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="sds-bench-ship-")
    try:
        docs = os.path.join(tmp, "docs.ndjson")
        make_docs(docs, a.docs)
        mb = os.path.getsize(docs) / 1e6
        print("%d documents, %.0f MB, concurrency %d, %d-byte batches" % (a.docs, mb, a.concurrency, a.batch_bytes))
        bodies_dir = os.path.join(tmp, "bodies")
        os.mkdir(bodies_dir)
        bodies = build_bodies(docs, bodies_dir, a.batch_bytes)
        server = Server(tmp, a.server, a.build)
        print("server: %s (pid %d), %d CPUs" % (server.name, server.proc.pid, os.cpu_count()))
        results = []
        ship = os.path.join(a.build, "sds-ship")
        results.append(measure(server, "sds-ship", [ship, "--es", server.url, "--index", "bench", "--concurrency",
                                                    str(a.concurrency), "--batch-bytes", str(a.batch_bytes),
                                                    "--batch-docs", "1000000", docs], a.docs))
        cfg = os.path.join(tmp, "curl.cfg")
        with open(cfg, "w") as f:
            for i, b in enumerate(bodies):
                if i:
                    f.write("next\n")
                f.write('url = "%s/_bulk"\ndata-binary = "@%s"\nheader = "Content-Type: application/x-ndjson"\n'
                        'header = "Expect:"\noutput = "/dev/null"\nsilent\n' % (server.url, b))
        results.append(measure(server, "curl", ["curl", "--parallel", "--parallel-max", str(a.concurrency),
                                                "--parallel-immediate", "-K", cfg], a.docs))
        if not a.skip_elasticdump:
            ed = os.path.join(a.npm_prefix, "node_modules", ".bin", "elasticdump")
            if not os.path.exists(ed):
                print("installing elasticdump with npm into %s ..." % a.npm_prefix)
                subprocess.run(["npm", "install", "--prefix", a.npm_prefix, "--no-audit", "--no-fund", "elasticdump"],
                               check=True, stdout=subprocess.DEVNULL)
            n_ed = a.elasticdump_docs or a.docs
            ed_docs = os.path.join(tmp, "ed-src.ndjson")
            if n_ed < a.docs:
                with open(docs) as f, open(ed_docs + ".part", "w") as o:
                    for i, line in enumerate(f):
                        if i >= n_ed:
                            break
                        o.write(line)
                to_elasticdump_format(ed_docs + ".part", ed_docs)
            else:
                to_elasticdump_format(docs, ed_docs)
            results.append(measure(server, "elasticdump", [ed, "--input", ed_docs, "--output", server.url + "/bench",
                                                           "--type", "data", "--limit", "5000", "--quiet"], n_ed))
        server.close()
        by = {r["name"]: r for r in results}
        s = by["sds-ship"]["docs_per_s"]
        print("sds-ship / curl ceiling: %.2f" % (s / by["curl"]["docs_per_s"]))
        if "elasticdump" in by and by["elasticdump"]["docs_per_s"]:
            print("sds-ship / elasticdump:  %.1f" % (s / by["elasticdump"]["docs_per_s"]))
        # Is the server the bottleneck? Its capacity on one core (documents per CPU-second of
        # the server) must be well above the rates measured, and its share of a core well below 1.
        for r in results:
            cap = 1e6 / r["server_us_per_doc"] if r["server_us_per_doc"] else 0
            print("server during %-11s %3.0f%% of a core, %.2f us CPU/doc -> capacity %.0f docs/s per core = %.1fx the "
                  "rate measured; server %2.0f%% of the CPU time used (client + server %.2f of %d CPUs)"
                  % (r["name"], 100 * r["server_cpu_share"], r["server_us_per_doc"], cap,
                     cap / r["docs_per_s"] if r["docs_per_s"] else 0,
                     100 * r["server_cpu_seconds"] / max(1e-9, r["server_cpu_seconds"] + r["client_cpu_seconds"]),
                     (r["server_cpu_seconds"] + r["client_cpu_seconds"]) / r["seconds"], os.cpu_count()))
        for r in results:
            if r["docs"] != r["expected"]:
                print("WARNING: %s loaded %d of %d documents" % (r["name"], r["docs"], r["expected"]))
            if r["server_cpu_share"] > 0.85:
                print("NOTE: the server used %.0f%% of a core during %s: that run is bounded by the server"
                      % (100 * r["server_cpu_share"], r["name"]))
        print(json.dumps(results))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
