#!/usr/bin/env python3
"""sds-fetch from S3 vs the AWS CLI, same run, same objects: --objects (default 1,000) gzipped
CloudTrail log objects in the Swift+s3api test server, read by

    sds-fetch --jobs 8 s3://BUCKET/ > /dev/null
    aws s3 cp --recursive s3://BUCKET/ DIR && zcat DIR/... | jq -c '.Records[]' > /dev/null

Object sizes (--records LO-HI, records per object, log-uniform; default 100-5000, mean ~1,250):
CloudTrail writes one object per account and region about every five minutes, so an object holds
what an account did in five minutes -- a few dozen records for a quiet account, thousands for a busy
one. The default stands for an organisation trail of mixed accounts; `--records 50-250` is the
quiet-account case (most of the time then goes to the server's per-request cost, which both
sides pay).

Needs the Swift test server: run through ctest's fixture, or start it by hand with
tests/servers/swift/start.sh (this script finds it through tests/lib/sds_servers.py). The Swift
proxy is one Python process by default and serves ~100-200 small GETs/s on this class of machine;
start it with SDS_SWIFT_PROXY_WORKERS=2 (forked workers sharing a memcached) so the server is less
of the bottleneck for both sides. The report prints sds-fetch --jobs 1 and the server's CPU time
so the server's share can be seen."""
import argparse
import concurrent.futures
import gzip
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
sys.path.insert(0, HERE)
import bench_fetch  # noqa: E402
import lib_bench  # noqa: E402
import sds_s3  # noqa: E402
import sds_servers  # noqa: E402


def upload(s3, bucket, n, lo, hi, seed=1):
    rng = random.Random(seed)
    acct = "123456789012"
    objects = []
    events = 0
    for i in range(n):
        day, hour = 1 + i // 24 % 28, i % 24
        t = f"2024-03-{day:02d}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
        count = int(math.exp(rng.uniform(math.log(lo), math.log(hi + 1))))
        recs = [bench_fetch.record(rng, acct, t) for _ in range(count)]
        events += len(recs)
        key = (f"AWSLogs/{acct}/CloudTrail/us-east-1/2024/03/{day:02d}/"
               f"{acct}_CloudTrail_us-east-1_202403{day:02d}T{hour:02d}00Z_{i:06d}.json.gz")
        objects.append((key, gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode(), mtime=0)))
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda kv: s3.put(bucket, kv[0], kv[1]), objects))
    return events, sum(len(d) for _, d in objects)


def swift_cpu():
    """User+system CPU seconds used so far by the Swift servers (proxy workers, memcached and the
    backends) of the state dir the bench talks to, read from /proc."""
    env = next((p for p in sds_servers._candidates("swift", "SDS_SWIFT_PORT", "18080") if os.path.isfile(p)), None)
    if env is None:
        return None
    state = os.path.dirname(os.path.realpath(env))
    pids = []
    with open(os.path.join(state, "swift.pids")) as f:
        pids += [int(line.split()[1]) for line in f if line.startswith("memcached ")]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if (state + "/etc/").encode() in f.read():
                        pids.append(int(d))
            except OSError:
                pass
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            pass
    return total


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--records", default="100-5000", help="records per object, LO-HI (log-uniform)")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.records.split("-"))
    srv = sds_servers.s3()
    s3 = sds_s3.S3Client(srv)
    bucket = sds_servers.unique_name("bench")
    s3.create_bucket(bucket)
    events, size = upload(s3, bucket, a.objects, lo, hi)
    fetch = os.path.join(lib_bench.bin_dir(), "sds-fetch")
    aws = shutil.which("aws")
    env = sds_servers.aws_env("s3")
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as tmp:
        cpu, server = [], []

        def timed(cmd):
            before = swift_cpu()
            t, rss = lib_bench.measure(cmd, 1, cpu)
            after = swift_cpu()
            server.append(None if before is None else round(after - before, 2))
            return t, rss
        count = subprocess.run(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs {a.jobs} s3://{bucket}/ | wc -l',
                               shell=True, capture_output=True, text=True, check=True).stdout.strip()
        t_sds, rss = timed(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs {a.jobs} s3://{bucket}/ > /dev/null')
        dl = os.path.join(tmp, "dl")
        t_cp, _ = timed(f'"{aws}" --endpoint-url {srv.endpoint} s3 cp --quiet --recursive s3://{bucket}/ "{dl}"')
        t_jq, _ = timed(f'find "{dl}" -type f | sort | xargs zcat | jq -c ".Records[]" > /dev/null')
        # The same objects one at a time: how much of the wall time is the server's.
        t_seq, _ = timed(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs 1 s3://{bucket}/ > /dev/null')
        t_aws = t_cp + t_jq
        out = {"bench": "sds-fetch s3", "objects": a.objects, "records_per_object": a.records, "events": events, "sds_fetch_records": int(count),
               "gz_mb": round(size / 2**20, 1), "jobs": a.jobs,
               "sds_fetch_s": round(t_sds, 2), "aws_cp_zcat_jq_s": round(t_aws, 2),
               "aws_cp_s": round(t_cp, 2), "zcat_jq_s": round(t_jq, 2), "sds_fetch_jobs1_s": round(t_seq, 2),
               "speedup": round(t_aws / t_sds, 1),
               "cpu_s": {"sds_fetch": round(cpu[0], 2), "aws_cp": round(cpu[1], 2), "zcat_jq": round(cpu[2], 2)},
               "cpu_speedup": round((cpu[1] + cpu[2]) / cpu[0], 1),
               "server_cpu_s": {"during_sds_fetch": server[0], "during_aws_cp": server[1],
                                "during_sds_fetch_jobs1": server[3]},
               "sds_fetch_peak_rss_mb": round(rss / 1024, 1)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
