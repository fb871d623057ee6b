#!/usr/bin/env python3
"""sds-enrich benchmark (reports only; not a ctest test).

1M normalized records whose addresses repeat as in real logs (a Zipf-like draw from a pool of
addresses inside the MaxMind test databases' networks), City + ASN databases, and 1M generated
indicators (IPs, CIDRs, domains, URLs, hashes). Reports records/s, intel load time, peak RSS and
the store's size against the indicators' raw bytes, next to:
  * the ceiling: a bare libmaxminddb loop (City + ASN lookups and the fields sds-enrich reads)
    over the same addresses, compiled here from bench_mmdb_loop.c;
  * mmdblookup (one process per lookup, measured on a sample and extrapolated).
Usage: bench_enrich.py BUILD_DIR [--records N] [--indicators N]
"""
import argparse
import ipaddress
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MMDB = os.path.join(SRC, "tests", "data", "mmdb")
CITY = os.path.join(MMDB, "GeoIP2-City-Test.mmdb")
ASN = os.path.join(MMDB, "GeoLite2-ASN-Test.mmdb")
SHARED = os.path.join(SRC, "..", "shared", "testdata", "mmdb", "source-data")


def pool_of_addresses(n, rnd):
    nets = []
    for name in ("GeoIP2-City-Test.json", "GeoLite2-ASN-Test.json"):
        path = os.path.join(SHARED, name)
        if os.path.exists(path):
            for entry in json.load(open(path)):
                for cidr in entry:
                    nets.append(ipaddress.ip_network(cidr))
    if not nets:
        nets = [ipaddress.ip_network("89.160.20.112/28"), ipaddress.ip_network("81.2.69.0/24")]
    pool = []
    while len(pool) < n:
        net = rnd.choice(nets)
        off = rnd.randrange(min(net.num_addresses, 1 << 20))
        a = net.network_address + off
        if a.is_global:
            pool.append(str(a))
    return pool


def zipf_index(rnd, n):
    return min(int(rnd.paretovariate(1.1)) - 1, n - 1)


def gen_records(path, n, pool, rnd):
    with open(path, "w") as f:
        for i in range(n):
            s = pool[zipf_index(rnd, len(pool))]
            d = pool[zipf_index(rnd, len(pool))]
            f.write('{"@timestamp":"2026-11-25T12:00:00.000Z","event":{"kind":"event","category":["network"],'
                    '"dataset":"aws.vpcflow"},"source":{"ip":"%s","port":%d},"destination":{"ip":"%s","port":443},'
                    '"dns":{"question":{"name":"host%d.example.com"}},"related":{"ip":["%s","%s"]}}\n'
                    % (s, 1024 + i % 60000, d, i % 5000, s, d))


HASH_KINDS = (("md5", 128), ("sha1", 160), ("sha256", 256))


def gen_indicators(path, n, rnd):
    """Writes n indicators; returns how many of each kind, and one value of each hash kind."""
    kinds = {"ipv4": 0, "cidr": 0, "domain": 0, "url": 0, "md5": 0, "sha1": 0, "sha256": 0}
    sample = {}
    with open(path, "w") as f:
        f.write("# generated indicators for the sds-enrich benchmark\n")
        for i in range(n):
            k = rnd.random()
            if k < 0.40:
                kinds["ipv4"] += 1
                f.write("%d.%d.%d.%d\n" % (rnd.randrange(1, 224), rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
            elif k < 0.50:
                kinds["cidr"] += 1
                p = rnd.choice((16, 20, 24, 28))
                net = ipaddress.ip_network((rnd.randrange(1 << 24, 224 << 24), p), strict=False)
                f.write(str(net) + "\n")
            elif k < 0.75:
                kinds["domain"] += 1
                f.write("%s%d.%s\n" % ("".join(rnd.choice("abcdefghijklmnop") for _ in range(8)), i,
                                       rnd.choice(("com", "net", "org", "info", "xyz"))))
            elif k < 0.85:
                kinds["url"] += 1
                f.write("http://%s%d.com/%s/gate.php\n" % ("".join(rnd.choice("qrstuvwxyz") for _ in range(6)), i,
                                                          "".join(rnd.choice("abcdef0123") for _ in range(8))))
            else:
                # File hashes of every kind the issue lists, in both cases (feeds publish both).
                name, bits = rnd.choice(HASH_KINDS)
                v = "%0*x" % (bits // 4, rnd.getrandbits(bits))
                if rnd.random() < 0.2:
                    v = v.upper()
                kinds[name] += 1
                sample.setdefault(name, v)
                f.write(v + "\n")
    return kinds, sample


def run(args, stdin_path=None, stdout=subprocess.DEVNULL):
    t0 = time.monotonic()
    with open(stdin_path or os.devnull, "rb") as fin:
        p = subprocess.Popen(args, stdin=fin, stdout=stdout, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read()
    dt = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    stats = {}
    for line in err.decode(errors="replace").splitlines():
        if line.startswith('{"tool"'):
            stats = json.loads(line)
    if p.returncode not in (0,):
        sys.stderr.write(err.decode(errors="replace")[-2000:])
        raise SystemExit(f"failed: {args}")
    run.cpu = round(ru.ru_utime + ru.ru_stime, 3)
    return dt, ru.ru_maxrss * 1024, stats


LOOP_C = r'''
#include <maxminddb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
int main(int argc, char** argv) {
    MMDB_s city, asn;
    if (MMDB_open(argv[1], MMDB_MODE_MMAP, &city) || MMDB_open(argv[2], MMDB_MODE_MMAP, &asn)) return 2;
    FILE* f = fopen(argv[3], "r");
    char line[256];
    long n = 0, found = 0;
    struct timespec a, b, ca, cb;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        int gai, err;
        MMDB_lookup_result_s r = MMDB_lookup_string(&city, line, &gai, &err);
        MMDB_entry_data_s d;
        if (r.found_entry) {
            if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data) found++;
            MMDB_get_value(&r.entry, &d, "city", "names", "en", NULL);
            MMDB_get_value(&r.entry, &d, "location", "latitude", NULL);
            MMDB_get_value(&r.entry, &d, "location", "longitude", NULL);
        }
        MMDB_lookup_result_s s = MMDB_lookup_string(&asn, line, &gai, &err);
        if (s.found_entry) MMDB_get_value(&s.entry, &d, "autonomous_system_number", NULL);
        n++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
    printf("%ld %ld %.6f %.6f\n", n, found, (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
           (cb.tv_sec - ca.tv_sec) + (cb.tv_nsec - ca.tv_nsec) / 1e9);
    return 0;
}
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--indicators", type=int, default=1_000_000)
    ap.add_argument("--mmdblookup-sample", type=int, default=1000)
    a = ap.parse_args()
    enrich = os.path.join(a.build, "sds-enrich")
    rnd = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        recs, inds = os.path.join(tmp, "records.ndjson"), os.path.join(tmp, "indicators.txt")
        pool = pool_of_addresses(20000, rnd)
        gen_records(recs, a.records, pool, rnd)
        kinds, hash_sample = gen_indicators(inds, a.indicators, rnd)
        # The load-only run reads one record per hash kind, each carrying a generated hash: it
        # checks that md5, sha1 and sha256 indicators are all loaded and matched.
        hash_recs = os.path.join(tmp, "hash_records.ndjson")
        with open(hash_recs, "w") as f:
            for name, v in sorted(hash_sample.items()):
                f.write('{"event":{"kind":"event"},"file":{"hash":{"%s":"%s"}}}\n' % (name, v.lower()))
        # Addresses in record order for the ceiling loop.
        addrs = os.path.join(tmp, "addresses.txt")
        with open(recs) as fin, open(addrs, "w") as fout:
            for line in fin:
                d = json.loads(line)
                fout.write(d["source"]["ip"] + "\n" + d["destination"]["ip"] + "\n")
        rec_bytes, ind_bytes = os.path.getsize(recs), os.path.getsize(inds)
        res = {"records": a.records, "records_bytes": rec_bytes, "indicators": a.indicators,
               "indicators_raw_bytes": ind_bytes, "indicator_kinds": kinds}

        dt, rss, st = run([enrich, "--stats", "--geoip", CITY, "--asn", ASN], recs)
        res["geo_only"] = {"seconds": round(dt, 3), "cpu_seconds": run.cpu, "records_per_s": round(a.records / dt), "peak_rss_mb": round(rss / 2**20, 1),
                           "geo_cache_hits": st.get("geo_cache_hits"), "geo_lookups": st.get("geo_lookups")}
        dt, rss, st = run([enrich, "--stats", "--intel", inds], hash_recs)
        res["intel_load_only"] = {"seconds": round(dt, 3), "cpu_seconds": run.cpu, "peak_rss_mb": round(rss / 2**20, 1),
                                  "indicators_stored": st.get("indicators"),
                                  "store_bytes": st.get("intel_store_bytes"),
                                  "store_vs_raw": round(st.get("intel_store_bytes", 0) / ind_bytes, 2),
                                  # the allocator's count of what loading kept (cross-check)
                                  "loaded_heap_bytes": st.get("loaded_heap_bytes"),
                                  "loaded_heap_vs_raw": round(int(st.get("loaded_heap_bytes", 0)) / ind_bytes, 2),
                                  "hash_kinds_loaded": len(hash_sample),
                                  "hash_records_matched": st.get("records_matched")}
        load_s, load_cpu = dt, run.cpu
        dt, rss, st = run([enrich, "--stats", "--geoip", CITY, "--asn", ASN, "--intel", inds], recs)
        res["geo_asn_intel"] = {"seconds": round(dt, 3), "cpu_seconds": run.cpu, "records_per_s_incl_load": round(a.records / dt),
                                "records_per_s_excl_load": round(a.records / max(dt - load_s, 1e-9)),
                                "records_per_cpu_s_excl_load": round(a.records / max(run.cpu - load_cpu, 1e-9)),
                                "peak_rss_mb": round(rss / 2**20, 1), "matches": st.get("matches")}

        exe = os.path.join(tmp, "mmdb_loop")
        with open(exe + ".c", "w") as f:
            f.write(LOOP_C)
        subprocess.run(["cc", "-O2", "-o", exe, exe + ".c", "-lmaxminddb"], check=True)
        out = subprocess.run([exe, CITY, ASN, addrs], capture_output=True, text=True, check=True).stdout.split()
        n, secs, cpu = int(out[0]), float(out[2]), float(out[3])
        res["ceiling_libmaxminddb_loop"] = {"lookups": n, "seconds": round(secs, 3), "cpu_seconds": round(cpu, 3),
                                            "records_per_s": round(n / 2 / secs),
                                            "records_per_cpu_s": round(n / 2 / cpu)}
        # The machine may be shared: compare CPU time (wall-clock ratio too, for the record).
        res["ratio_vs_ceiling_cpu"] = round(res["geo_asn_intel"]["records_per_cpu_s_excl_load"] /
                                            res["ceiling_libmaxminddb_loop"]["records_per_cpu_s"], 2)
        res["ratio_vs_ceiling_wall"] = round(res["geo_asn_intel"]["records_per_s_excl_load"] /
                                             res["ceiling_libmaxminddb_loop"]["records_per_s"], 2)
        sample = pool[: a.mmdblookup_sample]
        t0 = time.monotonic()
        for ip in sample:
            subprocess.run(["mmdblookup", "--file", CITY, "--ip", ip], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["mmdblookup", "--file", ASN, "--ip", ip], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dt = time.monotonic() - t0
        res["mmdblookup"] = {"sample_addresses": len(sample), "seconds": round(dt, 3),
                             "records_per_s": round(len(sample) / 2 / dt, 1)}
        print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
