#!/usr/bin/env python3
"""sds-fetch vs `zcat | jq -c '.Records[]'` and vs bare `zcat > /dev/null`, same run, same files.

Generates (seeded) gzipped CloudTrail log files with a realistic field mix — IAM users, assumed
roles, AWS services; S3 data events, EC2/IAM/STS management events, console logins; errors — in
CloudTrail's own layout, about --mb megabytes of .json.gz (default 200, as the issue asks)."""
import argparse
import gzip
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lib_bench  # noqa: E402

EVENTS = [
    ("s3.amazonaws.com", "GetObject", "Data"), ("s3.amazonaws.com", "PutObject", "Data"),
    ("s3.amazonaws.com", "ListObjects", "Data"), ("ec2.amazonaws.com", "DescribeInstances", "Management"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "Management"), ("iam.amazonaws.com", "ListRoles", "Management"),
    ("sts.amazonaws.com", "AssumeRole", "Management"), ("signin.amazonaws.com", "ConsoleLogin", "Management"),
    ("kms.amazonaws.com", "Decrypt", "Management"), ("lambda.amazonaws.com", "Invoke", "Data"),
]
AGENTS = ["aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2", "Boto3/1.34.2 md/Botocore#1.34.2 ua/2.0 os/linux",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "aws-sdk-go/1.48.0 (go1.21.5; linux; amd64)", "cloudformation.amazonaws.com"]


def record(rng, acct, t):
    src, name, cat = rng.choice(EVENTS)
    user = f"user{rng.randrange(500)}"
    ip = f"{rng.choice([52, 54, 3, 18, 203, 198])}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    role = rng.random() < 0.5
    ident = ({"type": "AssumedRole", "principalId": f"AROA{rng.randrange(10**12):012d}:{user}",
              "arn": f"arn:aws:sts::{acct}:assumed-role/Admin/{user}", "accountId": acct,
              "accessKeyId": f"ASIA{rng.randrange(10**12):016d}",
              "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": f"arn:aws:iam::{acct}:role/Admin",
                                                   "accountId": acct, "userName": "Admin"},
                                 "attributes": {"creationDate": t, "mfaAuthenticated": "false"}}}
             if role else {"type": "IAMUser", "principalId": f"AIDA{rng.randrange(10**12):012d}", "arn": f"arn:aws:iam::{acct}:user/{user}",
                           "accountId": acct, "accessKeyId": f"AKIA{rng.randrange(10**12):016d}", "userName": user})
    r = {"eventVersion": "1.09", "userIdentity": ident, "eventTime": t, "eventSource": src, "eventName": name,
         "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": rng.choice(AGENTS),
         "requestParameters": {"bucketName": f"bucket-{rng.randrange(40)}", "key": f"logs/{rng.randrange(10**6)}.gz",
                               "Host": "s3.us-east-1.amazonaws.com"} if src.startswith("s3") else {"maxResults": rng.randrange(1, 1000)},
         "responseElements": None, "requestID": f"{rng.getrandbits(64):016X}",
         "eventID": "%08x-%04x-%04x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(16),
                                                   rng.getrandbits(16), rng.getrandbits(48)),
         "readOnly": name.startswith(("Get", "List", "Describe")), "eventType": "AwsApiCall", "managementEvent": cat == "Management",
         "recipientAccountId": acct, "eventCategory": cat,
         "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": f"{src.split('.')[0]}.us-east-1.amazonaws.com"}}
    if rng.random() < 0.05:
        r["errorCode"], r["errorMessage"] = "AccessDenied", "User is not authorized to perform this operation"
    return r


def generate(folder, target_mb, seed=1):
    rng = random.Random(seed)
    acct = "123456789012"
    total = files = events = 0
    while total < target_mb * 1024 * 1024:
        hour = files % 24
        day = 1 + files // 24 % 28
        t = f"2024-03-{day:02d}T{hour:02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}Z"
        recs = [record(rng, acct, t) for _ in range(rng.randrange(2000, 6000))]
        d = os.path.join(folder, "AWSLogs", acct, "CloudTrail", "us-east-1", "2024", "03", f"{day:02d}")
        os.makedirs(d, exist_ok=True)
        data = gzip.compress(json.dumps({"Records": recs}, separators=(",", ":")).encode(), compresslevel=6, mtime=0)
        with open(os.path.join(d, f"{acct}_CloudTrail_us-east-1_202403{day:02d}T{hour:02d}00Z_{files:06d}.json.gz"), "wb") as f:
            f.write(data)
        total += len(data)
        files += 1
        events += len(recs)
    return files, events, total


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mb", type=int, default=200, help="gzipped megabytes to generate")
    ap.add_argument("--dir", help="keep the generated files here (default: a temp dir)")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    fetch = os.path.join(lib_bench.bin_dir(), "sds-fetch")
    with tempfile.TemporaryDirectory() as tmp:
        folder = a.dir or os.path.join(tmp, "data")
        if not os.path.exists(os.path.join(folder, "AWSLogs")):
            files, events, size = generate(folder, a.mb)
        else:
            files = sum(len(f) for _, _, f in os.walk(folder))
            events, size = None, sum(os.path.getsize(os.path.join(r, x)) for r, _, fs in os.walk(folder) for x in fs)
        listing = os.path.join(tmp, "files.txt")
        with open(listing, "w") as f:
            for r, _, fs in sorted(os.walk(folder)):
                for x in sorted(fs):
                    f.write(os.path.join(r, x) + "\n")
        cpu = []
        t_sds, rss_sds = lib_bench.measure(f'"{fetch}" "{folder}" > /dev/null', a.repeat, cpu)
        t_zcat, _ = lib_bench.measure(f'xargs -a "{listing}" zcat > /dev/null', a.repeat, cpu)
        t_jq, _ = lib_bench.measure(f"xargs -a \"{listing}\" zcat | jq -c '.Records[]' > /dev/null", 1, cpu)
        out = {"bench": "sds-fetch local", "files": files, "events": events, "gz_mb": round(size / 2**20, 1),
               "sds_fetch_s": round(t_sds, 2), "zcat_s": round(t_zcat, 2), "zcat_jq_s": round(t_jq, 2),
               "speedup_vs_jq": round(t_jq / t_sds, 1), "ratio_vs_zcat": round(t_zcat / t_sds, 2),
               "cpu_s": {"sds_fetch": cpu[0], "zcat": cpu[1], "zcat_jq": cpu[2]},
               "cpu_speedup_vs_jq": round(cpu[2] / cpu[0], 1), "cpu_ratio_vs_zcat": round(cpu[1] / cpu[0], 2),
               "sds_fetch_peak_rss_mb": round(rss_sds / 1024, 1)}
        print(json.dumps(out))


if __name__ == "__main__":
    main()
