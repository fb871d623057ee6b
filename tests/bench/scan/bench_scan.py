#!/usr/bin/env python3
"""sds-scan vs nmap and sslscan, on 127.0.0.1 only (reports; not a test).

1. All 65,535 TCP ports of 127.0.0.1 with ~20 listeners opened here: `sds-scan -p -` vs
   `nmap -sT -p- -T4 127.0.0.1`, same run; the open sets must be equal.
2. TLS facts of one `openssl s_server` endpoint: `sds-scan --tls` vs `sslscan`.

    python3 tests/bench/scan/bench_scan.py [--listeners 20] [--repeat 3]
"""
import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lib_bench  # noqa: E402

HOST = "127.0.0.1"


def timed(argv):
    return timed_cpu(argv)[0::2]


def timed_cpu(argv):
    """(wall seconds, system CPU seconds, CompletedProcess) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dt, after.ru_stime - before.ru_stime, r


def nmap_open(out):
    m = re.search(r"Ports: (.*?)(\t|$)", out, re.M)
    if not m:
        return set()
    return {int(p.split("/")[0]) for p in m.group(1).split(", ") if "/open/" in p}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listeners", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    scan = os.path.join(lib_bench.bin_dir(), "sds-scan")
    ls = []
    for _ in range(a.listeners):
        s = socket.socket()
        s.bind((HOST, 0))
        s.listen(4096)  # never accepted: each scan leaves one connection queued
        ls.append(s)
    mine = {s.getsockname()[1] for s in ls}

    print(f"## all 65,535 ports of {HOST}, {a.listeners} listeners of ours (best of {a.repeat})")
    rows = []
    variants = [
        ("sds-scan (--rate 0, no banners)", [scan, "-p", "-", "--rate", "0", "--concurrency", "1024",
                                              "--banner-timeout", "0", "--no-tls", HOST]),
        ("sds-scan (same, --threads 1)", [scan, "-p", "-", "--rate", "0", "--concurrency", "1024", "--threads", "1",
                                           "--banner-timeout", "0", "--no-tls", HOST]),
        ("sds-scan (--rate 0, --concurrency 4096)", [scan, "-p", "-", "--rate", "0", "--concurrency", "4096",
                                                      "--banner-timeout", "0", "--no-tls", HOST]),
        ("sds-scan (--rate 0, banners 1s)", [scan, "-p", "-", "--rate", "0", "--concurrency", "1024",
                                              "--no-tls", HOST]),
        ("sds-scan (defaults: --rate 2000)", [scan, "-p", "-", "--no-tls", HOST]),
    ]
    print(f"{os.cpu_count()} cores; wall time and system CPU are each the best of the runs")
    results = {}
    if shutil.which("nmap"):
        best, sys_best, out = None, None, None
        for _ in range(a.repeat):
            dt, st, r = timed_cpu(["nmap", "-sT", "-p-", "-T4", "-n", "-oG", "-", HOST])
            best = dt if best is None else min(best, dt)
            sys_best = st if sys_best is None else min(sys_best, st)
            out = r.stdout
        results["nmap -sT -p- -T4"] = (best, sys_best, nmap_open(out))
    for name, argv in variants:
        best, sys_best, found = None, None, None
        for _ in range(a.repeat if "defaults" not in name else 1):
            dt, st, r = timed_cpu(argv)
            best = dt if best is None else min(best, dt)
            sys_best = st if sys_best is None else min(sys_best, st)
            found = {json.loads(l)["destination"]["port"] for l in r.stdout.splitlines() if l.strip()}
        results[name] = (best, sys_best, found)
    ref = results.get("nmap -sT -p- -T4")
    for name, (dt, st, found) in results.items():
        same = "" if ref is None else ("same open set as nmap" if found == ref[2] else
                                       f"DIFFERS from nmap: +{sorted(found - ref[2])} -{sorted(ref[2] - found)}")
        ratio = f"{ref[0] / dt:5.2f}x nmap" if ref else ""
        print(f"{name:40s} {dt:7.2f} s  sys {st:5.2f} s  {len(found):3d} open  {ratio}  {same}")
        assert mine <= found, f"{name} missed listeners: {sorted(mine - found)}"
    for s in ls:
        s.close()

    print("\n## TLS facts of one endpoint")
    d = tempfile.mkdtemp()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{d}/k.pem", "-out",
                    f"{d}/c.pem", "-days", "30", "-subj", "/CN=localhost"], capture_output=True, check=True)
    probe = socket.socket()
    probe.bind((HOST, 0))
    port = probe.getsockname()[1]
    probe.close()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", f"{HOST}:{port}", "-cert", f"{d}/c.pem", "-key",
                            f"{d}/k.pem", "-quiet", "-cipher", "DEFAULT:@SECLEVEL=0"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    try:
        t_sds = min(timed([scan, "--tls", "--banner-timeout", "0", "-p", str(port), HOST])[0] for _ in range(a.repeat))
        print(f"sds-scan --tls (version probes 1.0-1.3, chain) {t_sds:6.3f} s")
        if shutil.which("sslscan"):
            t_ssl = min(timed(["sslscan", "--no-colour", f"{HOST}:{port}"])[0] for _ in range(a.repeat))
            print(f"sslscan (full cipher enumeration)              {t_ssl:6.3f} s   sds-scan is {t_ssl / t_sds:.1f}x faster")
    finally:
        srv.kill()
        srv.wait()
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
