#!/usr/bin/env python3
"""sds-fetch from S3 vs the AWS CLI, same run, same objects: --objects (default 1,000) gzipped
CloudTrail log objects in the Swift+s3api test server, read by

    sds-fetch --jobs 8 s3://BUCKET/ > /dev/null
    aws s3 cp --recursive s3://BUCKET/ DIR && zcat DIR/... | jq -c '.Records[]' > /dev/null

Needs the Swift test server: run through ctest's fixture, or start it by hand with
tests/servers/swift/start.sh (this script finds it through tests/lib/sds_servers.py)."""
import argparse
import concurrent.futures
import gzip
import json
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


def upload(s3, bucket, n, seed=1):
    rng = random.Random(seed)
    acct = "123456789012"
    objects = []
    events = 0
    for i in range(n):
        day, hour = 1 + i // 24 % 28, i % 24
        t = f"2024-03-{day:02d}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
        recs = [bench_fetch.record(rng, acct, t) for _ in range(rng.randrange(50, 250))]
        events += len(recs)
        key = (f"AWSLogs/{acct}/CloudTrail/us-east-1/2024/03/{day:02d}/"
               f"{acct}_CloudTrail_us-east-1_202403{day:02d}T{hour:02d}00Z_{i:06d}.json.gz")
        objects.append((key, gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode(), mtime=0)))
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda kv: s3.put(bucket, kv[0], kv[1]), objects))
    return events, sum(len(d) for _, d in objects)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=8)
    a = ap.parse_args()
    srv = sds_servers.s3()
    s3 = sds_s3.S3Client(srv)
    bucket = sds_servers.unique_name("bench")
    s3.create_bucket(bucket)
    events, size = upload(s3, bucket, a.objects)
    fetch = os.path.join(lib_bench.bin_dir(), "sds-fetch")
    aws = shutil.which("aws")
    env = sds_servers.aws_env("s3")
    os.environ.update(env)
    with tempfile.TemporaryDirectory() as tmp:
        cpu = []
        count = subprocess.run(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs {a.jobs} s3://{bucket}/ | wc -l',
                               shell=True, capture_output=True, text=True, check=True).stdout.strip()
        t_sds, rss = lib_bench.measure(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs {a.jobs} s3://{bucket}/ > /dev/null',
                                       1, cpu)
        dl = os.path.join(tmp, "dl")
        t_cp, _ = lib_bench.measure(
            f'"{aws}" --endpoint-url {srv.endpoint} s3 cp --quiet --recursive s3://{bucket}/ "{dl}"', 1, cpu)
        t_jq, _ = lib_bench.measure(f'find "{dl}" -type f | sort | xargs zcat | jq -c ".Records[]" > /dev/null', 1, cpu)
        # The same objects one at a time: how much of the wall time is the server's.
        t_seq, _ = lib_bench.measure(f'"{fetch}" --endpoint-url {srv.endpoint} --jobs 1 s3://{bucket}/ > /dev/null',
                                     1, cpu)
        t_aws = t_cp + t_jq
        out = {"bench": "sds-fetch s3", "objects": a.objects, "events": events, "sds_fetch_records": int(count),
               "gz_mb": round(size / 2**20, 1), "jobs": a.jobs,
               "sds_fetch_s": round(t_sds, 2), "aws_cp_zcat_jq_s": round(t_aws, 2),
               "aws_cp_s": round(t_cp, 2), "zcat_jq_s": round(t_jq, 2), "sds_fetch_jobs1_s": round(t_seq, 2),
               "speedup": round(t_aws / t_sds, 1),
               "cpu_s": {"sds_fetch": round(cpu[0], 2), "aws_cp": round(cpu[1], 2), "zcat_jq": round(cpu[2], 2)},
               "cpu_speedup": round((cpu[1] + cpu[2]) / cpu[0], 1),
               "sds_fetch_peak_rss_mb": round(rss / 1024, 1)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
