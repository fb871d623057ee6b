#!/usr/bin/env python3
"""sds-normalize vs jq -c, gojq and a python3 json-module script doing an equivalent mapping of
the core ECS fields, on generated CloudTrail, ALB and VPC Flow input. Reports only (not a test):
MB/s per core (input bytes / CPU seconds of the whole pipeline), ratios by wall time and by CPU
time, peak RSS. sds-normalize runs with its default --threads (one per online core) and with
--threads 1; jq, gojq and python3 are single-threaded.

    python3 tests/bench/normalize/bench_normalize.py [--mb 64] [--formats cloudtrail,alb,vpcflow]

--mb 1024 gives the issue's ~1 GB run; the default is small enough for about a minute."""
import argparse
import json
import os
import random
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import lib_bench  # noqa: E402

JQ_CLOUDTRAIL = r'''{
  "@timestamp": .eventTime, "event": {"id": .eventID, "action": .eventName, "provider": .eventSource,
  "kind": "event", "outcome": (if .errorCode then "failure" else "success" end), "dataset": "aws.cloudtrail"},
  "cloud": {"region": .awsRegion, "account": {"id": .userIdentity.accountId}, "provider": "aws"},
  "source": {"address": .sourceIPAddress, "ip": (.sourceIPAddress | select(test("^[0-9.]+$|:")))},
  "user": {"name": (.userIdentity.sessionContext.sessionIssuer.userName // .userIdentity.userName), "id": .userIdentity.principalId},
  "user_agent": {"original": .userAgent},
  "aws": {"cloudtrail": {"event_version": .eventVersion, "user_identity": {"type": .userIdentity.type, "arn": .userIdentity.arn,
    "access_key_id": .userIdentity.accessKeyId}, "request_id": .requestID, "event_type": .eventType,
    "recipient_account_id": .recipientAccountId, "request_parameters": (.requestParameters | tojson),
    "flattened": {"request_parameters": .requestParameters, "response_elements": .responseElements}}},
  "related": {"user": [.userIdentity.userName | select(.)]}, "ecs": {"version": "8.11.0"}}'''

JQ_ALB = r'''.message | split(" ") as $f | ($f[3] | split(":")) as $c | {
  "@timestamp": $f[1], "aws": {"elb": {"type": $f[0], "name": $f[2], "request_processing_time": {"sec": ($f[5]|tonumber)},
  "backend_processing_time": {"sec": ($f[6]|tonumber)}, "response_processing_time": {"sec": ($f[7]|tonumber)},
  "backend": {"ip": ($f[4]|split(":")[0])}}},
  "source": {"ip": $c[0], "port": ($c[1]|tonumber)}, "http": {"response": {"status_code": ($f[8]|tonumber),
  "body": {"bytes": ($f[11]|tonumber)}}, "request": {"method": ($f[12]|ltrimstr("\""))}},
  "url": {"original": $f[13]}, "event": {"kind": "event", "dataset": "aws.elb_logs"}, "ecs": {"version": "8.11.0"}}'''

JQ_VPCFLOW = r'''.message | split(" ") as $f | {
  "@timestamp": ($f[11]|tonumber|todate), "aws": {"vpcflow": {"version": $f[0], "account_id": $f[1], "interface_id": $f[2],
  "action": $f[12], "log_status": $f[13]}}, "source": {"ip": $f[3], "port": ($f[5]|tonumber)},
  "destination": {"ip": $f[4], "port": ($f[6]|tonumber)}, "network": {"iana_number": $f[7], "packets": ($f[8]|tonumber),
  "bytes": ($f[9]|tonumber)}, "event": {"start": ($f[10]|tonumber|todate), "end": ($f[11]|tonumber|todate),
  "kind": "event", "dataset": "aws.vpcflow"}, "ecs": {"version": "8.11.0"}}'''

PY_SCRIPT = r'''
import json, sys, ipaddress, datetime
fmt = sys.argv[1]
out = sys.stdout
def ts(s): return datetime.datetime.fromtimestamp(int(s), datetime.timezone.utc).isoformat()
for line in sys.stdin:
    r = json.loads(line)
    if fmt == "cloudtrail":
        u = r.get("userIdentity") or {}
        src = r.get("sourceIPAddress")
        d = {"@timestamp": r.get("eventTime"),
             "event": {"id": r.get("eventID"), "action": r.get("eventName"), "provider": r.get("eventSource"), "kind": "event",
                       "outcome": "failure" if r.get("errorCode") else "success", "dataset": "aws.cloudtrail"},
             "cloud": {"region": r.get("awsRegion"), "account": {"id": u.get("accountId")}, "provider": "aws"},
             "source": {"address": src},
             "user": {"name": ((u.get("sessionContext") or {}).get("sessionIssuer") or {}).get("userName") or u.get("userName"),
                      "id": u.get("principalId")},
             "user_agent": {"original": r.get("userAgent")},
             "aws": {"cloudtrail": {"event_version": r.get("eventVersion"),
                     "user_identity": {"type": u.get("type"), "arn": u.get("arn"), "access_key_id": u.get("accessKeyId")},
                     "request_id": r.get("requestID"), "event_type": r.get("eventType"),
                     "recipient_account_id": r.get("recipientAccountId"),
                     "request_parameters": json.dumps(r.get("requestParameters")),
                     "flattened": {"request_parameters": r.get("requestParameters"), "response_elements": r.get("responseElements")}}},
             "ecs": {"version": "8.11.0"}}
        try:
            ipaddress.ip_address(src); d["source"]["ip"] = src
        except Exception:
            pass
    elif fmt == "alb":
        f = r["message"].split(" ")
        c = f[3].split(":")
        d = {"@timestamp": f[1], "aws": {"elb": {"type": f[0], "name": f[2], "request_processing_time": {"sec": float(f[5])},
             "backend_processing_time": {"sec": float(f[6])}, "response_processing_time": {"sec": float(f[7])},
             "backend": {"ip": f[4].split(":")[0]}}},
             "source": {"ip": c[0], "port": int(c[1])}, "http": {"response": {"status_code": int(f[8]), "body": {"bytes": int(f[11])}},
             "request": {"method": f[12].lstrip('"')}}, "url": {"original": f[13]},
             "event": {"kind": "event", "dataset": "aws.elb_logs"}, "ecs": {"version": "8.11.0"}}
    else:
        f = r["message"].split(" ")
        d = {"@timestamp": ts(f[11]), "aws": {"vpcflow": {"version": f[0], "account_id": f[1], "interface_id": f[2],
             "action": f[12], "log_status": f[13]}}, "source": {"ip": f[3], "port": int(f[5])},
             "destination": {"ip": f[4], "port": int(f[6])}, "network": {"iana_number": f[7], "packets": int(f[8]), "bytes": int(f[9])},
             "event": {"start": ts(f[10]), "end": ts(f[11]), "kind": "event", "dataset": "aws.vpcflow"}, "ecs": {"version": "8.11.0"}}
    out.write(json.dumps(d, separators=(",", ":")) + "\n")
'''

USERS = ["alice", "bob", "carol", "deploy-bot", "terraform"]
ACTIONS = [("iam.amazonaws.com", "CreateUser"), ("s3.amazonaws.com", "GetObject"), ("ec2.amazonaws.com", "DescribeInstances"),
           ("sts.amazonaws.com", "AssumeRole"), ("signin.amazonaws.com", "ConsoleLogin"), ("kms.amazonaws.com", "Decrypt")]


def cloudtrail_record(rng, i):
    src, name = rng.choice(ACTIONS)
    user = rng.choice(USERS)
    assumed = rng.random() < 0.4
    ui = {"type": "AssumedRole" if assumed else "IAMUser", "principalId": f"AIDA{rng.randrange(10**12):012d}",
          "arn": f"arn:aws:iam::123456789012:user/{user}", "accountId": "123456789012",
          "accessKeyId": f"AKIA{rng.randrange(10**12):012d}"}
    if assumed:
        ui["sessionContext"] = {"sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "userName": "Admin",
                                                  "arn": "arn:aws:iam::123456789012:role/Admin", "accountId": "123456789012"},
                                "attributes": {"creationDate": "2024-05-01T11:00:00Z", "mfaAuthenticated": "false"}}
    else:
        ui["userName"] = user
    r = {"eventVersion": "1.09", "userIdentity": ui, "eventTime": f"2024-05-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
         "eventSource": src, "eventName": name, "awsRegion": rng.choice(["us-east-1", "eu-west-1"]),
         "sourceIPAddress": rng.choice([f"203.0.113.{rng.randrange(256)}", f"198.51.100.{rng.randrange(256)}", "ec2.amazonaws.com"]),
         "userAgent": "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023 prompt/off command/s3.cp",
         "requestParameters": {"bucketName": f"logs-{rng.randrange(100)}", "key": f"AWSLogs/{i}.json.gz", "Host": "s3.amazonaws.com"},
         "responseElements": None if rng.random() < 0.5 else {"x-amz-request-charged": "requester"},
         "requestID": f"{rng.randrange(16**16):016X}", "eventID": f"{rng.randrange(16**32):032x}", "readOnly": True,
         "eventType": "AwsApiCall", "managementEvent": False, "recipientAccountId": "123456789012", "eventCategory": "Data",
         "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "s3.amazonaws.com"}}
    if rng.random() < 0.1:
        r["errorCode"] = "AccessDenied"
        r["errorMessage"] = "Access Denied"
    return json.dumps(r, separators=(",", ":"))


def alb_record(rng, i):
    line = (f'https 2024-05-01T12:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z app/my-lb/50dc6c495c0c9188 '
            f'203.0.113.{rng.randrange(256)}:{rng.randrange(1024, 65535)} 10.0.0.{rng.randrange(256)}:80 0.000 0.{rng.randrange(1000):03d} 0.000 '
            f'{rng.choice([200, 200, 200, 404, 500])} 200 {rng.randrange(2000)} {rng.randrange(100000)} '
            f'"GET https://www.example.com:443/path/{i}?q={rng.randrange(1000)} HTTP/1.1" "Mozilla/5.0 (X11; Linux x86_64)" '
            f'ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 '
            f'"Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" '
            f'1 2024-05-01T12:00:00.000000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" "TID_1234"')
    return json.dumps({"message": line})


def vpcflow_record(rng, i):
    t = 1714564800 + i
    line = (f"2 123456789010 eni-1235b8ca123456789 10.0.{rng.randrange(256)}.{rng.randrange(256)} 172.31.{rng.randrange(256)}.{rng.randrange(256)} "
            f"{rng.randrange(1024, 65535)} {rng.choice([22, 443, 80, 3389])} 6 {rng.randrange(1, 100)} {rng.randrange(40, 100000)} {t} {t + 60} "
            f"{rng.choice(['ACCEPT', 'REJECT'])} OK")
    return json.dumps({"message": line})


GEN = {"cloudtrail": (cloudtrail_record, JQ_CLOUDTRAIL), "alb": (alb_record, JQ_ALB), "vpcflow": (vpcflow_record, JQ_VPCFLOW)}


def generate(path, fmt, mb):
    rng = random.Random(42)
    gen = GEN[fmt][0]
    target = mb * 1024 * 1024
    # Generate a block of distinct records and repeat it (generation in Python is slower than the tools).
    block = "".join(gen(rng, i) + "\n" for i in range(20000))
    with open(path, "w") as f:
        written = 0
        while written < target:
            f.write(block)
            written += len(block)
    return os.path.getsize(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=64, help="input size per format in MiB (1024 for the ~1 GB run)")
    ap.add_argument("--formats", default="cloudtrail,alb,vpcflow")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    tool = os.path.join(lib_bench.bin_dir(), "sds-normalize")
    with tempfile.TemporaryDirectory() as tmp:
        py = os.path.join(tmp, "map.py")
        with open(py, "w") as f:
            f.write(PY_SCRIPT)
        for fmt in args.formats.split(","):
            data = os.path.join(tmp, f"{fmt}.ndjson")
            size = generate(data, fmt, args.mb)
            jqf = os.path.join(tmp, f"{fmt}.jq")
            with open(jqf, "w") as f:
                f.write(GEN[fmt][1])
            runs = [("sds-normalize", f"{tool} --format {fmt} --ingested-time 2025-01-01T00:00:00Z < {data} > /dev/null"),
                    ("sds --threads 1", f"{tool} --threads 1 --format {fmt} --ingested-time 2025-01-01T00:00:00Z < {data} > /dev/null")]
            if shutil.which("jq"):
                runs.append(("jq -c", f"jq -c -f {jqf} < {data} > /dev/null"))
            if shutil.which("gojq"):
                runs.append(("gojq -c", f"gojq -c -f {jqf} < {data} > /dev/null"))
            runs.append(("python3 json", f"python3 {py} {fmt} < {data} > /dev/null"))
            print(f"\n{fmt}: {size / 2**20:.0f} MiB input")
            print(f"  {'tool':<16}{'wall s':>8}{'cpu s':>8}{'MB/s/core':>11}{'peak RSS MiB':>14}"
                  f"{'sds x (wall)':>14}{'sds x (cpu)':>13}")
            base_wall = base_cpu = None
            for name, cmd in runs:
                cpu = []
                wall, rss = lib_bench.measure(cmd, repeat=args.repeat, cpu=cpu)
                mbps = size / 1e6 / max(cpu[0], 1e-9)
                if base_wall is None:
                    base_wall, base_cpu = wall, cpu[0]
                print(f"  {name:<16}{wall:>8.2f}{cpu[0]:>8.2f}{mbps:>11.1f}{rss / 1024:>14.1f}"
                      f"{wall / base_wall:>13.1f}x{cpu[0] / base_cpu:>12.1f}x", flush=True)


if __name__ == "__main__":
    main()
